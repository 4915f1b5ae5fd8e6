/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun health: the container healthcheck.  A guest is healthy while its
 * supervisor runs it, ready as its ready_when says and not paused: the
 * supervisor holds the guest's lock (which catches files left by a
 * supervisor that was killed), STATE/GUEST/ready and STATE/GUEST/healthy
 * exist.  A host is healthy once `host up` finished.  With --live, only
 * whether the supervisor is alive: it holds the lock and answers a control
 * request, however far the guest booted and paused or not (kube's
 * livenessProbe: a probe that restarts the container must not fire on a
 * guest still booting or paused on purpose).
 */
#include <stdio.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "lib/base/statedir.h"
#include "lib/base/util.h"
#include "lib/runtime/control.h"

struct health_opts {
	const char *host;
	bool live;
};

/* how long --live waits for the supervisor's answer */
#define HEALTH_LIVE_TIMEOUT_MS 3000

static const struct vmr_cli_opt health_options[] = {
    {"live", 'l', NULL,
     "only whether GUEST's supervisor is alive and\n"
     "answers, booted or not (kube's livenessProbe)",
     VMR_CLI_FLAG(struct health_opts, live)},
    VMR_CLI_OPT_HOST("check the setup of host NAME (or HOST) instead of a guest",
		     struct health_opts, host),
    {0},
};

const struct vmr_cli_cmd cmd_health_cli = {
    .name = "health",
    .summary = "healthcheck: is a guest running (or a host set up)",
    .synopsis = "GUEST\n--live GUEST\n--host [HOST]",
    .description = "Tell whether GUEST is ready under a live supervisor: running with its\n"
		   "vCPUs pinned, ready as its ready_when says (booted) and not paused; or\n"
		   "whether `vmrun host up` has finished setting up HOST (default: the local\n"
		   "machine).  For container healthchecks (compose's service_healthy).\n"
		   "With --live, whether GUEST's supervisor is alive and answers, booted\n"
		   "or not: Kubernetes' livenessProbe (a failure restarts the container).",
    .opts = health_options,
    .arg_names = "GUEST",
    .max_args = 1,
    .exit_status = "0 healthy, 1 not (with the reason), 2 bad usage",
    .run = cmd_health,
};

/* Why a running guest is not healthy, from its supervisor (best effort). */
static int not_ready(const char *state, const char *name, struct vmr_error **err)
{
	json_t *req = json_pack("{s:n}", "health"), *h = NULL;
	const char *when, *last;
	int r;

	if (vmr_control_call(state, name, req, 2000, &h, NULL, NULL) < 0)
		h = NULL;
	json_decref(req);
	when = json_string_value(json_object_get(h, "ready_when"));
	last = json_string_value(json_object_get(h, "last"));
	if (json_is_true(json_object_get(h, "paused")))
		r = vmr_error_set(err, 0, "guest '%s' is paused", name);
	else if (when)
		r = vmr_error_set(err, 0, "guest '%s' is not ready yet (ready_when %s)%s%s%s", name,
				  when, last ? ": last seen '" : "", last ? last : "",
				  last ? "'" : "");
	else
		r = vmr_error_set(err, 0, "guest '%s' is not ready yet", name);
	json_decref(h);
	return r;
}

static int guest_health(const char *state, const char *name, struct vmr_error **err)
{
	_cleanup_free_ char *ready = vmr_statedir_path(state, name, "ready");
	_cleanup_free_ char *healthy = vmr_statedir_path(state, name, "healthy");
	struct stat st;
	int r;

	r = vmr_statedir_probe(state, name, NULL, err);
	if (r < 0)
		return r;
	if (r == 0)
		return vmr_error_set(err, 0, "guest '%s' has no supervisor running", name);
	if (stat(ready, &st) < 0)
		return vmr_error_set(err, errno, "guest '%s' is not running: '%s'", name, ready);
	if (stat(healthy, &st) < 0)
		return not_ready(state, name, err);
	return 0;
}

/* --live: a supervisor holds the lock and answers a control request in time. */
static int guest_live(const char *state, const char *name, pid_t *ret_pid, struct vmr_error **err)
{
	json_t *req, *h = NULL;
	int r;

	r = vmr_statedir_probe(state, name, ret_pid, err);
	if (r < 0)
		return r;
	if (r == 0)
		return vmr_error_set(err, 0, "guest '%s' has no supervisor running", name);
	req = json_pack("{s:n}", "health");
	r = vmr_control_call(state, name, req, HEALTH_LIVE_TIMEOUT_MS, &h, NULL, err);
	json_decref(req);
	json_decref(h);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s': its supervisor (pid %d) does not answer",
				      name, (int)*ret_pid);
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
	if (o.host && o.live)
		return vmr_cli_usage_error(&cmd_health_cli, "--live is for a guest, not --host");
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
	if (o.live) {
		pid_t pid = 0;

		if (guest_live(cfg.state_dir, name, &pid, &err) < 0)
			status = vmr_cli_fail(err);
		else
			printf("guest '%s' is alive (supervisor pid %d)\n", name, (int)pid);
	} else if ((o.host ? host_health(cfg.state_dir, name, &err)
			   : guest_health(cfg.state_dir, name, &err)) < 0) {
		status = vmr_cli_fail(err);
	} else {
		printf("%s '%s' is %s\n", o.host ? "host" : "guest", name,
		       o.host ? "set up" : "ready");
	}
	vmr_config_free(&cfg);
	return status;
}
