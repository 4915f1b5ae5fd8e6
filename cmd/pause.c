/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun pause GUEST, vmrun resume GUEST: QMP stop and cont through the
 * supervisor.  A paused guest is not healthy (docs/verbs.md).
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/util.h"
#include "lib/runtime/control.h"

static int pause_or_resume(const struct vmr_cli_cmd *cli, int argc, char **argv, bool pause)
{
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	struct vmr_cli_args a;
	int r;

	r = vmr_cli_parse(cli, argc, argv, NULL, &a);
	if (r != VMR_CLI_RUN)
		return r;
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	r = vmr_control_qmp(cfg.state_dir, a.v[0], pause ? "stop" : "cont", NULL,
			    VMR_CONTROL_TIMEOUT_MS, NULL, NULL, &err);
	if (r < 0)
		r = vmr_cli_fail(err);
	else
		printf("guest '%s' %s\n", a.v[0], pause ? "paused" : "resumed");
	vmr_config_free(&cfg);
	return r;
}

const struct vmr_cli_cmd cmd_pause_cli = {
    .name = "pause",
    .summary = "pause a guest's vCPUs (QMP stop)",
    .synopsis = "GUEST",
    .description = "Pause GUEST: its vCPUs stop (QMP stop); memory and devices stay as they are.\n"
		   "`vmrun resume` lets it run on.  A paused guest is not healthy.",
    .arg_names = "GUEST",
    .min_args = 1,
    .max_args = 1,
    .exit_status = "0 paused, 1 not running or failure, 2 bad usage",
    .run = cmd_pause,
};

const struct vmr_cli_cmd cmd_resume_cli = {
    .name = "resume",
    .summary = "let a paused guest run on (QMP cont)",
    .synopsis = "GUEST",
    .description = "Resume GUEST after `vmrun pause` (QMP cont).",
    .arg_names = "GUEST",
    .min_args = 1,
    .max_args = 1,
    .exit_status = "0 resumed, 1 not running or failure, 2 bad usage",
    .run = cmd_resume,
};

VERB(pause)
{
	return pause_or_resume(&cmd_pause_cli, argc, argv, true);
}

VERB(resume)
{
	return pause_or_resume(&cmd_resume_cli, argc, argv, false);
}
