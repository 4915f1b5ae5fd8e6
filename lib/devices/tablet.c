/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `tablet: true`: a USB tablet (usb-tablet on the xHCI controller), so a
 * VNC client's pointer maps to the guest's by absolute position instead
 * of being captured and moved relatively.
 */
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

static void tablet_check(const struct vmr_devcheck *c, const struct vmr_device *d)
{
	if (vmr_argv_machine_ide(c->guest->machine) == VMR_IDE_NONE)
		VMR_KEY_ERR(c->kc, d->pos, NULL,
			    "%s: 'tablet' needs a pc or q35 machine (its xHCI controller is PCI), "
			    "not '%s'",
			    c->kc->ctx, c->guest->machine);
}

static int tablet_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		       struct vmr_error **err)
{
	json_t *dev = json_pack("{s:s}", "driver", "usb-tablet");

	vmr_argv_usb_attach(b, dev);
	json_object_set_new(dev, "id", json_string("tablet0"));
	vmr_argv_push_json(b, "-device", dev);
	return 0;
}

const struct vmr_device_ops vmr_device_tablet = {
    .name = "tablet",
    .cls = VMR_DEVICE_GUEST,
    .summary = "a USB tablet: absolute pointer for VNC clients",
    .check = tablet_check,
    .argv = tablet_argv,
};
