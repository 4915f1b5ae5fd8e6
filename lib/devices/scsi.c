/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bus: scsi`: a scsi-hd on one virtio-scsi-pci controller shared by the guest's SCSI disks. */
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

static int scsi_fill(struct vmr_argv *b, const struct vmr_plan_dev *pd, json_t *dev,
		     struct vmr_error **err)
{
	vmr_argv_scsi_attach(b, dev);
	return 0;
}

static int scsi_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		     struct vmr_error **err)
{
	return vmr_argv_disk(b, pd, "scsi-hd", scsi_fill, false, err);
}

const struct vmr_device_ops vmr_device_scsi = {
    .name = "scsi",
    .cls = VMR_DEVICE_DISK,
    .summary = "scsi-hd on a virtio-scsi-pci controller",
    .argv = scsi_argv,
};
