/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun: global options and verb dispatch. */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/util.h"

struct vmr_global_opts vmr_opts;

struct main_opts {
	const char *config;
	const char *state_dir;
	bool version;
};

/* clang-format off: one verb a line, in the order --help lists them */
static const struct vmr_cli_cmd *const verbs[] = {
    &cmd_run_cli,      &cmd_up_cli,	  &cmd_down_cli,     &cmd_ps_cli,
    &cmd_stop_cli,     &cmd_kill_cli,	  &cmd_console_cli,  &cmd_qmp_cli,
    &cmd_vnc_cli,      &cmd_media_cli,	  &cmd_reboot_cli,   &cmd_pause_cli,
    &cmd_resume_cli,   &cmd_restart_cli,  &cmd_snapshot_cli, &cmd_disk_cli,
    &cmd_clone_cli,    &cmd_rm_cli,	  &cmd_inspect_cli,  &cmd_stats_cli,
    &cmd_exporter_cli, &cmd_validate_cli, &cmd_args_cli,     &cmd_define_cli,
    &cmd_image_cli,    &cmd_host_cli,	  &cmd_devices_cli,  &cmd_compose_cli,
    &cmd_kube_cli,     &cmd_health_cli,	  &cmd_probe_cli,    NULL,
};
/* clang-format on */

static const struct vmr_cli_opt main_options[] = {
    {"config", 0, "FILE", "the configuration file (docs/configuration.md)",
     VMR_CLI_STRING(struct main_opts, config)},
    {"state-dir", 0, "DIR", "the state directory (docs/state-dir.md)",
     VMR_CLI_STRING(struct main_opts, state_dir)},
    {"version", 0, NULL, "print the version", VMR_CLI_FLAG(struct main_opts, version)},
    {0},
};

static const struct vmr_cli_cmd main_cli = {
    .synopsis = "[--config FILE] [--state-dir DIR] VERB [ARGS...]\n"
		"--help | --version | VERB --help",
    .description = "A launcher for QEMU/KVM guests without libvirt.",
    .opts = main_options,
    .arg_names = "VERB [ARGS...]",
    .max_args = VMR_CLI_ANY,
    .exit_status = "0 success, 1 runtime failure, 2 bad usage or invalid input\n"
		   "documentation: " VMR_DOCDIR " (topology format, each verb)",
    .subs = verbs,
};

int main(int argc, char **argv)
{
	struct main_opts o = {0};
	struct vmr_cli_args a;
	int status;

	/* getopt names argv[0] in its messages: make it "vmrun" whatever the path */
	argv[0] = (char *)"vmrun";
	status = vmr_cli_parse(&main_cli, argc, argv, &o, &a);
	if (status != VMR_CLI_RUN)
		return status;
	if (o.version) {
		printf("vmrun %s\n", VMR_VERSION);
		return VMR_EXIT_OK;
	}
	if (a.n == 0)
		return vmr_cli_usage_error(&main_cli, "missing VERB");
	vmr_opts.config = o.config;
	vmr_opts.state_dir = o.state_dir;
	return vmr_cli_run_sub(&main_cli, &a);
}
