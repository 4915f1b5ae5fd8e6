/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_TAPLIKE_H
#define VMR_TAPLIKE_H

/*
 * What the NIC kinds backed by a tap (macvtap, bridge, tap) share: the
 * `queues` and `model` keys, one tap fd per queue and a vhost-net fd per
 * queue when the host has vhost-net and the model is virtio-net, the
 * -netdev tap and the guest's NIC device.  Their conf structs start with
 * a struct vmr_taplike, so the hooks below serve them directly.
 * Internal to lib/devices/.
 */

#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

struct vmr_taplike {
	unsigned queues; /* >= 1; multiqueue tap when > 1 */
	char *model;	 /* QEMU device model, default virtio-net-pci */
};

/* The keys of a kind whose conf starts with a struct vmr_taplike named tl. */
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

/* Hooks for struct vmr_device_ops of such a kind (lib/model/device.h). */
void vmr_taplike_init(void *conf);
/* more than one queue needs a virtio-net model */
void vmr_taplike_check(const struct vmr_devcheck *c, const struct vmr_device *d);
/* the fds; the host interface is vm-<MAC12> (the link vmrun makes) */
void vmr_taplike_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd);
int vmr_taplike_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		     struct vmr_error **err);

/* Whether model (NULL: the default) is a virtio-net one. */
bool vmr_taplike_virtio(const char *model);

/* The grants every tap-backed NIC needs (NET_ADMIN, vhost-net when planned). */
void vmr_taplike_grants(const struct vmr_plan_dev *pd, struct vmr_grants *g);

/*
 * A kind's own step of the host setup: make or find the tap of nic and
 * open its queues into tapfds, the interface's name in *ret_ifname (may
 * stay NULL).
 */
typedef int (*vmr_taplike_open_fn)(struct vmr_setup *s, const struct vmr_plan_dev *pd,
				   const struct vmr_net_nic *nic, char **ret_ifname, int *tapfds,
				   struct vmr_error **err);

/*
 * The setup hook's body: open (the kind's step), the tap fds handed to
 * the child (even on failure, so each is closed once), then vhost-net fds.
 */
int vmr_taplike_setup(struct vmr_setup *s, struct vmr_plan_dev *pd, vmr_taplike_open_fn open,
		      struct vmr_error **err);

#endif
