/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Journal entries of net/ and their undo handlers.  An entry is written
 * before its change is made, so every handler first checks that the
 * change happened and that what it is about to undo is still ours.
 *
 *   net.link      {ifname, kind, mac, owner}   a link vmrun created
 *   net.vlan      {ifname, owner}              a VLAN sub-interface we use
 *   net.bridge    {ifname, owner}              a bridge we use
 *   net.updown    {ifname, up}                 a link's old IFF_UP state
 *   net.parent    {ifname, ifindex, mark}      a macvtap parent vmrun raised (and
 *                                              marked with the altname mark)
 *   net.node      {path, major, minor}         a device node we made
 *   net.node_access {path, major, minor, uid, gid, mode}
 *                                              a node's owner and mode before
 *                                              we gave it to qemu_user
 *   pci.driver    {bdf, driver|null}           the driver before vfio-pci
 *   sriov.numvfs  {pf, numvfs, autoprobe}      the PF's old VF count
 *   sriov.vf      {pf, pfname, index, mac, vlan, trust, spoofchk}
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/base/caps.h"
#include "lib/base/util.h"
#include "net/internal.h"

static void nl_closep(struct vmr_nl *nl)
{
	net_nl_close(nl);
}
#define _cleanup_nl_ _cleanup_(nl_closep)

int net_record(struct net_rec *rec, json_t *entry, struct vmr_error **err)
{
	int r = 0;

	if (!entry)
		return vmr_error_set(err, ENOMEM, "build journal entry");
	if (rec && rec->j)
		r = vmr_journal_record(rec->j, entry, err);
	if (r == 0 && rec && json_is_array(rec->done))
		json_array_append(rec->done, entry);
	json_decref(entry);
	return r;
}

static const char *str(const json_t *e, const char *key)
{
	return json_string_value(json_object_get(e, key));
}

/*
 * Open a socket and look up the entry's "ifname": 1 with *l when the link
 * exists, 0 when it is gone (nothing to undo), negative on failure.
 */
static int entry_link(const json_t *e, struct vmr_nl *nl, struct net_link *l,
		      struct vmr_error **err)
{
	const char *ifname = str(e, "ifname");
	int r;

	if (!ifname)
		return vmr_error_set(err, EINVAL, "bad %s journal entry: no ifname",
				     str(e, "type"));
	r = net_nl_open(nl, err);
	if (r < 0)
		return r;
	return net_link_lookup(nl, ifname, 0, l, err);
}

int net_undo_link(const json_t *e, void *ctx, struct vmr_error **err)
{
	_cleanup_nl_ struct vmr_nl nl = {0};
	const char *owner = str(e, "owner"), *kind = str(e, "kind"), *macs = str(e, "mac");
	struct net_link l;
	struct vmr_mac mac;
	bool ours;
	int r;

	(void)ctx;
	if (!owner || !macs || vmr_mac_parse(macs, &mac) < 0)
		return vmr_error_set(err, EINVAL, "bad net.link journal entry");
	r = entry_link(e, &nl, &l, err);
	if (r <= 0)
		return r;
	/*
	 * The MAC is ours to choose and nobody changes it on the host side, so
	 * it must match.  The mark is set right after creation, so a link of
	 * ours may still lack it: then its kind must match too.
	 */
	ours = l.has_mac && vmr_mac_equal(&l.mac, &mac) &&
	       (streq(l.alias, owner) || (!l.alias[0] && kind && streq(l.kind, kind)));
	if (!ours)
		return 0;
	r = net_link_delete_raw(&nl, l.ifindex);
	if (r < 0)
		return net_nl_fail(&nl, r, err, "delete %s '%s'", l.kind[0] ? l.kind : "link",
				   l.name);
	return 0;
}

int net_undo_shared(const json_t *e, void *ctx, struct vmr_error **err)
{
	_cleanup_nl_ struct vmr_nl nl = {0};
	const char *kind = streq(str(e, "type"), "net.vlan") ? "vlan" : "bridge";
	struct net_link l;
	size_t uppers;
	int r;

	(void)ctx;
	r = entry_link(e, &nl, &l, err);
	if (r <= 0)
		return r;
	/* made by vmrun (any guest) and still what it was; others may still use it */
	if (!startswith(l.alias, VMR_NET_OWNER_PREFIX) || !streq(l.kind, kind))
		return 0;
	r = net_link_count_uppers(&nl, l.ifindex, &uppers, err);
	if (r < 0)
		return r;
	if (uppers)
		return 0;
	r = net_link_delete_raw(&nl, l.ifindex);
	if (r < 0)
		return net_nl_fail(&nl, r, err, "delete %s '%s'", l.kind, l.name);
	return 0;
}

