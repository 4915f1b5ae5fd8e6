/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bus: virtio` (the default): a virtio-blk-pci disk. */
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

static int virtio_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		       struct vmr_error **err)
{
	return vmr_argv_disk(b, pd, "virtio-blk-pci", NULL, false, err);
}

const struct vmr_device_ops vmr_device_virtio_blk = {
    .name = "virtio",
    .cls = VMR_DEVICE_DISK,
    .summary = "virtio-blk-pci (the default bus)",
    .argv = virtio_argv,
};
