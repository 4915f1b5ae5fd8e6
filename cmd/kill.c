/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun kill GUEST: QEMU gets SIGKILL at once (no ACPI shutdown); the
 * supervisor still undoes its host changes, and we wait for that.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/runtime/control.h"
#include "lib/base/util.h"

#define KILL_WAIT_MS 30000

static void kill_usage(FILE *f)
{
	fputs("usage: vmrun kill GUEST\n\n"
	      "Kill GUEST's QEMU with SIGKILL (the guest gets no chance to shut down),\n"
	      "then wait until its supervisor has undone its host changes and exited.\n\n"
	      "  -h, --help   show this help\n\n"
	      "exit status: 0 killed (or was not running), 1 failure, 2 bad usage\n",
	      f);
}

VERB(kill)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	const char *guest;
	pid_t pid = 0;
	int c, r, es;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			kill_usage(stdout);
			return VMR_EXIT_OK;
		default:
			kill_usage(stderr);
			return VMR_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "vmrun: error: kill needs one guest name\n");
		kill_usage(stderr);
		return VMR_EXIT_USAGE;
	}
	guest = argv[optind];
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
