/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host side of guest NICs (net/net.h): links created and marked, tap
 * and vhost-net fds, devices bound to vfio-pci, and the reclaim of what a
 * dead run left.  Each host change is journaled first; a failed setup
 * rolls back its own entries (the handlers are idempotent, so the caller's
 * later replay of the same entries is harmless).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/base/buf.h"
#include "lib/base/strvec.h"
#include "lib/base/util.h"
#include "net/internal.h"

static void nl_closep(struct vmr_nl *nl)
{
	net_nl_close(nl);
}
#define _cleanup_nl_ _cleanup_(nl_closep)

char *vmr_net_ifname(const struct vmr_mac *guest_mac, char buf[static 16])
{
	char m12[13];

	snprintf(buf, 16, "vm-%s", vmr_mac_format12(guest_mac, m12));
	return buf;
}

char *vmr_net_owner(const char *guest, const char *nic)
{
	return xasprintf(VMR_NET_OWNER_PREFIX "%s:%s", guest, nic);
}

void vmr_net_tap_mac(const struct vmr_mac *guest_mac, struct vmr_mac *ret)
{
	*ret = *guest_mac;
	ret->b[0] = 0xfe;
}

struct vmr_net {
	const struct vmr_config *cfg;
	struct net_rec rec; /* the journal, and what this setup recorded */
	struct vmr_nl nl;
};

int vmr_net_open(const struct vmr_config *cfg, struct vmr_journal *j, struct vmr_net **ret,
		 struct vmr_error **err)
{
	struct vmr_net *n = xcalloc(1, sizeof(*n));

	n->cfg = cfg;
	n->rec = (struct net_rec){j, json_array()};
	if (!n->rec.done) {
		free(n);
		return vmr_error_set(err, ENOMEM, "allocate rollback list");
	}
	/* the netlink socket is opened by the first device that needs it (net_nl_need) */
	*ret = n;
	return 0;
}

/*
 * The route netlink socket of this setup, opened on first use: a guest
 * without NICs or PCI devices never opens one, nor loads libnl
 * (net/nl_dl.h, docs/performance.md).
 */
static int net_nl_need(struct vmr_net *s, struct vmr_error **err)
{
	if (s->nl.sk)
		return 0;
	return net_nl_open(&s->nl, err);
}

void vmr_net_rollback(struct vmr_net *n)
{
	if (!n)
		return;
	(void)net_undo_entries(n->rec.done, n->cfg, NULL);
	json_array_clear(n->rec.done);
}

void vmr_net_close(struct vmr_net *n)
{
	if (!n)
		return;
	json_decref(n->rec.done);
	net_nl_close(&n->nl);
	free(n);
}

static int record(struct vmr_net *s, json_t *entry, struct vmr_error **err)
{
	return net_record(&s->rec, entry, err);
}

int net_parent_mark(int ifindex, char buf[static 16])
{
	int n = snprintf(buf, 16, "vmrun-up%d", ifindex);

	/* looked up through IFLA_IFNAME, which takes IFNAMSIZ - 1 bytes */
	return n > 0 && n < 16 ? 0 : -ERANGE;
}

int net_parent_up(struct vmr_nl *nl, struct net_rec *rec, const struct net_link *parent,
		  struct vmr_error **err)
{
	struct net_link m;
	char mark[16];
	int r;

