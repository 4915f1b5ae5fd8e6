/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `cdrom: PATH`: read-only removable media: ide-cd where the machine has
 * IDE (installer ISOs need no virtio driver), else scsi-cd.
 */
#include <stdio.h>

#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/devices/ide.h"
#include "lib/plan/argv.h"

static void cdrom_check(const struct vmr_devcheck *c, const struct vmr_device *d)
{
	/* on a machine without IDE it is a scsi-cd: nothing to count */
	if (vmr_argv_machine_ide(c->guest->machine) != VMR_IDE_NONE)
		vmr_ide_check(c, "a cdrom");
}

static int cdrom_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		      struct vmr_error **err)
{
	_cleanup_free_ char *path = vmr_plan_path(p, pd->disk->file);
	_cleanup_free_ char *what = xasprintf("disk '%s'", pd->disk->file);
	char id[32];

	snprintf(id, sizeof(id), "disk%zu", pd->index);
	return vmr_argv_cdrom(b, id, path, false, what, err);
}

const struct vmr_device_ops vmr_device_cdrom = {
    .name = "cdrom",
    .cls = VMR_DEVICE_DISK,
    .summary = "read-only removable media (ide-cd, or scsi-cd without IDE)",
    .keyed = true,
    .ide = true,
    .check = cdrom_check,
    .argv = cdrom_argv,
};
