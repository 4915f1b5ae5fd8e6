/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun reboot GUEST [--timeout S]: the ACPI power button with QEMU set to
 * pause on the guest's poweroff, then reset and resume; system_reset when
 * the guest does not power off within S seconds (docs/verbs.md).
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/util.h"
#include "lib/runtime/control.h"

struct reboot_opts {
	long long timeout;
};

static const struct vmr_cli_opt reboot_options[] = {
    {"timeout", 't', "S",
     "seconds to wait for the ACPI poweroff before system_reset\n(default: the guest's "
     "stop_timeout)",
     VMR_CLI_SECONDS(struct reboot_opts, timeout, 0, 86400)},
    {0},
};

const struct vmr_cli_cmd cmd_reboot_cli = {
    .name = "reboot",
    .summary = "reboot a guest: ACPI, then a reset after a timeout",
    .synopsis = "GUEST [--timeout S]",
    .description = "Reboot GUEST: press its ACPI power button with QEMU set to pause when the\n"
		   "guest powers off, then reset and resume it (as libvirt's ACPI reboot).  A\n"
		   "guest that does not power off within S seconds is reset with system_reset.\n"
		   "The supervisor and its host changes stay; readiness (ready_when) is checked\n"
		   "again from the new boot.",
    .opts = reboot_options,
    .arg_names = "GUEST",
    .min_args = 1,
    .max_args = 1,
    .exit_status = "0 rebooted, 1 not running or failure, 2 bad usage",
    .run = cmd_reboot,
};

VERB(reboot)
{
	struct reboot_opts o = {.timeout = -1};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	struct vmr_cli_args a;
	json_t *req, *ret = NULL;
	const char *how;
	int r, wait_ms;

	r = vmr_cli_parse(&cmd_reboot_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	req = o.timeout >= 0 ? json_pack("{s:{s:I}}", "reboot", "timeout", (json_int_t)o.timeout)
			     : json_pack("{s:{}}", "reboot");
	/* the power button's wait, then the reset and resume */
	wait_ms =
	    vmr_guest_stop_wait_ms(cfg.state_dir, a.v[0], (int)o.timeout, VMR_DEFAULT_STOP_TIMEOUT);
	r = vmr_control_call(cfg.state_dir, a.v[0], req, wait_ms, &ret, NULL, &err);
	json_decref(req);
	if (r < 0) {
		r = vmr_cli_fail(err);
		goto out;
	}
	how = json_string_value(json_object_get(ret, "how"));
	if (streq(how, "acpi"))
		printf("guest '%s' rebooted (ACPI: it powered off, was reset and resumed)\n",
		       a.v[0]);
	else
		printf("guest '%s' reset (no ACPI poweroff in time)\n", a.v[0]);
	r = VMR_EXIT_OK;
out:
	json_decref(ret);
	vmr_config_free(&cfg);
	return r;
}