	if (net_parent_mark(parent->ifindex, mark) < 0)
		return vmr_error_set(err, ERANGE, "interface index %d of '%s' is too large to mark",
				     parent->ifindex, parent->name);
	if (parent->flags & 0x1) { /* IFF_UP */
		/* up: by vmrun (its mark, found under that name) or by someone else */
		r = net_link_lookup(nl, mark, 0, &m, err);
		if (r <= 0 || m.ifindex != parent->ifindex)
			return r < 0 ? r : 0;
		return net_record(rec,
				  json_pack("{s:s, s:s, s:i, s:s}", "type", "net.parent", "ifname",
					    parent->name, "ifindex", parent->ifindex, "mark", mark),
				  err);
	}
	r = net_record(rec,
		       json_pack("{s:s, s:s, s:i, s:s}", "type", "net.parent", "ifname",
				 parent->name, "ifindex", parent->ifindex, "mark", mark),
		       err);
	if (r < 0)
		return r;
	r = net_link_altname_raw(nl, parent->ifindex, mark, true);
	/* another vmrun raised it meanwhile: its mark is ours too */
	if (r < 0 && nl->errnum != EEXIST)
		return net_nl_fail(nl, r, err, "mark '%s' as raised by vmrun (altname '%s')",
				   parent->name, mark);
	r = net_link_change_raw(nl, parent->ifindex, NULL, 0, -1, 1, NULL);
	if (r < 0)
		return net_nl_fail(nl, r, err, "bring up '%s'", parent->name);
	return 0;
}

static int resolve_parent(struct vmr_net *s, const char *parent, const struct vmr_mac *parent_mac,
			  struct net_link *ret, struct vmr_error **err)
{
	int r;

	if (parent_mac)
		return net_link_find_mac(&s->nl, parent_mac, ret, err);
	r = net_link_lookup(&s->nl, parent, 0, ret, err);
	if (r < 0)
		return r;
	if (r == 0)
		return vmr_error_set(err, ENODEV, "host netif '%s' not found", parent);
	return 0;
}

/*
 * A link guests share (a VLAN sub-interface, a bridge): an existing one of
 * the right kind is used as it is; a missing one is created from spec and
 * marked.  Journaled ("net.vlan", "net.bridge") whenever it is vmrun's, so
 * whoever undoes last removes it once nothing hangs off it any more.  For
 * errors, what says what the link must be ("VLAN 7 of 'eth1'", "a bridge")
 * and creating says what its creation is ("create bridge 'br0'").
 */
static int ensure_shared(struct vmr_net *s, const char *type, const struct net_link_spec *spec,
			 const char *what, const char *creating, const char *owner,
			 struct net_link *ret, struct vmr_error **err)
{
	int r, ifindex, tries = 0;

again:
	r = net_link_lookup(&s->nl, spec->name, 0, ret, err);
	if (r < 0)
		return r;
	if (r > 0) {
		if (!streq(ret->kind, spec->kind) || (spec->parent && ret->link != spec->parent))
			return vmr_error_set(err, EEXIST, "interface '%s' exists and is not %s",
					     spec->name, what);
		if (startswith(ret->alias, VMR_NET_OWNER_PREFIX))
			return record(s,
				      json_pack("{s:s, s:s, s:s}", "type", type, "ifname",
						spec->name, "owner", ret->alias),
				      err);
		return 0;
	}
	r = record(s,
		   json_pack("{s:s, s:s, s:s}", "type", type, "ifname", spec->name, "owner", owner),
		   err);
	if (r < 0)
		return r;
	r = net_link_create_raw(&s->nl, spec, &ifindex);
	/* another supervisor made it meanwhile: use theirs */
	if (r < 0 && s->nl.errnum == EEXIST && tries++ == 0)
		goto again;
	if (r < 0)
		return net_nl_fail(&s->nl, r, err, "%s", creating);
	r = net_link_mark(&s->nl, spec->name, ifindex, owner, ret, err);
	return r < 0 ? r : 0;
}

/*
 * The VLAN sub-interface of parent for vid: "<parent>.<vid>" when that
 * fits IFNAMSIZ, else "vlan<ifindex>.<vid>".
 */
