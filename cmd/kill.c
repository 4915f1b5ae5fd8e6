/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun kill GUEST: QEMU gets SIGKILL at once (no ACPI shutdown); the
 * supervisor still undoes its host changes, and we wait for that.
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/runtime/control.h"
#include "lib/base/util.h"

#define KILL_WAIT_MS 30000

const struct vmr_cli_cmd cmd_kill_cli = {
    .name = "kill",
    .summary = "kill one guest's QEMU at once; the host is still restored",
    .synopsis = "GUEST",
    .description = "Kill GUEST's QEMU with SIGKILL (the guest gets no chance to shut down),\n"
		   "then wait until its supervisor has undone its host changes and exited.",
    .arg_names = "GUEST",
    .min_args = 1,
    .max_args = 1,
    .exit_status = "0 killed (or was not running), 1 failure, 2 bad usage",
    .run = cmd_kill,
};

VERB(kill)
{
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	struct vmr_cli_args a;
	const char *guest;
	pid_t pid = 0;
	int r, es;

	r = vmr_cli_parse(&cmd_kill_cli, argc, argv, NULL, &a);
	if (r != VMR_CLI_RUN)
		return r;
	guest = a.v[0];
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	r = vmr_guest_stop(cfg.state_dir, guest, -1, true, &pid, &err);
	if (r < 0) {
		r = vmr_cli_fail(err);
		goto out;
	}
	if (r == 0) {
		printf("guest '%s' is not running\n", guest);
		goto out;
	}
	r = vmr_guest_wait_stopped(cfg.state_dir, guest, pid, KILL_WAIT_MS, &es, &err);
	if (r < 0) {
		r = vmr_cli_fail(err);
		goto out;
	}
	printf("guest '%s' killed\n", guest);
	r = VMR_EXIT_OK;
out:
	vmr_config_free(&cfg);
	return r;
}
