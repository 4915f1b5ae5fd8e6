/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The NICs of one guest: reclaim leftovers, then create links, open tap
 * and vhost-net fds, bind passthrough devices.  Each host change is
 * journaled first; a failed setup rolls back its own entries (the handlers
 * are idempotent, so the caller's later replay of the same entries is
 * harmless).
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

char *vmr_net_ifname(const struct vmr_nic *nic, char buf[static 16])
{
	char m12[13];

	snprintf(buf, 16, "vm-%s", vmr_mac_format12(&nic->mac, m12));
	return buf;
}

char *vmr_net_owner(const char *guest, const char *nic)
{
	return xasprintf(VMR_NET_OWNER_PREFIX "%s:%s", guest, nic);
}

bool vmr_net_vhost_available(const struct vmr_config *cfg)
{
	int fd;

	if (net_vhost_open(cfg, &fd, NULL) < 0)
		return false;
	close(fd);
	return true;
}

/*
 * The host side of a bridge NIC must not carry the guest's MAC (the bridge
 * would learn the guest's address on the wrong port and may adopt it as its
 * own): use it with the first byte 0xfe, as libvirt does.
 */
static void tap_mac(const struct vmr_nic *nic, struct vmr_mac *ret)
{
	*ret = nic->mac;
	ret->b[0] = 0xfe;
}

/* the MAC a link vmrun creates for this NIC carries */
static void link_mac(const struct vmr_nic *nic, struct vmr_mac *ret)
{
	if (nic->kind == VMR_NIC_BRIDGE)
		tap_mac(nic, ret);
	else
		*ret = nic->mac;
}

static bool nic_creates_link(const struct vmr_nic *nic)
{
	return nic->kind == VMR_NIC_MACVTAP || nic->kind == VMR_NIC_BRIDGE;
}

/* one setup call: its socket, and what it recorded for its own rollback */
struct setup {
	const struct vmr_config *cfg;
	struct net_rec rec;
	struct vmr_nl nl;
	const char *guest;
};

static int record(struct setup *s, json_t *entry, struct vmr_error **err)
{
	return net_record(&s->rec, entry, err);
}

static int resolve_parent(struct setup *s, const struct vmr_nic *nic, struct net_link *ret,
			  struct vmr_error **err)
{
	int r;

