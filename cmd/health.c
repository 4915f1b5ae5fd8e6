/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun health: the container healthcheck.  A guest is healthy while its
 * supervisor runs it with the vCPUs pinned: the supervisor holds the
 * guest's lock (which catches a ready file left by a supervisor that was
 * killed) and STATE/GUEST/ready exists.  A host is healthy once `host up`
 * finished.
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "lib/base/statedir.h"
#include "lib/base/util.h"

static void usage(FILE *f)
{
	fputs("usage: vmrun health GUEST\n"
	      "       vmrun health --host [HOST]\n\n"
	      "Tell whether GUEST runs with its vCPUs pinned under a live supervisor,\n"
	      "or whether `vmrun host up` has finished setting up HOST (default: the\n"
	      "local machine).  For container healthchecks.\n\n"
	      "      --host     check the host setup instead of a guest\n"
	      "  -h, --help     show this help\n\n"
	      "exit status: 0 healthy, 1 not (with the reason), 2 bad usage\n",
	      f);
}

static int guest_health(const char *state, const char *name, struct vmr_error **err)
{
	_cleanup_free_ char *ready = vmr_statedir_path(state, name, "ready");
	struct stat st;
	int r;

	r = vmr_statedir_probe(state, name, NULL, err);
	if (r < 0)
		return r;
	if (r == 0)
		return vmr_error_set(err, 0, "guest '%s' has no supervisor running", name);
	if (stat(ready, &st) < 0)
		return vmr_error_set(err, errno, "guest '%s' is not ready: '%s'", name, ready);
	return 0;
}

static int host_health(const char *state, const char *host, struct vmr_error **err)
{
	_cleanup_free_ char *ready = xasprintf("%s/host-%s/ready", state, host);
	struct stat st;

	if (stat(ready, &st) < 0)
		return vmr_error_set(err, errno, "host '%s' is not set up: '%s'", host, ready);
	return 0;
}

VERB(health)
{
	static const struct option opts[] = {
	    {"host", no_argument, NULL, 'H'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	bool host = false;
	const char *name;
	int c, status;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			host = true;
			break;
		case 'h':
			usage(stdout);
			return VMR_EXIT_OK;
		default:
			usage(stderr);
			return VMR_EXIT_USAGE;
		}
	}
	if (argc - optind > 1 || (!host && argc - optind != 1)) {
		fprintf(stderr, "vmrun: error: health needs %s\n",
			host ? "at most one host name" : "one guest name (or --host [HOST])");
		usage(stderr);
		return VMR_EXIT_USAGE;
	}
	name = optind < argc ? argv[optind] : "local";
	status = vmr_cli_config(&cfg);
	if (status)
		return status;
	if ((host ? host_health(cfg.state_dir, name, &err)
		  : guest_health(cfg.state_dir, name, &err)) < 0)
		status = vmr_cli_fail(err);
	else
		printf("%s '%s' is %s\n", host ? "host" : "guest", name,
		       host ? "set up" : "running");
	vmr_config_free(&cfg);
	return status;
}
