/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun health: the container healthcheck.  A guest is healthy while its
 * supervisor runs it with the vCPUs pinned: the supervisor holds the
 * guest's lock (which catches a ready file left by a supervisor that was
 * killed) and STATE/GUEST/ready exists.  A host is healthy once `host up`
 * finished.
 */
#include <stdio.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "lib/base/statedir.h"
#include "lib/base/util.h"

struct health_opts {
	const char *host;
};

static const struct vmr_cli_opt health_options[] = {
    VMR_CLI_OPT_HOST("check the setup of host NAME (or HOST) instead of a guest",
		     struct health_opts, host),
    {0},
};

const struct vmr_cli_cmd cmd_health_cli = {
    .name = "health",
    .summary = "healthcheck: is a guest running (or a host set up)",
    .synopsis = "GUEST\n--host [HOST]",
    .description = "Tell whether GUEST runs with its vCPUs pinned under a live supervisor,\n"
		   "or whether `vmrun host up` has finished setting up HOST (default: the\n"
		   "local machine).  For container healthchecks.",
    .opts = health_options,
    .arg_names = "GUEST",
    .max_args = 1,
    .exit_status = "0 healthy, 1 not (with the reason), 2 bad usage",
    .run = cmd_health,
};

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
	struct health_opts o = {0};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	struct vmr_cli_args a;
	const char *name;
	int status;

	status = vmr_cli_parse(&cmd_health_cli, argc, argv, &o, &a);
	if (status != VMR_CLI_RUN)
		return status;
	if (o.host) {
		if (vmr_cli_host(&cmd_health_cli, o.host, a.n ? a.v[0] : NULL, &name))
			return VMR_EXIT_USAGE;
		if (!name)
			name = "local";
	} else if (a.n == 0) {
		return vmr_cli_usage_error(&cmd_health_cli, "missing GUEST (or --host [HOST])");
	} else {
		name = a.v[0];
	}
	status = vmr_cli_config(&cfg);
	if (status)
		return status;
	if ((o.host ? host_health(cfg.state_dir, name, &err)
		    : guest_health(cfg.state_dir, name, &err)) < 0)
		status = vmr_cli_fail(err);
	else
		printf("%s '%s' is %s\n", o.host ? "host" : "guest", name,
		       o.host ? "set up" : "running");
	vmr_config_free(&cfg);
	return status;
}