	if (nic->parent_is_mac)
		return net_link_find_mac(&s->nl, &nic->parent_mac, ret, err);
	r = net_link_lookup(&s->nl, nic->parent, 0, ret, err);
	if (r < 0)
		return r;
	if (r == 0)
		return vmr_error_set(err, ENODEV, "host netif '%s' not found", nic->parent);
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
static int ensure_shared(struct setup *s, const char *type, const struct net_link_spec *spec,
			 const char *what, const char *creating, const char *owner,
			 struct net_link *ret, struct vmr_error **err)
{
	int r, tries = 0;

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
	r = net_link_create_raw(&s->nl, spec);
	/* another supervisor made it meanwhile: use theirs */
	if (r < 0 && s->nl.errnum == EEXIST && tries++ == 0)
		goto again;
	if (r < 0)
		return net_nl_fail(&s->nl, r, err, "%s", creating);
	return net_link_mark(&s->nl, spec->name, owner, ret, err);
}

/*
 * The VLAN sub-interface of parent for vid: "<parent>.<vid>" when that
 * fits IFNAMSIZ, else "vlan<ifindex>.<vid>".
 */
static int ensure_vlan(struct setup *s, const struct net_link *parent, unsigned vid,
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

static int setup_macvtap(struct setup *s, struct vmr_plan_nic *pn, int *tapfds,
			 struct vmr_error **err)
{
	const struct vmr_nic *nic = pn->nic;
	_cleanup_free_ char *owner = vmr_net_owner(s->guest, nic->name);
	struct net_link_spec spec = {0};
	struct net_link parent, lower, l;
	char name[16], mb[18];
	int r;

	vmr_net_ifname(nic, name);
	vmr_mac_format(&nic->mac, mb);
	r = resolve_parent(s, nic, &parent, err);
	if (r < 0)
		return r;
	lower = parent;
	if (nic->vlan) {
		r = ensure_vlan(s, &parent, nic->vlan, owner, &lower, err);
		if (r < 0)
			return r;
	}
	r = net_name_check(&s->nl, name, owner, &nic->mac, true, err);
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
	spec.mac = &nic->mac;
	spec.mtu = nic->mtu;
	spec.mode = nic->mode;
	spec.up = true;
	r = net_link_create_raw(&s->nl, &spec);
	if (r < 0)
		return net_nl_fail(&s->nl, r, err, "create macvtap '%s' on '%s'", name, lower.name);
	r = net_link_mark(&s->nl, name, owner, &l, err);
	if (r < 0)
		return r;
	free(pn->ifname);
	pn->ifname = xstrdup(name);
	return net_macvtap_open(s->cfg, s->guest, name, l.ifindex, pn->ntapfds, tapfds, err);
}

static int ensure_bridge(struct setup *s, const char *br, const char *owner, struct net_link *ret,
			 struct vmr_error **err)
{
	struct net_link_spec spec = {.name = br, .kind = "bridge", .up = true};
	_cleanup_free_ char *creating = xasprintf("create bridge '%s'", br);

	return ensure_shared(s, "net.bridge", &spec, "a bridge", creating, owner, ret, err);
}

static int setup_bridge(struct setup *s, struct vmr_plan_nic *pn, int *tapfds,
			struct vmr_error **err)
{
	const struct vmr_nic *nic = pn->nic;
	_cleanup_free_ char *owner = vmr_net_owner(s->guest, nic->name);
	struct net_link br, l;
	struct vmr_mac mac;
	char name[16], mb[18];
	int r;

	vmr_net_ifname(nic, name);
	tap_mac(nic, &mac);
	vmr_mac_format(&mac, mb);
	r = ensure_bridge(s, nic->bridge, owner, &br, err);
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
	r = net_tun_open(s->cfg, name, pn->ntapfds, tapfds, err);
	if (r < 0)
		return r;
	free(pn->ifname);
	pn->ifname = xstrdup(name);
	r = net_link_lookup(&s->nl, name, 0, &l, err);
	if (r <= 0)
		return r < 0 ? r : vmr_error_set(err, ENODEV, "tap '%s' vanished", name);
	r = net_link_change_raw(&s->nl, l.ifindex, owner, nic->mtu, br.ifindex, 1, &mac);
	if (r < 0)
		return net_nl_fail(&s->nl, r, err, "attach tap '%s' to bridge '%s'", name, br.name);
	return 0;
}

static int setup_tap(struct setup *s, struct vmr_plan_nic *pn, int *tapfds, struct vmr_error **err)
{
	const struct vmr_nic *nic = pn->nic;
	struct net_link l;
	int r;

	r = net_link_lookup(&s->nl, nic->tap, 0, &l, err);
	if (r < 0)
		return r;
	/* TUNSETIFF would create a missing tap: a typo must not do that */
	if (r == 0)
		return vmr_error_set(err, ENODEV, "tap '%s' not found", nic->tap);
	if (!streq(l.kind, "tun"))
		return vmr_error_set(err, EINVAL, "interface '%s' is not a tap", nic->tap);
	r = net_tun_open(s->cfg, nic->tap, pn->ntapfds, tapfds, err);
	if (r < 0)
		return r;
	free(pn->ifname);
	pn->ifname = xstrdup(nic->tap);
	return 0;
}

/* refuse a NIC the host is using, unless force */
static int check_host_use(struct setup *s, const struct vmr_nic *nic, const char *bdf,
			  struct vmr_error **err)
{
	_cleanup_free_ char *ifname = NULL, *why = NULL;
	struct net_link l;
	int r;

	if (nic->force)
		return 0;
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
		vmr_error_hint(err, "set 'force: true' on NIC '%s' to pass it through anyway",
			       nic->name);
		return r;
	}
	return 0;
}

static int passthrough(struct setup *s, struct vmr_plan_nic *pn, const char *bdf,
		       const char *const *ours, struct vmr_error **err)
{
	_cleanup_free_ char *why = NULL;
	int r;

	r = net_pci_group_viable(s->cfg, bdf, ours, NULL, &why, err);
	if (r < 0)
		return r;
	if (r == 0)
		return vmr_error_set(err, EBUSY, "cannot pass '%s' through: %s", bdf, why);
	r = net_pci_bind_vfio(s->cfg, &s->rec, bdf, err);
	if (r < 0)
		return r;
	free(pn->vfio_host);
	pn->vfio_host = xstrdup(bdf);
	return 0;
}

static int find_vf(struct setup *s, const struct vmr_nic *nic, char **ret_bdf,
		   struct vmr_error **err)
{
	_cleanup_free_ char *pfname = NULL;
	_cleanup_free_ struct net_vf *vfs = NULL;
	size_t nvfs = 0;
	struct net_link l;
	char pf[13];
	int r;