static int ensure_vlan(struct vmr_net *s, const struct net_link *parent, unsigned vid,
		       const char *owner, struct net_link *ret, struct vmr_error **err)
{
	struct net_link_spec spec = {
	    .kind = "vlan", .parent = parent->ifindex, .vlan_id = vid, .up = true};
	_cleanup_free_ char *what = NULL, *creating = NULL;
	char name[32];

	snprintf(name, sizeof(name), "%s.%u", parent->name, vid);
	if (strlen(name) > 15)
		snprintf(name, sizeof(name), "vlan%d.%u", parent->ifindex, vid);
	spec.name = name;
	what = xasprintf("VLAN %u of '%s'", vid, parent->name);
	creating = xasprintf("create VLAN '%s' (id %u) on '%s'", name, vid, parent->name);
	return ensure_shared(s, "net.vlan", &spec, what, creating, owner, ret, err);
}

int net_name_check(struct vmr_nl *nl, const char *ifname, const char *owner,
		   const struct vmr_mac *mac, bool delete_ours, struct vmr_error **err)
{
	struct net_link l;
	int r;

	r = net_link_lookup(nl, ifname, 0, &l, err);
	if (r <= 0)
		return r;
	if (!streq(l.alias, owner) || !l.has_mac || !vmr_mac_equal(&l.mac, mac)) {
		r = vmr_error_set(err, EEXIST, "interface '%s' exists and is not ours", ifname);
		if (l.alias[0])
			vmr_error_hint(err, "its owner mark is '%s'; vmrun would use '%s'", l.alias,
				       owner);
		else
			vmr_error_hint(
			    err, "it has no vmrun owner mark: vmrun only deletes what it made");
		return r;
	}
	if (!delete_ours)
		return 0;
	r = net_link_delete_raw(nl, l.ifindex);
	if (r < 0)
		return net_nl_fail(nl, r, err, "delete leftover %s '%s'", l.kind, ifname);
	return 0;
}

int vmr_net_macvtap(struct vmr_net *s, const struct vmr_net_nic *nic, const char *parent,
		    const struct vmr_mac *parent_mac, enum vmr_net_macvtap_mode mode, unsigned vlan,
		    char **ret_ifname, int *tapfds, struct vmr_error **err)
{
	_cleanup_free_ char *owner = vmr_net_owner(nic->guest, nic->nic);
	struct net_link_spec spec = {0};
	struct net_link up, lower;
	char name[16], mb[18];
	int r, ifindex;

	vmr_net_ifname(nic->mac, name);
	vmr_mac_format(nic->mac, mb);
	r = net_nl_need(s, err);
	if (r < 0)
		return r;
	r = resolve_parent(s, parent, parent_mac, &up, err);
	if (r < 0)
		return r;
	r = net_parent_up(&s->nl, &s->rec, &up, err);
	if (r < 0)
		return r;
	lower = up;
	if (vlan) {
		r = ensure_vlan(s, &up, vlan, owner, &lower, err);
		if (r < 0)
			return r;
	}
	r = net_name_check(&s->nl, name, owner, nic->mac, true, err);
	if (r < 0)
		return r;
	r = record(s,
		   json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "net.link", "ifname", name,
			     "kind", "macvtap", "mac", mb, "owner", owner, "parent", lower.name),
		   err);
	if (r < 0)
		return r;
	spec.name = name;
	spec.kind = "macvtap";
	spec.parent = lower.ifindex;
	spec.mac = nic->mac;
	spec.mtu = nic->mtu;
	spec.mode = mode;
	spec.up = true;
	r = net_link_create_raw(&s->nl, &spec, &ifindex);
	if (r < 0)
		return net_nl_fail(&s->nl, r, err, "create macvtap '%s' on '%s'", name, lower.name);
	ifindex = net_link_mark(&s->nl, name, ifindex, owner, NULL, err);
	if (ifindex < 0)
		return ifindex;
	*ret_ifname = xstrdup(name);
	return net_macvtap_open(s->cfg, nic->guest, name, ifindex, nic->queues, tapfds, err);
}

static int ensure_bridge(struct vmr_net *s, const char *br, const char *owner, struct net_link *ret,
			 struct vmr_error **err)
{
	struct net_link_spec spec = {.name = br, .kind = "bridge", .up = true};
	_cleanup_free_ char *creating = xasprintf("create bridge '%s'", br);