int net_undo_parent(const json_t *e, void *ctx, struct vmr_error **err)
{
	_cleanup_nl_ struct vmr_nl nl = {0};
	const char *mark = str(e, "mark");
	json_int_t ifindex = json_integer_value(json_object_get(e, "ifindex"));
	struct net_link l, m;
	size_t uppers;
	int r;

	(void)ctx;
	if (!mark || ifindex <= 0 || ifindex > INT32_MAX)
		return vmr_error_set(err, EINVAL, "bad net.parent journal entry");
	r = net_nl_open(&nl, err);
	if (r < 0)
		return r;
	/* gone, or no longer marked (another vmrun put it down already) */
	r = net_link_lookup(&nl, mark, 0, &m, err);
	if (r <= 0 || m.ifindex != (int)ifindex)
		return r < 0 ? r : 0;
	r = net_link_lookup(&nl, NULL, (int)ifindex, &l, err);
	if (r <= 0)
		return r;
	/* the journal replays backwards: our own links on it are gone by now */
	r = net_link_count_uppers(&nl, l.ifindex, &uppers, err);
	if (r < 0 || uppers)
		return r;
	r = net_link_change_raw(&nl, l.ifindex, NULL, 0, -1, 0, NULL);
	if (r < 0)
		return net_nl_fail(&nl, r, err, "put '%s' back down", l.name);
	/* another vmrun put a link on it meanwhile: it needs it up */
	r = net_link_count_uppers(&nl, l.ifindex, &uppers, err);
	if (r < 0)
		return r;
	if (uppers) {
		r = net_link_change_raw(&nl, l.ifindex, NULL, 0, -1, 1, NULL);
		return r < 0 ? net_nl_fail(&nl, r, err, "bring up '%s' again", l.name) : 0;
	}
	r = net_link_altname_raw(&nl, l.ifindex, mark, false);
	if (r < 0 && nl.errnum != ENOENT && nl.errnum != ENODEV)
		return net_nl_fail(&nl, r, err, "remove the mark '%s' of '%s'", mark, l.name);
	return 0;
}

static int undo_updown(const json_t *e, void *ctx, struct vmr_error **err)
{
	_cleanup_nl_ struct vmr_nl nl = {0};
	struct net_link l;
	int r;

	(void)ctx;
	r = entry_link(e, &nl, &l, err);
	if (r <= 0)
		return r;
	r = net_link_change_raw(&nl, l.ifindex, NULL, 0, -1,
				json_is_true(json_object_get(e, "up")) ? 1 : 0, NULL);
	if (r < 0)
		return net_nl_fail(&nl, r, err, "restore the state of '%s'", l.name);
	return 0;
}