	vmr_pci_format(&nic->pci, pf);
	r = net_pci_netdev(s->cfg, pf, &pfname, err);
	if (r < 0)
		return r;
	if (r > 0) {
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
	return net_vf_find(s->cfg, pf, &nic->mac, vfs, nvfs, ret_bdf, err);
}

static int setup_pci(struct setup *s, struct vmr_plan_nic *pn, const char *const *ours,
		     struct vmr_error **err)
{
	char bdf[13];
	int r;

	vmr_pci_format(&pn->nic->pci, bdf);
	if (!net_sysfs_exists(s->cfg, "bus/pci/devices/%s", bdf))
		return vmr_error_set(err, ENODEV, "PCI device '%s' not found", bdf);
	r = check_host_use(s, pn->nic, bdf, err);
	if (r < 0)
		return r;
	return passthrough(s, pn, bdf, ours, err);
}

static int setup_vf(struct setup *s, struct vmr_plan_nic *pn, const char *const *ours,
		    struct vmr_error **err)
{
	_cleanup_free_ char *bdf = NULL;
	int r;

	r = find_vf(s, pn->nic, &bdf, err);
	if (r < 0)
		return r;
	return passthrough(s, pn, bdf, ours, err);
}

static bool plan_wants_vhost(const struct vmr_plan *plan)
{
	for (size_t i = 0; i < plan->nnics; i++)
		if (plan->nics[i].nvhostfds)
			return true;
	return false;
}

static void close_fds(int *fds, int n, int *opened, size_t nopened)
{
	for (size_t i = 0; i < nopened; i++) {
		int slot = opened[i];

		if (slot >= 0 && slot < n && fds[slot] >= 0) {
			close(fds[slot]);
			fds[slot] = -1;
		}
	}
}

int vmr_net_setup_guest(const struct vmr_config *cfg, struct vmr_journal *j, struct vmr_plan *plan,
			int *fds, struct vmr_error **err)
{
	const struct vmr_guest *g = plan->guest;
	struct setup s = {.cfg = cfg, .rec = {j, json_array()}, .guest = g->name};
	struct vmr_strvec ours = VMR_STRVEC_INIT;
	_cleanup_free_ int *opened = NULL;
	size_t nopened = 0;
	int r = 0;

	if (!s.rec.done)
		return vmr_error_set(err, ENOMEM, "allocate rollback list");
	/* like libvirt: vhost-net when the host has it, plain tap otherwise */
	if (plan->vhost && plan_wants_vhost(plan) && !vmr_net_vhost_available(cfg)) {
		plan->vhost = false;
		vmr_plan_assign_fds(plan);
	}
	opened = xcalloc((size_t)plan->nfds + 1, sizeof(int));
	r = net_nl_open(&s.nl, err);
	if (r < 0) {
		json_decref(s.rec.done);
		return r;
	}
	/* devices passed through together may share an IOMMU group */
	for (size_t i = 0; i < plan->nnics; i++) {
		char bdf[13];

		if (plan->nics[i].nic->kind == VMR_NIC_PCI)
			vmr_strvec_push(&ours, vmr_pci_format(&plan->nics[i].nic->pci, bdf));
	}
	for (size_t i = 0; i < plan->nnics && r >= 0; i++) {
		struct vmr_plan_nic *pn = &plan->nics[i];
		int tapfds[VMR_MAX_QUEUES];

		for (unsigned q = 0; q < VMR_MAX_QUEUES; q++)
			tapfds[q] = -1;
		switch (pn->nic->kind) {
		case VMR_NIC_MACVTAP:
			r = setup_macvtap(&s, pn, tapfds, err);
			break;
		case VMR_NIC_BRIDGE:
			r = setup_bridge(&s, pn, tapfds, err);
			break;
		case VMR_NIC_TAP:
			r = setup_tap(&s, pn, tapfds, err);
			break;
		case VMR_NIC_PCI:
			r = setup_pci(&s, pn, (const char *const *)ours.v, err);
			break;
		case VMR_NIC_VF:
			r = setup_vf(&s, pn, (const char *const *)ours.v, err);
			break;
		case VMR_NIC_USER:
			break;
		}
		/* hand over what was opened, even on failure, so it is closed once */
		for (unsigned q = 0; q < pn->ntapfds && q < VMR_MAX_QUEUES; q++) {
			int slot = pn->tapfd[q] - 3;

			if (tapfds[q] < 0)
				continue;
			if (slot < 0 || slot >= plan->nfds) {
				close(tapfds[q]);
				continue;
			}
			fds[slot] = tapfds[q];
			opened[nopened++] = slot;
		}
		if (r < 0) {
			vmr_error_wrap(err, "NIC '%s'", pn->nic->name);
			break;
		}
		for (unsigned q = 0; q < pn->nvhostfds && q < VMR_MAX_QUEUES; q++) {
			int slot = pn->vhostfd[q] - 3, fd;

			r = net_vhost_open(cfg, &fd, err);
			if (r < 0) {
				vmr_error_wrap(err, "NIC '%s'", pn->nic->name);
				break;
			}
			if (slot < 0 || slot >= plan->nfds) {
				close(fd);
				continue;
			}
			fds[slot] = fd;
			opened[nopened++] = slot;
		}
	}
	if (r < 0) {
		/* closing the fds first lets non-persistent taps vanish */
		close_fds(fds, plan->nfds, opened, nopened);
		(void)net_undo_entries(s.rec.done, cfg, NULL);
	}
	json_decref(s.rec.done);
	vmr_strvec_clear(&ours);
	net_nl_close(&s.nl);
	return r;
}

int vmr_net_reclaim(const struct vmr_config *cfg, const struct vmr_guest *g, bool strict,
		    struct vmr_error **err)
{
	_cleanup_nl_ struct vmr_nl nl = {0};
	_cleanup_free_ struct net_link *v = NULL;
	_cleanup_free_ char *prefix = NULL;
	size_t n = 0;
	int r;