	return ensure_shared(s, "net.bridge", &spec, "a bridge", creating, owner, ret, err);
}

int vmr_net_bridge_tap(struct vmr_net *s, const struct vmr_net_nic *nic, const char *bridge,
		       char **ret_ifname, int *tapfds, struct vmr_error **err)
{
	_cleanup_free_ char *owner = vmr_net_owner(nic->guest, nic->nic);
	struct net_link br, l;
	struct vmr_mac mac;
	char name[16], mb[18];
	int r;

	vmr_net_ifname(nic->mac, name);
	vmr_net_tap_mac(nic->mac, &mac);
	vmr_mac_format(&mac, mb);
	r = net_nl_need(s, err);
	if (r < 0)
		return r;
	r = ensure_bridge(s, bridge, owner, &br, err);
	if (r < 0)
		return r;
	r = net_name_check(&s->nl, name, owner, &mac, true, err);
	if (r < 0)
		return r;
	r = record(s,
		   json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "net.link", "ifname", name,
			     "kind", "tun", "mac", mb, "owner", owner, "bridge", br.name),
		   err);
	if (r < 0)
		return r;
	/* not persistent: the tap goes away when QEMU (its last holder) exits */
	r = net_tun_open(s->cfg, name, nic->queues, tapfds, err);
	if (r < 0)
		return r;
	*ret_ifname = xstrdup(name);
	r = net_link_lookup(&s->nl, name, 0, &l, err);
	if (r <= 0)
		return r < 0 ? r : vmr_error_set(err, ENODEV, "tap '%s' vanished", name);
	r = net_link_change_raw(&s->nl, l.ifindex, owner, nic->mtu, br.ifindex, 1, &mac);
	if (r < 0)
		return net_nl_fail(&s->nl, r, err, "attach tap '%s' to bridge '%s'", name, br.name);
	return 0;
}

int vmr_net_tap(struct vmr_net *s, const char *tap, unsigned queues, int *tapfds,
		struct vmr_error **err)
{
	struct net_link l;
	int r;

	r = net_nl_need(s, err);
	if (r < 0)
		return r;
	r = net_link_lookup(&s->nl, tap, 0, &l, err);
	if (r < 0)
		return r;
	/* TUNSETIFF would create a missing tap: a typo must not do that */
	if (r == 0)
		return vmr_error_set(err, ENODEV, "tap '%s' not found", tap);
	if (!streq(l.kind, "tun"))
		return vmr_error_set(err, EINVAL, "interface '%s' is not a tap", tap);
	return net_tun_open(s->cfg, tap, queues, tapfds, err);
}

int vmr_net_vhost(struct vmr_net *s, int *ret_fd, struct vmr_error **err)
{
	return net_vhost_open(s->cfg, ret_fd, err);
}

/* refuse a device the host is using */
static int check_host_use(struct vmr_net *s, const char *bdf, const char *nic,
			  struct vmr_error **err)
{
	_cleanup_free_ char *ifname = NULL, *why = NULL;
	struct net_link l;
	int r;

	r = net_pci_netdev(s->cfg, bdf, &ifname, err);
	if (r <= 0)
		return r;
	r = net_link_lookup(&s->nl, ifname, 0, &l, err);
	if (r <= 0)
		return r; /* its netdev lives in another network namespace */
	r = net_link_in_use(&s->nl, &l, &why, err);
	if (r < 0)
		return r;
	if (why) {
		r = vmr_error_set(err, EBUSY, "PCI device '%s' ('%s') is used by the host: %s", bdf,
				  ifname, why);
		if (nic)
			vmr_error_hint(
			    err, "set 'force: true' on NIC '%s' to pass it through anyway", nic);
		return r;
	}
	return 0;
}

static int passthrough(struct vmr_net *s, const char *bdf, const char *const *together,
		       struct vmr_error **err)
{
	_cleanup_free_ char *why = NULL;
	int r;