int net_undo_node(const json_t *e, void *ctx, struct vmr_error **err)
{
	const char *path = str(e, "path");
	json_int_t maj = json_integer_value(json_object_get(e, "major"));
	json_int_t min = json_integer_value(json_object_get(e, "minor"));
	struct stat st;

	(void)ctx;
	if (!path)
		return vmr_error_set(err, EINVAL, "bad net.node journal entry");
	/* gone is fine; unreachable (EACCES) is not: the node would stay */
	if (lstat(path, &st) < 0 && errno != ENOENT && errno != ENOTDIR)
		return vmr_error_set(err, errno, "remove '%s'", path);
	if (lstat(path, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev((unsigned)maj, (unsigned)min))
		return 0;
	if (unlink(path) < 0 && errno != ENOENT)
		return vmr_error_set(err, errno, "remove '%s'", path);
	return 0;
}

int net_undo_node_access(const json_t *e, void *ctx, struct vmr_error **err)
{
	const char *path = str(e, "path");
	json_int_t maj = json_integer_value(json_object_get(e, "major"));
	json_int_t min = json_integer_value(json_object_get(e, "minor"));
	json_t *uid = json_object_get(e, "uid"), *gid = json_object_get(e, "gid");
	json_t *mode = json_object_get(e, "mode");
	struct stat st;

	(void)ctx;
	if (!path || !json_is_integer(uid) || !json_is_integer(gid) || !json_is_integer(mode))
		return vmr_error_set(err, EINVAL, "bad net.node_access journal entry");
	if (lstat(path, &st) < 0 && errno != ENOENT && errno != ENOTDIR)
		return vmr_error_set(err, errno, "restore the owner of '%s'", path);
	/* gone, or another device by now: nothing of ours to restore */
	if (lstat(path, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev((unsigned)maj, (unsigned)min))
		return 0;
	if (chown(path, (uid_t)json_integer_value(uid), (gid_t)json_integer_value(gid)) < 0)
		return vmr_error_set(err, errno, "restore the owner of '%s'", path);
	if (chmod(path, (mode_t)json_integer_value(mode) & 07777) < 0)
		return vmr_error_set(err, errno, "restore the mode of '%s'", path);
	return 0;
}

int net_undo_pci(const json_t *e, void *ctx, struct vmr_error **err)
{
	const struct vmr_config *cfg = ctx;
	const char *bdf = str(e, "bdf");

	if (!bdf)
		return vmr_error_set(err, EINVAL, "bad pci.driver journal entry");
	return net_pci_restore(cfg, bdf, str(e, "driver"), err);
}

int net_undo_numvfs(const json_t *e, void *ctx, struct vmr_error **err)
{
	const struct vmr_config *cfg = ctx;
	const char *pf = str(e, "pf");
	json_int_t old = json_integer_value(json_object_get(e, "numvfs"));
	bool autoprobe = json_is_true(json_object_get(e, "autoprobe"));
	unsigned long cur;
	char num[32];
	int r;

	if (!pf)
		return vmr_error_set(err, EINVAL, "bad sriov.numvfs journal entry");
	if (!net_sysfs_exists(cfg, "bus/pci/devices/%s", pf))
		return 0;
	r = net_sysfs_read_uint(cfg, &cur, err, "bus/pci/devices/%s/sriov_numvfs", pf);
	if (r < 0)
		return r;
	if (cur != (unsigned long)old) {
		if (cur) {
			r = net_sysfs_write(cfg, "0", err, "bus/pci/devices/%s/sriov_numvfs", pf);
			if (r < 0)
				return vmr_error_wrap(err, "remove the VFs of '%s'", pf);
		}
		r = net_sysfs_write(cfg, autoprobe ? "1" : "0", err,
				    "bus/pci/devices/%s/sriov_drivers_autoprobe", pf);
		if (r < 0)
			return r;
		if (old > 0) {
			snprintf(num, sizeof(num), "%lld", (long long)old);
			r = net_sysfs_write(cfg, num, err, "bus/pci/devices/%s/sriov_numvfs", pf);
			if (r < 0)
				return vmr_error_wrap(err, "restore %s VFs on '%s'", num, pf);
		}
		return 0;
	}
	return net_sysfs_write(cfg, autoprobe ? "1" : "0", err,
			       "bus/pci/devices/%s/sriov_drivers_autoprobe", pf);
}

int net_undo_vf(const json_t *e, void *ctx, struct vmr_error **err)
{
	const struct vmr_config *cfg = ctx;
	_cleanup_nl_ struct vmr_nl nl = {0};
	const char *pf = str(e, "pf"), *pfname = str(e, "pfname"), *macs = str(e, "mac");
	struct net_vf vf = {0};
	struct net_link l;
	int r;

	if (!pf || !pfname || !macs || vmr_mac_parse(macs, &vf.mac) < 0)
		return vmr_error_set(err, EINVAL, "bad sriov.vf journal entry");
	vf.index = (unsigned)json_integer_value(json_object_get(e, "index"));
	vf.vlan = (unsigned)json_integer_value(json_object_get(e, "vlan"));
	vf.trust = json_is_true(json_object_get(e, "trust"));
	vf.spoofchk = json_is_true(json_object_get(e, "spoofchk"));
	/* the VF is gone when its count was restored first */
	if (!net_sysfs_exists(cfg, "bus/pci/devices/%s/virtfn%u", pf, vf.index))
		return 0;
	r = net_nl_open(&nl, err);
	if (r < 0)
		return r;
	r = net_link_lookup(&nl, pfname, 0, &l, err);
	if (r <= 0)
		return r;
	return net_vf_set(&nl, l.ifindex, pfname, &vf, err);
}

/*
 * What undoing each entry needs once the supervisor keeps only that
 * (docs/security.md, "What the supervisor keeps once the guest runs").
 */
static uint64_t caps_netlink(const json_t *e, void *ctx)
{
	(void)e;
	(void)ctx;
	/* RTM_DELLINK, RTM_SETLINK (up/down, altnames, IFLA_VF_*) */
	return VMR_CAP_BIT(CAP_NET_ADMIN);
}

static uint64_t caps_node(const json_t *e, void *ctx)
{
	const char *path = str(e, "path");

	(void)ctx;
	return path ? vmr_caps_dac_unlink(path) : 0;
}

static uint64_t caps_node_access(const json_t *e, void *ctx)
{
	const char *path = str(e, "path");
	json_int_t uid = json_integer_value(json_object_get(e, "uid"));
	uint64_t need = VMR_CAP_BIT(CAP_CHOWN);

	(void)ctx;
	if (!path)
		return 0;
	/* chmod after the chown: by the owner it restored, or with CAP_FOWNER */
	if ((uid_t)uid != geteuid())
		need |= VMR_CAP_BIT(CAP_FOWNER);
	return need | vmr_caps_dac_reach(path);
}

/* sysfs: root's files (mode 0200 or 0644), which uid 0 writes as their owner */
static uint64_t caps_sysfs(const struct vmr_config *cfg, const char *rel)
{
	_cleanup_free_ char *path = net_sysfs_path(cfg, "%s", rel);

	return vmr_caps_dac_write(path);
}

static uint64_t caps_pci(const json_t *e, void *ctx)
{
	_cleanup_free_ char *override = NULL;
	const char *bdf = str(e, "bdf");

	if (!bdf)
		return 0;
	override = xasprintf("bus/pci/devices/%s/driver_override", bdf);
	return caps_sysfs(ctx, override) | caps_sysfs(ctx, "bus/pci/drivers_probe");
}

static uint64_t caps_numvfs(const json_t *e, void *ctx)
{
	_cleanup_free_ char *numvfs = NULL;
	const char *pf = str(e, "pf");

	if (!pf)
		return 0;
	numvfs = xasprintf("bus/pci/devices/%s/sriov_numvfs", pf);
	return caps_sysfs(ctx, numvfs);
}

static vmr_undo_caps_fn caps_of(const char *type)
{
	if (streq(type, "net.node"))
		return caps_node;
	if (streq(type, "net.node_access"))
		return caps_node_access;
	if (streq(type, "pci.driver"))
		return caps_pci;
	if (streq(type, "sriov.numvfs"))
		return caps_numvfs;
	/* the link types and sriov.vf: netlink only */
	return caps_netlink;
}

static vmr_undo_fn handler_of(const char *type)
{
	static const struct {
		const char *type;
		vmr_undo_fn fn;
	} handlers[] = {
	    {"net.link", net_undo_link},       {"net.vlan", net_undo_shared},
	    {"net.bridge", net_undo_shared},   {"net.updown", undo_updown},
	    {"net.parent", net_undo_parent},   {"net.node", net_undo_node},
	    {"pci.driver", net_undo_pci},      {"net.node_access", net_undo_node_access},
	    {"sriov.numvfs", net_undo_numvfs}, {"sriov.vf", net_undo_vf},
	};

	for (size_t i = 0; i < ARRAY_SIZE(handlers); i++)
		if (streq(type, handlers[i].type))
			return handlers[i].fn;
	return NULL;
}

void vmr_net_register_undo(void)
{
	static const char *const types[] = {
	    "net.link", "net.vlan",	   "net.bridge", "net.updown",	 "net.parent",
	    "net.node", "net.node_access", "pci.driver", "sriov.numvfs", "sriov.vf"};

	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		vmr_journal_register(types[i], handler_of(types[i]));
		vmr_journal_register_caps(types[i], caps_of(types[i]));
	}
}

int net_undo_entries(const json_t *done, const struct vmr_config *cfg, struct vmr_error **err)
{
	size_t n = json_array_size(done);
	int first = 0;

	while (n-- > 0) {
		const json_t *entry = json_array_get(done, n);
		vmr_undo_fn fn = handler_of(str(entry, "type"));
		struct vmr_error *e = NULL;

		if (!fn || fn(entry, (void *)cfg, &e) >= 0)
			continue;
		if (!first) {
			first = vmr_error_ret(e);
			if (err && !*err) {
				*err = e;
				continue;
			}
		}
		vmr_error_free(e);
	}
	return first;
}
