/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun stop GUEST [--timeout S]: graceful stop of one guest by name (no
 * topology needed), waiting for its supervisor's teardown.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/runtime/control.h"
#include "lib/base/util.h"

static void stop_usage(FILE *f)
{
	fputs("usage: vmrun stop GUEST [--timeout S]\n\n"
	      "Stop GUEST gracefully: its supervisor presses the ACPI power button, waits\n"
	      "up to S seconds (default: the guest's stop_timeout), then quits QEMU\n"
	      "(SIGKILL if it does not quit) and undoes its host changes.  Waits for all\n"
	      "of that: S + 2 s + 30 s for the teardown at most.\n\n"
	      "  -t, --timeout S   seconds to wait for the guest to power off\n"
	      "  -h, --help        show this help\n\n"
	      "exit status: 0 stopped (or was not running), 1 failure or the supervisor\n"
	      "did not finish in time, 2 bad usage\n",
	      f);
}

VERB(stop)
{
	static const struct option opts[] = {
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	long long timeout_s = -1;
	unsigned long long v;
	const char *guest;
	pid_t pid = 0;
	int c, r, es;

	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (vmr_cli_timeout("stop", optarg, 0, 86400, &v))
				return VMR_EXIT_USAGE;
			timeout_s = (long long)v;
			break;
		case 'h':
			stop_usage(stdout);
			return VMR_EXIT_OK;
		default:
			stop_usage(stderr);
			return VMR_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "vmrun: error: stop needs one guest name\n");
		stop_usage(stderr);
		return VMR_EXIT_USAGE;
	}
	guest = argv[optind];
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	r = vmr_guest_stop(cfg.state_dir, guest, (int)timeout_s, false, &pid, &err);
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
	    vmr_guest_stop_wait_ms(cfg.state_dir, guest, (int)timeout_s, VMR_DEFAULT_STOP_TIMEOUT),
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
