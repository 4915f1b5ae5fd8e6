/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What tap-backed NIC kinds share (lib/devices/taplike.h). */
#include <stdio.h>

#include "lib/base/util.h"
#include "lib/devices/taplike.h"

bool vmr_taplike_virtio(const char *model)
{
	/* vhost-net only serves virtio-net devices: other models would hold idle fds */
	return !model || startswith(model, "virtio-net");
}

void vmr_taplike_init(struct vmr_taplike *tl)
{
	tl->queues = 1;
}

void vmr_taplike_check(const struct vmr_devcheck *c, const struct vmr_taplike *tl)
{
	const struct vmr_ynode *n = vmr_key_get(c->map, "queues");

	if (tl->queues > 1 && !vmr_taplike_virtio(tl->model) && n)
		VMR_KEY_ERR(c->kc, n->pos, NULL, "%s: %u queues need a virtio-net model, not '%s'",
			    c->kc->ctx, tl->queues, tl->model);
}

void vmr_taplike_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd,
		      const struct vmr_taplike *tl)
{
	pd->nfds[VMR_FD_TAP] = tl->queues ? tl->queues : 1;
	if (p->facts.vhost && vmr_taplike_virtio(tl->model))
		pd->nfds[VMR_FD_VHOST] = pd->nfds[VMR_FD_TAP];
}

int vmr_taplike_argv(const struct vmr_plan_dev *pd, struct vmr_argv *b,
		     const struct vmr_taplike *tl)
{
	unsigned ntap = pd->nfds[VMR_FD_TAP], nvhost = pd->nfds[VMR_FD_VHOST];
	_cleanup_free_ char *taps = vmr_argv_fd_list(pd->fds[VMR_FD_TAP], ntap);
	json_t *nd = json_object();

	json_object_set_new(nd, "type", json_string("tap"));
	json_object_set_new(nd, "id", json_pack("s+", "net-", pd->nic->name));
	json_object_set_new(nd, ntap > 1 ? "fds" : "fd", json_string(taps));
	if (nvhost) {
		_cleanup_free_ char *vh = vmr_argv_fd_list(pd->fds[VMR_FD_VHOST], nvhost);

		json_object_set_new(nd, "vhost", json_true());
		json_object_set_new(nd, nvhost > 1 ? "vhostfds" : "vhostfd", json_string(vh));
	}
	vmr_argv_push_json(b, "-netdev", nd);
	vmr_argv_nic_device(b, pd, tl->model, ntap);
	return 0;
}

int vmr_taplike_give(struct vmr_setup *s, struct vmr_plan_dev *pd, int *tapfds, int r,
		     struct vmr_error **err)
{
	/* hand over what was opened, even on failure, so it is closed once */
	for (unsigned q = 0; q < pd->nfds[VMR_FD_TAP]; q++) {
		if (tapfds[q] >= 0)
			vmr_setup_give(s, pd, VMR_FD_TAP, q, tapfds[q]);
		tapfds[q] = -1;
	}
	for (unsigned q = 0; q < pd->nfds[VMR_FD_VHOST] && r >= 0; q++) {
		int fd;

		r = vmr_net_vhost(s->net, &fd, err);
		if (r >= 0)
			vmr_setup_give(s, pd, VMR_FD_VHOST, q, fd);
	}
	return r;
}

void vmr_taplike_grants(const struct vmr_plan_dev *pd, struct vmr_grants *g)
{
	g->net_admin = true;
	if (pd->nfds[VMR_FD_VHOST])
		g->vhost = true;
}

struct vmr_net_nic vmr_taplike_net_nic(const struct vmr_setup *s, const struct vmr_plan_dev *pd,
				       const struct vmr_taplike *tl)
{
	(void)tl;
	return (struct vmr_net_nic){
	    .guest = s->plan->guest->name,
	    .nic = pd->nic->name,
	    .mac = &pd->nic->mac,
	    .mtu = pd->nic->mtu,
	    .queues = pd->nfds[VMR_FD_TAP],
	};
}
