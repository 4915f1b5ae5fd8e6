/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bus: nvme`: an NVMe controller per disk. */
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

/* with serial diskN: nvme refuses to start without one; the guest sees /dev/disk/by-id/nvme-*_diskN
 */
static int nvme_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		     struct vmr_error **err)
{
	return vmr_argv_disk(b, pd, "nvme", NULL, true, err);
}

const struct vmr_device_ops vmr_device_nvme = {
    .name = "nvme",
    .cls = VMR_DEVICE_DISK,
    .summary = "an NVMe controller",
    .argv = nvme_argv,
};