	r = net_pci_group_viable(s->cfg, bdf, together, NULL, &why, err);
	if (r < 0)
		return r;
	if (r == 0)
		return vmr_error_set(err, EBUSY, "cannot pass '%s' through: %s", bdf, why);
	return net_pci_bind_vfio(s->cfg, &s->rec, bdf, err);
}

int vmr_net_pci(struct vmr_net *s, const char *bdf, bool force, const char *nic,
		const char *const *together, struct vmr_error **err)
{
	int r;

	if (!net_sysfs_exists(s->cfg, "bus/pci/devices/%s", bdf))
		return vmr_error_set(err, ENODEV, "PCI device '%s' not found", bdf);
	if (!force) {
		r = net_nl_need(s, err);
		if (r < 0)
			return r;
		r = check_host_use(s, bdf, nic, err);
		if (r < 0)
			return r;
	}
	return passthrough(s, bdf, together, err);
}

int vmr_net_vf(struct vmr_net *s, const struct vmr_pci_addr *pfa, const struct vmr_mac *mac,
	       const char *const *together, char **ret_bdf, struct vmr_error **err)
{
	_cleanup_free_ char *pfname = NULL, *bdf = NULL;
	_cleanup_free_ struct net_vf *vfs = NULL;
	size_t nvfs = 0;
	struct net_link l;
	char pf[13];
	int r;

	vmr_pci_format(pfa, pf);
	r = net_pci_netdev(s->cfg, pf, &pfname, err);
	if (r < 0)
		return r;
	if (r > 0) {
		r = net_nl_need(s, err);
		if (r < 0)
			return r;
		r = net_link_lookup(&s->nl, pfname, 0, &l, err);
		if (r < 0)
			return r;
		if (r > 0) {
			r = net_vf_list(&s->nl, l.ifindex, &vfs, &nvfs, err);
			if (r < 0)
				return r;
			if (!vfs)
				vfs = xcalloc(1, sizeof(*vfs)); /* a PF that reports no VFs */
		}
	}
	r = net_vf_find(s->cfg, pf, mac, vfs, nvfs, &bdf, err);
	if (r < 0)
		return r;
	r = passthrough(s, bdf, together, err);
	if (r < 0)
		return r;
	*ret_bdf = TAKE_PTR(bdf);
	return 0;
}

int vmr_net_reclaim(const struct vmr_config *cfg, const char *guest,
		    const struct vmr_net_owned *links, size_t n, bool strict,
		    struct vmr_error **err)
{
	_cleanup_nl_ struct vmr_nl nl = {0};
	_cleanup_free_ struct net_link *v = NULL;
	_cleanup_free_ char *prefix = NULL;
	size_t nv = 0;
	int r;

	/* a leftover is ours only by one of our MACs: none, nothing to look for */
	if (n == 0)
		return 0;
	r = net_nl_open(&nl, err);
	if (r < 0)
		return r;
	/* first refuse, touching nothing, if a foreign link holds a name */
	for (size_t i = 0; strict && i < n; i++) {
		r = net_name_check(&nl, links[i].ifname, links[i].owner, &links[i].mac, false, err);
		if (r < 0)
			return r;
	}
	prefix = vmr_net_owner(guest, "");
	r = net_link_list(&nl, &v, &nv, err);
	if (r < 0)
		return r;
	for (size_t k = 0; k < nv; k++) {
		bool mine = false;

		/* shared VLANs and bridges are the journal's business: only per-NIC kinds */
		if (!startswith(v[k].alias, prefix) || !v[k].has_mac ||
		    (!streq(v[k].kind, "macvtap") && !streq(v[k].kind, "tun")))
			continue;
		for (size_t i = 0; i < n && !mine; i++)
			mine = vmr_mac_equal(&links[i].mac, &v[k].mac);
		if (!mine)
			continue;
		r = net_link_delete_raw(&nl, v[k].ifindex);
		if (r < 0)
			return net_nl_fail(&nl, r, err, "delete leftover %s '%s'", v[k].kind,
					   v[k].name);
	}
	return 0;
}
