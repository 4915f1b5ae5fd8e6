/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun systemd: the systemd unit drop-ins of one host's guests (docs/systemd.md). */
#include <stdio.h>

#include "cmd/cmd.h"
#include "cmd/compose.h"
#include "compose/compose.h"
#include "lib/base/util.h"

struct systemd_opts {
	const char *output;
	const char *host;
};

static const struct vmr_cli_opt systemd_options[] = {
    {"output", 'o', "DIR",
     "the directory to write (created if missing), e.g.\n"
     "/etc/systemd/system",
     VMR_CLI_STRING(struct systemd_opts, output), .flags = VMR_CLI_REQUIRED},
    VMR_CLI_OPT_HOST("the guests placed on host NAME (default: the primary host,\n"
		     "or this machine when the topology names no hosts)",
		     struct systemd_opts, host),
    {0},
};

const struct vmr_cli_cmd cmd_systemd_cli = {
    .name = "systemd",
    .summary = "write the systemd units that run a host's guests",
    .synopsis = "TOPOLOGY -o DIR [--host NAME]",
    .description = "Write into DIR what runs the guests of TOPOLOGY placed on one host under\n"
		   "systemd, over the template units vmrun@.service (one guest per instance,\n"
		   "Type=notify: started once the guest runs with its vCPUs pinned; stopped\n"
		   "with the ACPI power button) and vmrun-host@.service (the host setup):\n"
		   "\n"
		   "  vmrun@GUEST.service.d/50-vmrun.conf    the topology file (by its absolute\n"
		   "                                         path), TimeoutStopSec from the\n"
		   "                                         guest's stop_timeout, the host setup\n"
		   "                                         it needs\n"
		   "  vmrun-host@HOST.service.d/50-vmrun.conf  when the host has a ctrlif or VFs\n"
		   "  vmrun-NAME.target                      wants every guest (NAME: the\n"
		   "                                         topology's file name)\n"
		   "\n"
		   "Then: systemctl daemon-reload; systemctl start vmrun-NAME.target (or\n"
		   "vmrun@GUEST).  Nothing is written unless the topology is valid.",
    .opts = systemd_options,
    .arg_names = "TOPOLOGY",
    .min_args = 1,
    .max_args = 1,
    .footer = "The global --state-dir DIR (absolute) goes into the units as\n"
	      "VMRUN_STATE_DIR.",
    .exit_status = "0 written, 1 runtime failure, 2 bad usage, an invalid topology\n"
		   "or an unknown host (nothing written).  See docs/systemd.md.",
    .run = cmd_systemd,
};

VERB(systemd)
{
	struct systemd_opts o = {0};
	struct vmr_compose_opts co = {0};
	struct vmr_compose_files files = {0};
	struct vmr_topology *t = NULL;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *text = NULL, *dir = NULL, *path = NULL;
	struct vmr_cli_args a;
	const char *base;
	size_t len = 0;
	int status;

	status = vmr_cli_parse(&cmd_systemd_cli, argc, argv, &o, &a);
	if (status != VMR_CLI_RUN)
		return status;
	status = vmr_cli_compose_check(&cmd_systemd_cli, NULL);
	if (status)
		return status;
	status = vmr_cli_compose_input(a.v[0], &t, &text, &len, &dir);
	if (status)
		return status;
	/* the units name the file where it is: relative paths in it resolve there */
	base = strrchr(a.v[0], '/');
	path = xasprintf("%s/%s", dir, base ? base + 1 : a.v[0]);
	co.topology_name = base ? base + 1 : a.v[0];
	co.state_dir = vmr_opts.state_dir;
	if (compose_systemd_build(t, &co, path, o.host && *o.host ? o.host : NULL, &files, &err) <
		0 ||
	    compose_dir_write(o.output, &files, NULL, &err) < 0) {
		status = vmr_cli_fail(err);
		goto out;
	}
	printf("wrote %s: %zu unit file%s\n", o.output, files.n, files.n == 1 ? "" : "s");
out:
	compose_files_free(&files);
	vmr_topology_free(t);
	return status;
}
