/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What tap-backed NIC kinds share (lib/devices/taplike.h). */
#include <stdio.h>

#include "lib/base/util.h"
#include "lib/devices/taplike.h"

/* the conf of a tap-backed kind starts with its struct vmr_taplike */
static const struct vmr_taplike *tl_of(const struct vmr_device *d)
{
	return d->conf;
}

bool vmr_taplike_virtio(const char *model)
{
	/* vhost-net only serves virtio-net devices: other models would hold idle fds */
	return !model || startswith(model, "virtio-net");
}

void vmr_taplike_init(void *conf)
{
	((struct vmr_taplike *)conf)->queues = 1;
}

void vmr_taplike_check(const struct vmr_devcheck *c, const struct vmr_device *d)
{
	const struct vmr_taplike *tl = tl_of(d);
	const struct vmr_ynode *n = vmr_key_get(c->map, "queues");

	if (tl->queues > 1 && !vmr_taplike_virtio(tl->model) && n)
		VMR_KEY_ERR(c->kc, n->pos, NULL, "%s: %u queues need a virtio-net model, not '%s'",
			    c->kc->ctx, tl->queues, tl->model);
}

void vmr_taplike_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd)
{
	const struct vmr_taplike *tl = tl_of(pd->dev);
	char name[16];

	pd->nfds[VMR_FD_TAP] = tl->queues ? tl->queues : 1;
	if (p->facts.vhost && vmr_taplike_virtio(tl->model))
		pd->nfds[VMR_FD_VHOST] = pd->nfds[VMR_FD_TAP];
	pd->ifname = xstrdup(vmr_net_ifname(&pd->nic->mac, name));
}

int vmr_taplike_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		     struct vmr_error **err)
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
	vmr_argv_nic_device(b, pd, tl_of(pd->dev)->model, ntap);
	return 0;
}

void vmr_taplike_grants(const struct vmr_plan_dev *pd, struct vmr_grants *g)
{
	g->net_admin = true;
	if (pd->nfds[VMR_FD_VHOST])
		g->vhost = true;
}

int vmr_taplike_setup(struct vmr_setup *s, struct vmr_plan_dev *pd, vmr_taplike_open_fn open,
		      struct vmr_error **err)
{
	struct vmr_net_nic nic = {
	    .guest = s->plan->guest->name,
	    .nic = pd->nic->name,
	    .mac = &pd->nic->mac,
	    .mtu = pd->nic->mtu,
	    .queues = pd->nfds[VMR_FD_TAP],
	};
	_cleanup_free_ char *ifname = NULL;
	int tapfds[VMR_MAX_QUEUES], r;

	for (unsigned q = 0; q < VMR_MAX_QUEUES; q++)
		tapfds[q] = -1;
	r = open(s, pd, &nic, &ifname, tapfds, err);
	if (ifname) {
		free(pd->ifname);
		pd->ifname = TAKE_PTR(ifname);
	}
	for (unsigned q = 0; q < pd->nfds[VMR_FD_TAP]; q++)
		if (tapfds[q] >= 0)
			vmr_setup_give(s, pd, VMR_FD_TAP, q, tapfds[q]);
	for (unsigned q = 0; q < pd->nfds[VMR_FD_VHOST] && r >= 0; q++) {
		int fd;

		r = vmr_net_vhost(s->net, &fd, err);
		if (r >= 0)
			vmr_setup_give(s, pd, VMR_FD_VHOST, q, fd);
	}
	return r;
}
