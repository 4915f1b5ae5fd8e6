/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `vmrun host up`: what a host needs before its guests start, done once per
 * host rather than per guest: the control interface `vmctrl` (primary host)
 * and SR-IOV VFs.  Everything is checked before the first change; a failure
 * after it rolls back what this call did.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/base/util.h"
#include "net/internal.h"

#define CTRLIF_NAME "vmctrl"

static void nl_closep(struct vmr_nl *nl)
{
	net_nl_close(nl);
}
#define _cleanup_nl_ _cleanup_(nl_closep)

/* the VFs one PF must provide on this host */
struct pf_use {
	char bdf[13];
	char *netdev; /* the PF's netdev, for VF settings */
	int ifindex;
	const struct vmr_net_vf_want **vfs; /* sorted by MAC: VF i gets vfs[i] */
	size_t n, alloc;
};

static int cmp_vf_mac(const void *a, const void *b)
{
	const struct vmr_net_vf_want *x = *(const struct vmr_net_vf_want *const *)a;
	const struct vmr_net_vf_want *y = *(const struct vmr_net_vf_want *const *)b;

	return memcmp(x->mac.b, y->mac.b, sizeof(x->mac.b));
}

static int setup_ctrlif(const struct vmr_config *cfg, struct vmr_nl *nl, struct net_rec *rec,
			const struct vmr_topology *t, const char *owner,
			const struct net_link *parent, struct vmr_error **err)
{
	const struct vmr_ctrlif *c = &t->ctrlif;
	struct net_link_spec spec = {0};
	char mb[18];
	int r, ifindex;

	(void)cfg;
	r = net_name_check(nl, CTRLIF_NAME, owner, &c->mac, true, err);
	if (r < 0)
		return r;
	/* 5gdeploy's `ip link set $HOSTIF up`, undone when vmrun did it */
	r = net_parent_up(nl, rec, parent, err);
	if (r < 0)
		return r;
	vmr_mac_format(&c->mac, mb);
	r = net_record(rec,
		       json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "net.link", "ifname",
				 CTRLIF_NAME, "kind", "macvtap", "mac", mb, "owner", owner,
				 "parent", parent->name),
		       err);
	if (r < 0)
		return r;
	/*
	 * A macvtap as 5gdeploy makes it: while no tap queue is open the
	 * kernel passes its frames to the host stack (tap_handle_frame), so it
	 * works like a macvlan for the host.
	 */
	spec.name = CTRLIF_NAME;
	spec.kind = "macvtap";
	spec.parent = parent->ifindex;
	spec.mac = &c->mac;
	spec.mode = VMR_NET_MACVTAP_BRIDGE;
	spec.up = true;
	r = net_link_create_raw(nl, &spec, &ifindex);
	if (r < 0)
		return net_nl_fail(nl, r, err, "create macvtap '%s' on '%s'", CTRLIF_NAME,
				   parent->name);
	ifindex = net_link_mark(nl, CTRLIF_NAME, ifindex, owner, NULL, err);
	if (ifindex < 0)
		return ifindex;
	r = net_addr_add(nl, ifindex, &c->address, CTRLIF_NAME, err);
	if (r < 0)
		return r;
	/* guests answer ARP late while booting; the entries make them reachable at once */
	for (size_t i = 0; i < t->nguests; i++) {
		const struct vmr_guest *g = &t->guests[i];

		for (size_t k = 0; k < g->nnics; k++) {
			const struct vmr_nic *nic = &g->nics[k];

			if (!streq(nic->name, CTRLIF_NAME) || !nic->has_ip ||
			    nic->ip.family != c->address.family)
				continue;
			r = net_neigh_add(nl, ifindex, &nic->ip, &nic->mac, CTRLIF_NAME, err);
			if (r < 0)
				return vmr_error_wrap(err, "guest '%s'", g->name);
		}
	}
	return 0;
}

static int setup_pf(const struct vmr_config *cfg, struct vmr_nl *nl, struct net_rec *rec,
		    struct pf_use *pf, struct vmr_error **err)
{
	_cleanup_free_ struct net_vf *cur = NULL;
	struct net_link l;
	size_t ncur = 0;
	int r;

