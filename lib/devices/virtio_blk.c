/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `bus: virtio` (the default): a virtio-blk-pci disk; `iothread: K` runs
 * its I/O on the guest's iothread ioK (`iothreads: N`, threads.c).
 */
#include <stdio.h>

#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

struct virtio_blk {
	bool has_iothread;
	unsigned iothread;
	struct vmr_pos iothread_pos;
};

static bool iothread_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field, void *obj)
{
	struct virtio_blk *v = obj;

	v->iothread_pos = n->pos;
	if (!vmr_key_uint(c, n, "iothread", 0, 63, field))
		return false;
	v->has_iothread = true;
	return true;
}

static json_t *iothread_json(const void *field)
{
	const struct virtio_blk *v =
	    (const struct virtio_blk *)((const char *)field -
					offsetof(struct virtio_blk, iothread));

	return v->has_iothread ? json_integer(v->iothread) : json_null();
}

static const struct vmr_key keys[] = {
    {.name = "iothread",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct virtio_blk, iothread),
     .parse = iothread_parse,
     .json = iothread_json},
    VMR_KEYS_END,
};

static void virtio_check_guest(const struct vmr_devcheck *c, const struct vmr_device *d)
{
	const struct virtio_blk *v = VMR_DEVICE_CONF(d, struct virtio_blk);
	unsigned n = vmr_device_iothreads_count(c->guest);

	if (!v->has_iothread)
		return;
	if (!n)
		VMR_KEY_ERR(c->kc, v->iothread_pos, "add 'iothreads: N' to the guest",
			    "%s: disk 'iothread: %u' needs the guest's 'iothreads'", c->kc->ctx,
			    v->iothread);
	else if (v->iothread >= n)
		VMR_KEY_ERR(c->kc, v->iothread_pos, NULL,
			    "%s: disk 'iothread: %u' but the guest has %u iothread%s (0..%u)",
			    c->kc->ctx, v->iothread, n, n == 1 ? "" : "s", n - 1);
}

static int virtio_fill(struct vmr_argv *b, const struct vmr_plan_dev *pd, json_t *dev,
		       struct vmr_error **err)
{
	const struct virtio_blk *v = VMR_DEVICE_CONF(pd->dev, struct virtio_blk);
	char id[16];

	if (v->has_iothread) {
		snprintf(id, sizeof(id), "io%u", v->iothread);
		json_object_set_new(dev, "iothread", json_string(id));
	}
	return 0;
}

static int virtio_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		       struct vmr_error **err)
{
	return vmr_argv_disk(b, pd, "virtio-blk-pci", virtio_fill, false, err);
}

const struct vmr_device_ops vmr_device_virtio_blk = {
    .name = "virtio",
    .cls = VMR_DEVICE_DISK,
    .summary = "virtio-blk-pci (the default bus)",
    .conf_size = sizeof(struct virtio_blk),
    .keys = keys,
    .check_guest = virtio_check_guest,
    .argv = virtio_argv,
};
