/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `bus: ide`: an ide-hd on the machine's IDE controller (q35's AHCI: 6
 * ports; pc's PIIX: 4 units), shared with the cdroms.
 */
#include <stdio.h>

#include "lib/devices/devices.h"
#include "lib/devices/ide.h"
#include "lib/plan/argv.h"

void vmr_ide_check(const struct vmr_devcheck *c, const char *what)
{
	const struct vmr_guest *g = c->guest;
	enum vmr_ide_kind ide = vmr_argv_machine_ide(g->machine);
	const struct vmr_ynode *bus = vmr_key_get(c->map, "bus");
	struct vmr_pos pos = bus ? bus->pos : c->disk->pos;
	unsigned used = 0;

	if (ide == VMR_IDE_NONE) {
		VMR_KEY_ERR(c->kc, pos, "use bus virtio or scsi",
			    "%s: %s needs a q35 or pc machine, not '%s'", c->kc->ctx, what,
			    g->machine);
		return;
	}
	/* this disk and those before it that take an IDE slot */
	for (size_t i = 0; i < g->ndisks; i++) {
		const struct vmr_disk *d = &g->disks[i];

		if (d->bus.ops && d->bus.ops->ide)
			used++;
		if (d == c->disk)
			break;
	}
	if (used > vmr_argv_ide_slots(ide))
		VMR_KEY_ERR(c->kc, pos, "use bus virtio or scsi for the others",
			    "%s: more than %u ide devices (disks with bus ide, cdroms) on machine "
			    "'%s'",
			    c->kc->ctx, vmr_argv_ide_slots(ide), g->machine);
}

static void ide_check(const struct vmr_devcheck *c, const struct vmr_device *d)
{
	const struct vmr_ynode *ro = vmr_key_get(c->map, "readonly");

	vmr_ide_check(c, "bus 'ide'");
	if (c->disk->readonly && ro)
		VMR_KEY_ERR(c->kc, ro->pos, "use bus virtio or scsi",
			    "%s: an ide disk cannot be read-only (qemu's ide-hd refuses it)",
			    c->kc->ctx);
}

static int ide_fill(struct vmr_argv *b, const struct vmr_plan_dev *pd, json_t *dev,
		    struct vmr_error **err)
{
	char what[48];

	snprintf(what, sizeof(what), "disk #%zu", pd->index + 1);
	return vmr_argv_ide_attach(b, dev, what, err);
}

static int ide_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		    struct vmr_error **err)
{
	return vmr_argv_disk(b, pd, "ide-hd", ide_fill, false, err);
}

const struct vmr_device_ops vmr_device_ide = {
    .name = "ide",
    .cls = VMR_DEVICE_DISK,
    .summary = "ide-hd on the machine's IDE controller (q35, pc)",
    .ide = true,
    .check = ide_check,
    .argv = ide_argv,
};