	r = net_sriov_set_numvfs(cfg, rec, pf->bdf, (unsigned)pf->n, err);
	if (r < 0)
		return r;
	r = net_link_lookup(nl, pf->netdev, 0, &l, err);
	if (r <= 0)
		return r < 0 ? r
			     : vmr_error_set(err, ENODEV, "PF netdev '%s' vanished", pf->netdev);
	pf->ifindex = l.ifindex;
	/* VFs pass no traffic while their PF is down */
	if (!(l.flags & 0x1)) {
		r = net_record(rec,
			       json_pack("{s:s, s:s, s:b}", "type", "net.updown", "ifname",
					 pf->netdev, "up", 0),
			       err);
		if (r < 0)
			return r;
		r = net_link_change_raw(nl, l.ifindex, NULL, 0, -1, 1, NULL);
		if (r < 0)
			return net_nl_fail(nl, r, err, "bring up PF '%s'", pf->netdev);
	}
	r = net_vf_list(nl, l.ifindex, &cur, &ncur, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < pf->n; i++) {
		const struct vmr_net_vf_want *w = pf->vfs[i];
		struct net_vf want = {.index = (unsigned)i,
				      .mac = w->mac,
				      .vlan = w->vlan,
				      .trust = w->trust,
				      .spoofchk = w->spoofchk};
		struct net_vf old = {.index = (unsigned)i, .spoofchk = true};
		_cleanup_free_ char *vf = NULL;
		char mb[18];

		for (size_t k = 0; k < ncur; k++)
			if (cur[k].index == i)
				old = cur[k];
		vmr_mac_format(&old.mac, mb);
		r = net_record(rec,
			       json_pack("{s:s, s:s, s:s, s:i, s:s, s:i, s:b, s:b}", "type",
					 "sriov.vf", "pf", pf->bdf, "pfname", pf->netdev, "index",
					 (int)i, "mac", mb, "vlan", (int)old.vlan, "trust",
					 old.trust, "spoofchk", old.spoofchk),
			       err);
		if (r < 0)
			return r;
		r = net_vf_set(nl, l.ifindex, pf->netdev, &want, err);
		if (r < 0)
			return r;
		r = net_sysfs_link_name(cfg, &vf, err, "bus/pci/devices/%s/virtfn%zu", pf->bdf, i);
		if (r <= 0)
			return r < 0
				   ? r
				   : vmr_error_set(err, ENODEV, "VF %zu of '%s' has no 'virtfn%zu'",
						   i, pf->bdf, i);
		r = net_pci_bind_vfio(cfg, rec, vf, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static struct pf_use *pf_get(struct pf_use **pfs, size_t *n, size_t *alloc, const char *bdf)
{
	for (size_t i = 0; i < *n; i++)
		if (streq((*pfs)[i].bdf, bdf))
			return &(*pfs)[i];
	XGROW(*pfs, *alloc, *n + 1);
	memset(&(*pfs)[*n], 0, sizeof(**pfs));
	snprintf((*pfs)[*n].bdf, sizeof((*pfs)[*n].bdf), "%s", bdf);
	return &(*pfs)[(*n)++];
}

int vmr_net_host_up(const struct vmr_config *cfg, const struct vmr_topology *t, const char *host,
		    const struct vmr_net_vf_want *vfs, size_t nvfs, struct vmr_journal *j,
		    struct vmr_error **err)
{
	_cleanup_nl_ struct vmr_nl nl = {0};
	_cleanup_free_ char *owner = NULL;
	struct net_rec rec = {j, NULL};
	const struct vmr_host *h = NULL;
	struct pf_use *pfs = NULL;
	size_t npfs = 0, apfs = 0;
	struct net_link parent;
	bool primary, ctrlif;
	int r;

	if (host) {
		h = vmr_topology_host(t, host);
		if (!h)
			return vmr_error_usage(err, "host '%s' is not in the topology", host);
		/* with no host marked primary, the primary is the local machine */
		primary = h->primary;
	} else {
		h = vmr_topology_primary(t);
		primary = true;
	}
	owner = xasprintf(VMR_NET_OWNER_PREFIX "host-%s:%s", h ? h->name : "local", CTRLIF_NAME);
	ctrlif = primary && t->ctrlif.present;

	for (size_t i = 0; i < nvfs; i++) {
		struct pf_use *pf;
		char bdf[13];

		pf = pf_get(&pfs, &npfs, &apfs, vmr_pci_format(&vfs[i].pf, bdf));
		XGROW(pf->vfs, pf->alloc, pf->n + 1);
		pf->vfs[pf->n++] = &vfs[i];
	}
	r = net_nl_open(&nl, err);
	if (r < 0)
		goto out;

	/* check everything before the first change */
	if (ctrlif) {
		if (t->ctrlif.parent_is_mac)
			r = net_link_find_mac(&nl, &t->ctrlif.parent_mac, &parent, err);
		else if ((r = net_link_lookup(&nl, t->ctrlif.parent, 0, &parent, err)) == 0)
			r = vmr_error_set(err, ENODEV, "host netif '%s' not found",
					  t->ctrlif.parent);
		if (r < 0) {
			vmr_error_wrap(err, "ctrlif");
			goto out;
		}
		r = net_name_check(&nl, CTRLIF_NAME, owner, &t->ctrlif.mac, false, err);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < npfs; i++) {
		struct pf_use *pf = &pfs[i];
		unsigned long total = 0;
		struct net_link l;

		qsort(pf->vfs, pf->n, sizeof(*pf->vfs), cmp_vf_mac);
		if (!net_sysfs_exists(cfg, "bus/pci/devices/%s", pf->bdf)) {
			r = vmr_error_set(err, ENODEV, "PF '%s' not found", pf->bdf);
			goto out;
		}
		if (!net_sysfs_exists(cfg, "bus/pci/devices/%s/sriov_totalvfs", pf->bdf)) {
			r = vmr_error_usage(err, "'%s' is not SR-IOV capable (no sriov_totalvfs)",
					    pf->bdf);
			goto out;
		}
		r = net_sysfs_read_uint(cfg, &total, err, "bus/pci/devices/%s/sriov_totalvfs",
					pf->bdf);
		if (r < 0)
			goto out;
		if (pf->n > total) {
			r = vmr_error_usage(err,
					    "'%s' has %lu VFs, the guests on this host need %zu",
					    pf->bdf, total, pf->n);
			goto out;
		}
		r = net_pci_netdev(cfg, pf->bdf, &pf->netdev, err);
		if (r == 0)
			r = vmr_error_set(err, ENODEV,
					  "PF '%s' has no network interface "
					  "(is its driver loaded?)",
					  pf->bdf);
		if (r < 0)
			goto out;
		r = net_link_lookup(&nl, pf->netdev, 0, &l, err);
		if (r == 0)
			r = vmr_error_set(err, ENODEV,
					  "PF '%s': interface '%s' not found in this "
					  "network namespace",
					  pf->bdf, pf->netdev);
		if (r < 0)
			goto out;
	}

	rec.done = json_array();
	if (!rec.done) {
		r = vmr_error_set(err, ENOMEM, "allocate rollback list");
		goto out;
	}
	if (ctrlif) {
		r = setup_ctrlif(cfg, &nl, &rec, t, owner, &parent, err);
		if (r < 0) {
			vmr_error_wrap(err, "ctrlif");
			goto out;
		}
	}
	for (size_t i = 0; i < npfs && r >= 0; i++)
		r = setup_pf(cfg, &nl, &rec, &pfs[i], err);
out:
	if (r < 0 && rec.done)
		(void)net_undo_entries(rec.done, cfg, NULL);
	json_decref(rec.done);
	for (size_t i = 0; i < npfs; i++) {
		free(pfs[i].vfs);
		free(pfs[i].netdev);
	}
	free(pfs);
	return r;
}
