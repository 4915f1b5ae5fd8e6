/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_TAPLIKE_H
#define VMR_TAPLIKE_H

/*
 * What the NIC kinds backed by a tap (macvtap, bridge, tap) share: the
 * `queues` and `model` keys, one tap fd per queue and a vhost-net fd per
 * queue when the host has vhost-net and the model is virtio-net, the
 * -netdev tap and the guest's NIC device.  Internal to lib/devices/.
 */

#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

struct vmr_taplike {
	unsigned queues; /* >= 1; multiqueue tap when > 1 */
	char *model;	 /* QEMU device model, default virtio-net-pci */
};

/* The keys of a kind whose conf has a struct vmr_taplike named tl. */
#define VMR_TAPLIKE_KEYS(conf_type)                                                                \
	{.name = "queues",                                                                         \
	 .type = VMR_KEY_UINT,                                                                     \
	 .off = offsetof(conf_type, tl.queues),                                                    \
	 .flags = VMR_KEY_HW,                                                                      \
	 .min = 1,                                                                                 \
	 .max = VMR_MAX_QUEUES},                                                                   \
	{                                                                                          \
		.name = "model", .type = VMR_KEY_STR, .off = offsetof(conf_type, tl.model),        \
		.flags = VMR_KEY_HW                                                                \
	}

/* Whether model (NULL: the default) is a virtio-net one. */
bool vmr_taplike_virtio(const char *model);

void vmr_taplike_init(struct vmr_taplike *tl);
/* more than one queue needs a virtio-net model */
void vmr_taplike_check(const struct vmr_devcheck *c, const struct vmr_taplike *tl);
void vmr_taplike_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd,
		      const struct vmr_taplike *tl);
int vmr_taplike_argv(const struct vmr_plan_dev *pd, struct vmr_argv *b,
		     const struct vmr_taplike *tl);
/*
 * After the kind's setup returned r, having opened tap fds into tapfds
 * (-1: none): hand them to the child (even when r < 0, so each is closed
 * once), then, when r >= 0, open the vhost-net fds.  Returns r, or the
 * vhost-net failure.
 */
int vmr_taplike_give(struct vmr_setup *s, struct vmr_plan_dev *pd, int *tapfds, int r,
		     struct vmr_error **err);
void vmr_taplike_grants(const struct vmr_plan_dev *pd, struct vmr_grants *g);
/* The net/ description of the NIC's link. */
struct vmr_net_nic vmr_taplike_net_nic(const struct vmr_setup *s, const struct vmr_plan_dev *pd,
				       const struct vmr_taplike *tl);

#endif
