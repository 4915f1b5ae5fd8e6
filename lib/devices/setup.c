/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The contexts of the devices' host hooks (lib/devices/devices.h). */
#include "lib/base/util.h"
#include "lib/devices/devices.h"

void vmr_setup_give(struct vmr_setup *s, const struct vmr_plan_dev *pd, enum vmr_fd_phase ph,
		    unsigned q, int fd)
{
	int slot;

	if (q >= pd->nfds[ph]) {
		close(fd);
		return;
	}
	slot = pd->fds[ph][q] - 3;
	if (slot < 0 || slot >= s->plan->nfds) {
		close(fd);
		return;
	}
	if (s->fds[slot] >= 0)
		close(s->fds[slot]);
	s->fds[slot] = fd;
}

void vmr_hostsetup_collect(struct vmr_hostsetup *h, const struct vmr_topology *t, const char *host)
{
	const struct vmr_host *primary = vmr_topology_primary(t);
	const char *want = host ? host : primary ? primary->name : NULL;

	h->topo = t;
	for (size_t i = 0; i < t->nguests; i++) {
		const struct vmr_guest *g = &t->guests[i];
		const char *on = vmr_guest_host(t, g);

		if (!(want ? streq(on, want) : !on))
			continue;
		h->guest = g;
		for (size_t k = 0; k < g->nnics; k++)
			if (g->nics[k].att.ops && g->nics[k].att.ops->host_needs)
				g->nics[k].att.ops->host_needs(h, &g->nics[k].att);
		for (size_t k = 0; k < g->ndevices; k++)
			if (g->devices[k].ops->host_needs)
				g->devices[k].ops->host_needs(h, &g->devices[k]);
	}
	h->guest = NULL;
}

void vmr_hostsetup_free(struct vmr_hostsetup *h)
{
	free(h->vfs);
	*h = (struct vmr_hostsetup){0};
}

void vmr_devices_owned(const struct vmr_guest *g, struct vmr_net_owned **ret, size_t *ret_n)
{
	struct vmr_net_owned *v = xcalloc(g->nnics + 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < g->nnics; i++) {
		const struct vmr_nic *nic = &g->nics[i];

		if (!nic->att.ops || !nic->att.ops->link_mac ||
		    !nic->att.ops->link_mac(nic, &v[n].mac))
			continue;
		vmr_net_ifname(&nic->mac, v[n].ifname);
		v[n].owner = vmr_net_owner(g->name, nic->name);
		n++;
	}
	*ret = v;
	*ret_n = n;
}

void vmr_devices_owned_free(struct vmr_net_owned *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].owner);
	free(v);
}
