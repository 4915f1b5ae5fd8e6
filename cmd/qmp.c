/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun qmp GUEST COMMAND [JSON-ARGS]: one QMP command through the guest's
 * supervisor (which owns the only QMP connection); prints the reply.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/runtime/control.h"
#include "lib/base/util.h"

/* the supervisor gives QEMU 60 s per command; we wait a little longer */
#define QMP_REPLY_TIMEOUT_MS 65000

static void qmp_usage(FILE *f)
{
	fputs("usage: vmrun qmp [--compact] GUEST COMMAND [JSON-ARGS]\n\n"
	      "Run the QMP command COMMAND with the arguments JSON-ARGS (an object) on\n"
	      "GUEST's QEMU and print the reply's \"return\" value as JSON.\n"
	      "Example: vmrun qmp a query-cpus-fast\n"
	      "         vmrun qmp a human-monitor-command '{\"command-line\": \"info mtree\"}'\n\n"
	      "  -c, --compact  print the JSON on one line\n"
	      "  -h, --help     show this help\n\n"
	      "exit status: 0 success, 1 QMP error (its class and description are\n"
	      "printed) or the guest is not running, 2 bad usage or JSON-ARGS not an object\n",
	      f);
}

VERB(qmp)
{
	static const struct option opts[] = {
	    {"compact", no_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	_cleanup_free_ char *cls = NULL, *text = NULL;
	json_t *args = NULL, *req = NULL, *ret = NULL;
	size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
	const char *guest, *cmd;
	json_error_t jerr;
	int c, r;

	while ((c = getopt_long(argc, argv, "ch", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
			break;
		case 'h':
			qmp_usage(stdout);
			return VMR_EXIT_OK;
		default:
			qmp_usage(stderr);
			return VMR_EXIT_USAGE;
		}
	}
	if (argc - optind < 2 || argc - optind > 3) {
		fprintf(stderr, "vmrun: error: qmp needs a guest name, a command and optionally "
				"its arguments\n");
		qmp_usage(stderr);
		return VMR_EXIT_USAGE;
	}
	guest = argv[optind];
	cmd = argv[optind + 1];
	if (argc - optind == 3) {
		args = json_loads(argv[optind + 2], 0, &jerr);
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
	req = json_pack("{s:{s:s}}", "qmp", "execute", cmd);
	if (args)
		json_object_set_new(json_object_get(req, "qmp"), "arguments", args);
	r = vmr_control_call(cfg.state_dir, guest, req, QMP_REPLY_TIMEOUT_MS, &ret, &cls, &err);
	json_decref(req);
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