	r = net_nl_open(&nl, err);
	if (r < 0)
		return r;
	/* first refuse, touching nothing, if a foreign link holds a name */
	for (size_t i = 0; strict && i < g->nnics; i++) {
		const struct vmr_nic *nic = &g->nics[i];
		_cleanup_free_ char *owner = NULL;
		struct vmr_mac mac;
		char name[16];

		if (!nic_creates_link(nic))
			continue;
		owner = vmr_net_owner(g->name, nic->name);
		link_mac(nic, &mac);
		r = net_name_check(&nl, vmr_net_ifname(nic, name), owner, &mac, false, err);
		if (r < 0)
			return r;
	}
	prefix = vmr_net_owner(g->name, "");
	r = net_link_list(&nl, &v, &n, err);
	if (r < 0)
		return r;
	for (size_t k = 0; k < n; k++) {
		bool mine = false;

		/* shared VLANs and bridges are the journal's business: only per-NIC kinds */
		if (!startswith(v[k].alias, prefix) || !v[k].has_mac ||
		    (!streq(v[k].kind, "macvtap") && !streq(v[k].kind, "tun")))
			continue;
		for (size_t i = 0; i < g->nnics && !mine; i++) {
			struct vmr_mac mac;

			if (!nic_creates_link(&g->nics[i]))
				continue;
			link_mac(&g->nics[i], &mac);
			mine = vmr_mac_equal(&mac, &v[k].mac);
		}
		if (!mine)
			continue;
		r = net_link_delete_raw(&nl, v[k].ifindex);
		if (r < 0)
			return net_nl_fail(&nl, r, err, "delete leftover %s '%s'", v[k].kind,
					   v[k].name);
	}
	return 0;
}
