/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `watchdog: true | {action: reset|poweroff}`: an i6300esb watchdog
 * (PCI).  A guest that arms it and stops feeding it is reset (default)
 * or powered off by QEMU; the supervisor logs QEMU's WATCHDOG event, and
 * a guest powered off by its watchdog ends `vmrun run` with status 6
 * (docs/supervisor.md).
 */
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

static const char *const action_names[] = {"reset", "poweroff", NULL};

struct watchdog {
	unsigned action;
};

static const struct vmr_key watchdog_keys[] = {
    {.name = "action",
     .type = VMR_KEY_ENUM,
     .off = offsetof(struct watchdog, action),
     .flags = VMR_KEY_HW,
     .names = action_names},
    VMR_KEYS_END,
};

static void watchdog_check(const struct vmr_devcheck *c, const struct vmr_device *d)
{
	if (vmr_argv_machine_ide(c->guest->machine) == VMR_IDE_NONE)
		VMR_KEY_ERR(c->kc, d->pos, NULL,
			    "%s: 'watchdog' needs a pc or q35 machine (the i6300esb is PCI), not "
			    "'%s'",
			    c->kc->ctx, c->guest->machine);
}

static int watchdog_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
			 struct vmr_argv *b, struct vmr_error **err)
{
	const struct watchdog *w = VMR_DEVICE_CONF(pd->dev, struct watchdog);
	_cleanup_free_ char *action = xasprintf("watchdog=%s", action_names[w->action]);

	vmr_argv_push_json(b, "-device",
			   json_pack("{s:s, s:s}", "driver", "i6300esb", "id", "watchdog0"));
	vmr_argv_push(b, "-action", action);
	return 0;
}

const struct vmr_device_ops vmr_device_watchdog = {
    .name = "watchdog",
    .cls = VMR_DEVICE_GUEST,
    .summary = "an i6300esb watchdog that resets or powers off a guest that stops feeding it",
    .conf_size = sizeof(struct watchdog),
    .toggle = true,
    .keys = watchdog_keys,
    .check = watchdog_check,
    .argv = watchdog_argv,
};
