/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun run TOPOLOGY GUEST [--events]: supervise one guest in the foreground. */
#include <getopt.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "cmd/cmd.h"
#include "lib/base/buf.h"
#include "lib/runtime/supervisor.h"
#include "lib/base/util.h"

static void run_usage(FILE *f)
{
	fputs("usage: vmrun run [--events] TOPOLOGY GUEST\n\n"
	      "Start GUEST of TOPOLOGY and supervise it in the foreground until it stops:\n"
	      "the guest console goes to stdout (and STATE/GUEST/console.log), messages to\n"
	      "stderr.  SIGTERM or SIGINT presses the ACPI power button and waits up to the\n"
	      "guest's stop_timeout before quitting QEMU; a second signal skips the wait.\n"
	      "Every host change is undone on the way out.\n\n"
	      "  -e, --events  also print QMP events to stderr as JSON lines\n"
	      "  -h, --help    show this help\n\n"
	      "exit status: 0 the guest powered off, 1 startup or teardown failure,\n"
	      "2 invalid input, 3 QEMU failed, 4 guest panic, 128+N QEMU killed by\n"
	      "signal N, 143 stopped without a guest poweroff (see docs/supervisor.md)\n",
	      f);
}

static void run_log(enum vmr_log_level level, const char *msg, void *userdata)
{
	switch (level) {
	case VMR_LOG_WARNING:
		fprintf(stderr, "vmrun: warning: %s\n", msg);
		break;
	case VMR_LOG_EVENT:
		fprintf(stderr, "%s\n", msg);
		break;
	default:
		fprintf(stderr, "vmrun: %s\n", msg);
		break;
	}
}

/*
 * Tell whoever started us (`vmrun up`, systemd: NOTIFY_SOCKET) why the
 * start failed: the log may be on a full disk.
 */
static void notify_failure(const struct vmr_error *err)
{
	_cleanup_free_ char *text = vmr_error_text(err);

	(void)sd_notifyf(0, "STATUS=%s\nERRNO=%d", text ? text : "failed", err ? err->errnum : 0);
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"events", no_argument, NULL, 'e'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct vmr_config cfg = {0};
	struct vmr_topology *t = NULL;
	struct vmr_error *err = NULL;
	struct vmr_supervisor_opts o = {.console_fd = STDOUT_FILENO, .log = run_log};
	const struct vmr_guest *g;
	int c, r, status = 0;

	while ((c = getopt_long(argc, argv, "eh", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			o.events = true;
			break;
		case 'h':
			run_usage(stdout);
			return VMR_EXIT_OK;
		default:
			run_usage(stderr);
			return VMR_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "vmrun: error: run needs a topology file and a guest name\n");
		run_usage(stderr);
		return VMR_EXIT_USAGE;
	}
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	r = vmr_cli_topology(argv[optind], &t);
	if (r) {
		vmr_config_free(&cfg);
		return r;
	}
	g = vmr_topology_guest(t, argv[optind + 1]);
	if (!g) {
		vmr_error_usage(&err, "guest '%s' not found in '%s'", argv[optind + 1],
				argv[optind]);
		if (t->nguests > 0) {
			struct vmr_buf names = VMR_BUF_INIT;

			for (size_t i = 0; i < t->nguests; i++)
				vmr_buf_addf(&names, "%s%s", i ? ", " : "", t->guests[i].name);
			vmr_error_hint(&err, "guests: %s", vmr_buf_str(&names));
			vmr_buf_free(&names);
		}
		r = vmr_cli_fail(err);
		goto out;
	}
	o.cfg = &cfg;
	o.topo = t;
	o.guest = g;
	o.topo_path = argv[optind];
	if (vmr_supervisor_run(&o, &status, &err) < 0) {
		notify_failure(err);
		r = vmr_cli_fail(err);
	} else {
		r = status;
	}
out:
	vmr_topology_free(t);
	vmr_config_free(&cfg);
	return r;
}
