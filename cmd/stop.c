/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun stop GUEST [--timeout S]: graceful stop of one guest by name (no
 * topology needed), waiting for its supervisor's teardown.
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/runtime/control.h"
#include "lib/base/util.h"

struct stop_opts {
	long long timeout;
};

static const struct vmr_cli_opt stop_options[] = {
    {"timeout", 't', "S", "seconds to wait for the guest to power off",
     VMR_CLI_SECONDS(struct stop_opts, timeout, 0, 86400)},
    {0},
};

const struct vmr_cli_cmd cmd_stop_cli = {
    .name = "stop",
    .summary = "stop one guest gracefully and wait",
    .synopsis = "GUEST [--timeout S]",
    .description = "Stop GUEST gracefully: its supervisor presses the ACPI power button, waits\n"
		   "up to S seconds (default: the guest's stop_timeout), then quits QEMU\n"
		   "(SIGKILL if it does not quit) and undoes its host changes.  Waits for all\n"
		   "of that: S + 2 s + 30 s for the teardown at most.",
    .opts = stop_options,
    .arg_names = "GUEST",
    .min_args = 1,
    .max_args = 1,
    .exit_status = "0 stopped (or was not running), 1 failure or the supervisor\n"
		   "did not finish in time, 2 bad usage",
    .run = cmd_stop,
};

VERB(stop)
{
	struct stop_opts o = {.timeout = -1};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	struct vmr_cli_args a;
	const char *guest;
	pid_t pid = 0;
	int r, es;

	r = vmr_cli_parse(&cmd_stop_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	guest = a.v[0];
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	r = vmr_guest_stop(cfg.state_dir, guest, (int)o.timeout, false, &pid, &err);
	if (r < 0) {
		r = vmr_cli_fail(err);
		goto out;
	}
	if (r == 0) {
		printf("guest '%s' is not running\n", guest);
		goto out;
	}
	/* without --timeout: the stop_timeout the supervisor recorded */
	r = vmr_guest_wait_stopped(
	    cfg.state_dir, guest, pid,
	    vmr_guest_stop_wait_ms(cfg.state_dir, guest, (int)o.timeout, VMR_DEFAULT_STOP_TIMEOUT),
	    &es, &err);
	if (r < 0) {
		r = vmr_cli_fail(err);
		goto out;
	}
	vmr_cli_print_stopped(guest, es);
	r = VMR_EXIT_OK;
out:
	vmr_config_free(&cfg);
	return r;
}
