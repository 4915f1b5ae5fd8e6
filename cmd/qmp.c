/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun qmp GUEST COMMAND [JSON-ARGS]: one QMP command through the guest's
 * supervisor (which owns the only QMP connection); prints the reply.
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/runtime/control.h"
#include "lib/base/util.h"

/* the supervisor gives QEMU 60 s per command; we wait a little longer */
#define QMP_REPLY_TIMEOUT_MS 65000

struct qmp_opts {
	bool compact;
};

static const struct vmr_cli_opt qmp_options[] = {
    {"compact", 'c', NULL, "print the JSON on one line", VMR_CLI_FLAG(struct qmp_opts, compact)},
    {0},
};

const struct vmr_cli_cmd cmd_qmp_cli = {
    .name = "qmp",
    .summary = "run a QMP command on a guest and print the reply",
    .synopsis = "[--compact] GUEST COMMAND [JSON-ARGS]",
    .description =
	"Run the QMP command COMMAND with the arguments JSON-ARGS (an object) on\n"
	"GUEST's QEMU and print the reply's \"return\" value as JSON.\n"
	"Example: vmrun qmp a query-cpus-fast\n"
	"         vmrun qmp a human-monitor-command '{\"command-line\": \"info mtree\"}'",
    .opts = qmp_options,
    .arg_names = "GUEST COMMAND [JSON-ARGS]",
    .min_args = 2,
    .max_args = 3,
    .exit_status = "0 success, 1 QMP error (its class and description are\n"
		   "printed) or the guest is not running, 2 bad usage or JSON-ARGS not an object",
    .run = cmd_qmp,
};

VERB(qmp)
{
	struct qmp_opts o = {0};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	_cleanup_free_ char *cls = NULL, *text = NULL;
	json_t *args = NULL, *ret = NULL;
	size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
	const char *guest, *cmd;
	struct vmr_cli_args a;
	json_error_t jerr;
	int r;

	r = vmr_cli_parse(&cmd_qmp_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	if (o.compact)
		flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
	guest = a.v[0];
	cmd = a.v[1];
	if (a.n == 3) {
		args = json_loads(a.v[2], 0, &jerr);
		if (!json_is_object(args)) {
			if (args)
				fprintf(stderr,
					"vmrun: error: qmp: arguments must be a JSON object\n");
			else
				fprintf(stderr, "vmrun: error: qmp: arguments: %s at column %d\n",
					jerr.text, jerr.column);
			json_decref(args);
			return VMR_EXIT_USAGE;
		}
	}
	r = vmr_cli_config(&cfg);
	if (r) {
		json_decref(args);
		return r;
	}
	r = vmr_control_qmp(cfg.state_dir, guest, cmd, args, QMP_REPLY_TIMEOUT_MS, &ret, &cls,
			    &err);
	json_decref(args);
	if (r < 0) {
		/*
		 * The supervisor's description of a QEMU error already names the
		 * class; its own errors (VmrunError) do not.  Only the output is
		 * shaped by this, never the exit status.
		 */
		if (cls && !strstr(err->msg, cls)) {
			char *m = xasprintf("%s (%s)", err->msg, cls);

			free(err->msg);
			err->msg = m;
		}
		r = vmr_cli_fail(err);
		goto out;
	}
	text = json_dumps(ret, flags);
	json_decref(ret);
	if (text)
		printf("%s\n", text);
	r = VMR_EXIT_OK;
out:
	vmr_config_free(&cfg);
	return r;
}
