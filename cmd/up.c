/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun up TOPOLOGY [GUEST...] [--host NAME] [--timeout S]: one detached
 * supervisor per guest; succeed only when every guest runs with its vCPUs
 * pinned, otherwise stop what was started and name the guest that failed.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/buf.h"
#include "lib/runtime/control.h"
#include "lib/runtime/launch.h"
#include "lib/base/statedir.h"
#include "lib/base/util.h"

#define UP_DEFAULT_TIMEOUT_S 60
#define UP_STOP_TIMEOUT_MS 30000

extern char **environ;

struct up_opts {
	const char *host;
	long long timeout;
	bool wait;
	long long parallel;
	bool no_seccomp;
};

static const struct vmr_cli_opt up_options[] = {
    VMR_CLI_OPT_HOST("the guests placed on host NAME", struct up_opts, host),
    {"timeout", 't', "S", "wait at most S seconds for the guests (default 60)",
     VMR_CLI_SECONDS(struct up_opts, timeout, 1, 86400)},
    {"wait", 'w', NULL,
     "wait until each guest is ready as its ready_when says\n(booted), not only running",
     VMR_CLI_FLAG(struct up_opts, wait)},
    {"parallel", 'j', "N", "start at most N guests at once (default: the online\nCPUs)",
     VMR_CLI_COUNT(struct up_opts, parallel, 1, VMR_CLI_PARALLEL_MAX)},
    {"no-seccomp", 0, NULL,
     "the supervisors load no seccomp filter (`vmrun run\n--no-seccomp`, for debugging)",
     VMR_CLI_FLAG(struct up_opts, no_seccomp)},
    {0},
};

const struct vmr_cli_cmd cmd_up_cli = {
    .name = "up",
    .summary = "start guests detached and wait until they run pinned",
    .synopsis = "TOPOLOGY [GUEST...] [--host NAME] [--wait] [--timeout S] [-j N]",
    .description = "Start a detached supervisor (`vmrun run`) for each guest, its messages in\n"
		   "STATE/GUEST/supervisor.log, and wait until every guest runs with its vCPUs\n"
		   "pinned (with --wait: until each is ready as its ready_when says).  If one\n"
		   "fails, stop the guests this command started and name the guest with the\n"
		   "end of its supervisor.log (or, not ready in time, what its readiness\n"
		   "check saw last).  Guests already running are left as they are.\n"
		   "\n"
		   "Without GUEST: the guests placed on this machine (the topology host whose\n"
		   "name is this machine's host name or whose address is one of its addresses),\n"
		   "or every guest when the topology has no hosts.",
    .opts = up_options,
    .arg_names = "TOPOLOGY [GUEST...]",
    .min_args = 1,
    .max_args = VMR_CLI_ANY,
    .exit_status = "0 all guests running, 1 a guest failed (the others were\n"
		   "stopped), 2 bad usage or invalid topology (nothing started)",
    .run = cmd_up,
};

static const char *guest_host(const struct vmr_topology *t, const struct vmr_guest *g)
{
	const struct vmr_host *primary;

	if (g->host)
		return g->host;
	primary = vmr_topology_primary(t);
	return primary ? primary->name : NULL;
}

/* Whether addr (an IP address literal) is assigned to one of our interfaces. */
static bool address_is_local(const char *addr)
{
	unsigned char want[sizeof(struct in6_addr)];
	struct ifaddrs *ifa, *i;
	int family;
	bool found = false;

	if (inet_pton(AF_INET, addr, want) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, addr, want) == 1)
		family = AF_INET6;
	else
		return false;
	if (getifaddrs(&ifa) < 0)
		return false;
	for (i = ifa; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != family)
			continue;
		if (family == AF_INET)
			found = memcmp(&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, want,
				       sizeof(struct in_addr)) == 0;
		else
			found = memcmp(&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr,
				       want, sizeof(struct in6_addr)) == 0;
	}
	freeifaddrs(ifa);
	return found;
}

/* The topology host this machine is, or NULL. */
static const struct vmr_host *local_host(const struct vmr_topology *t)
{
	char name[HOST_NAME_MAX + 1] = "";
	char *dot;

	if (gethostname(name, sizeof(name) - 1) == 0) {
		for (size_t i = 0; i < t->nhosts; i++) {
			if (streq(t->hosts[i].name, name))
				return &t->hosts[i];
		}
		dot = strchr(name, '.');
		if (dot)
			*dot = '\0';
		for (size_t i = 0; i < t->nhosts; i++) {
			if (streq(t->hosts[i].name, name))
				return &t->hosts[i];
		}
	}
	for (size_t i = 0; i < t->nhosts; i++) {
		const struct vmr_host *h = &t->hosts[i];

		if (address_is_local(h->address ? h->address : h->name))
			return h;
	}
	return NULL;
}

static void hint_names(struct vmr_error **err, const char *what, const struct vmr_topology *t,
		       bool hosts)
{
	struct vmr_buf names = VMR_BUF_INIT;
	size_t n = hosts ? t->nhosts : t->nguests;

	for (size_t i = 0; i < n; i++)
		vmr_buf_addf(&names, "%s%s", i ? ", " : "",
			     hosts ? t->hosts[i].name : t->guests[i].name);
	if (n)
		vmr_error_hint(err, "%s: %s", what, vmr_buf_str(&names));
	vmr_buf_free(&names);
}

/* The guests to start, in topology order; usage errors name what is wrong. */
static int select_guests(const struct vmr_topology *t, const char *path, char **names, int nnames,
			 const char *host, const struct vmr_guest ***ret, size_t *ret_n,
			 const char **ret_host, struct vmr_error **err)
{
	_cleanup_free_ const struct vmr_guest **sel = xcalloc(t->nguests + 1, sizeof(*sel));
	size_t n = 0;

	if (nnames > 0) {
		for (int i = 0; i < nnames; i++) {
			const struct vmr_guest *g = vmr_topology_guest(t, names[i]);
			bool dup = false;

			if (!g) {
				vmr_error_usage(err, "guest '%s' not found in '%s'", names[i],
						path);
				hint_names(err, "guests", t, false);
				return vmr_error_ret(*err);
			}
			for (size_t k = 0; k < n; k++)
				dup = dup || sel[k] == g;
			if (!dup)
				sel[n++] = g;
		}
	} else if (host || t->nhosts > 0) {
		const struct vmr_host *h;

		if (host) {
			h = vmr_topology_host(t, host);
			if (!h) {
				vmr_error_usage(err, "host '%s' not found in '%s'", host, path);
				hint_names(err, "hosts", t, true);
				return vmr_error_ret(*err);
			}
		} else {
			h = local_host(t);
			if (!h) {
				vmr_error_usage(err, "this machine is none of the hosts of '%s'",
						path);
				vmr_error_hint(err,
					       "name one with --host NAME (hosts: see "
					       "`vmrun validate %s`)",
					       path);
				return vmr_error_ret(*err);
			}
		}
		for (size_t i = 0; i < t->nguests; i++) {
			if (streq(guest_host(t, &t->guests[i]), h->name))
				sel[n++] = &t->guests[i];
		}
		*ret_host = h->name;
	} else {
		for (size_t i = 0; i < t->nguests; i++)
			sel[n++] = &t->guests[i];
	}
	*ret = TAKE_PTR(sel);
	*ret_n = n;
	return 0;
}

/* The supervisor's error without the "guest 'a': " it starts with. */
static const char *status_text(const struct vmr_launch_guest *g)
{
	_cleanup_free_ char *prefix = xasprintf("guest '%s': ", g->name);

	return startswith(g->status, prefix) ? g->status + strlen(prefix) : g->status;
}

/* A guest that runs but is not ready: what its readiness check saw last. */
static void report_not_ready(const char *state_dir, const struct vmr_launch_guest *g, int timeout_s)
{
	json_t *req = json_pack("{s:n}", "health"), *h = NULL;
	const char *when, *last, *con;

	if (vmr_control_call(state_dir, g->name, req, VMR_CONTROL_TIMEOUT_MS, &h, NULL, NULL) < 0)
		h = NULL;
	json_decref(req);
	when = json_string_value(json_object_get(h, "ready_when"));
	last = json_string_value(json_object_get(h, "last"));
	con = json_string_value(json_object_get(h, "console_last"));
	fprintf(stderr,
		"vmrun: error: guest '%s' running but not ready after %d s (ready_when %s)\n",
		g->name, timeout_s, when ? when : "?");
	if (last && (!con || !streq(last, con)))
		fprintf(stderr, "vmrun: guest '%s': last seen: %s\n", g->name, last);
	if (con)
		fprintf(stderr, "vmrun: guest '%s': last console line: %s\n", g->name, con);
	else
		fprintf(stderr, "vmrun: guest '%s': nothing on its console yet\n", g->name);
	json_decref(h);
}

static void report_failure(const char *state_dir, const struct vmr_launch_guest *g, int timeout_s)
{
	_cleanup_free_ char *tail = NULL;
	_cleanup_free_ char *log = vmr_statedir_path(state_dir, g->name, VMR_LAUNCH_LOG);

	if (g->state == VMR_LAUNCH_WAITING && g->running) {
		report_not_ready(state_dir, g, timeout_s);
		return;
	}
	if (g->state == VMR_LAUNCH_WAITING)
		fprintf(stderr,
			"vmrun: error: guest '%s' not running with its vCPUs pinned "
			"after %d s\n",
			g->name, timeout_s);
	else if (g->state == VMR_LAUNCH_PENDING)
		fprintf(stderr, "vmrun: error: guest '%s' not started within %d s\n", g->name,
			timeout_s);
	else if (g->status[0])
		/* the supervisor's own error, which its log may not hold (a full disk) */
		fprintf(stderr, "vmrun: error: guest '%s' failed: %s\n", g->name, status_text(g));
	else if (g->exit_signal)
		fprintf(stderr,
			"vmrun: error: guest '%s' failed: its supervisor was killed by "
			"SIG%s\n",
			g->name, sigabbrev_np(g->exit_signal) ?: "?");
	else if (g->exit_status >= 0)
		fprintf(stderr,
			"vmrun: error: guest '%s' failed: its supervisor exited with "
			"status %d\n",
			g->name, g->exit_status);
	else
		fprintf(stderr,
			"vmrun: error: guest '%s' failed: its supervisor (pid %d) "
			"exited\n",
			g->name, (int)g->pid);
	if (!g->started)
		return;
	tail = vmr_launch_log_tail(state_dir, g->name, 6);
	if (!tail)
		return;
	fprintf(stderr, "vmrun: %s ends with:\n", log);
	for (char *line = tail; line && *line;) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		fprintf(stderr, "  | %s\n", line);
		line = nl ? nl + 1 : NULL;
	}
}

VERB(up)
{
	struct up_opts o = {.timeout = UP_DEFAULT_TIMEOUT_S,
			    .parallel = vmr_cli_parallel_default()};
	struct vmr_config cfg = {0};
	struct vmr_topology *t = NULL;
	struct vmr_error *err = NULL;
	_cleanup_free_ const struct vmr_guest **sel = NULL;
	_cleanup_free_ struct vmr_launch_guest *gs = NULL;
	_cleanup_free_ bool *said = NULL;
	_cleanup_free_ char *topo = NULL;
	struct vmr_cli_args a;
	const char *host, *path;
	struct vmr_launch_opts lo;
	struct vmr_cli_launch us;
	struct vmr_launch launch = {.notify_fd = -1};
	size_t n = 0, started = 0;
	bool any_failed = false;
	int r, status = VMR_EXIT_OK;

	r = vmr_cli_parse(&cmd_up_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	if (o.host && a.n > 1)
		return vmr_cli_usage_error(&cmd_up_cli, "--host and GUEST exclude each other");
	/* a bare --host: the default, the host this machine is */
	host = o.host && *o.host ? o.host : NULL;
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	/* the supervisors are forked children that take this cfg */
	if (o.no_seccomp)
		cfg.sandbox = false;
	path = a.v[0];
	r = vmr_cli_topology(path, &t);
	if (r)
		goto out_cfg;
	if (select_guests(t, path, a.v + 1, a.n - 1, host, &sel, &n, &host, &err) < 0) {
		r = vmr_cli_fail(err);
		goto out;
	}
	if (n == 0) {
		if (host)
			fprintf(stderr, "vmrun: no guests of '%s' are placed on host '%s'\n", path,
				host);
		else
			fprintf(stderr, "vmrun: '%s' has no guests\n", path);
		r = VMR_EXIT_OK;
		goto out;
	}
	topo = realpath(path, NULL);
	if (!topo) {
		vmr_error_set(&err, errno, "resolve '%s'", path);
		r = vmr_cli_fail(err);
		goto out;
	}
	us = (struct vmr_cli_launch){.cfg = &cfg, .t = t, .topo = topo};
	lo = (struct vmr_launch_opts){
	    .supervise = vmr_cli_launch_supervise,
	    .userdata = &us,
	    .config = vmr_opts.config,
	    .state_dir = cfg.state_dir,
	    .topology = topo,
	    .envp = environ,
	    .wait_healthy = o.wait,
	    .parallel = (size_t)o.parallel,
	    .no_seccomp = o.no_seccomp,
	};

	if (vmr_launch_init(&launch, &lo, &err) < 0) {
		r = vmr_cli_fail(err);
		goto out;
	}

	/* the guests already running first: said at once, and left alone */
	gs = xcalloc(n, sizeof(*gs));
	said = xcalloc(n, sizeof(*said));
	for (size_t i = 0; i < n; i++) {
		gs[i] = (struct vmr_launch_guest){.name = sel[i]->name, .pidfd = -1};
		r = vmr_launch_find(&launch, &gs[i], &err);
		if (r < 0) {
			status = vmr_cli_fail(err);
			err = NULL;
			goto stop;
		}
		if (r > 0) {
			printf("guest '%s' is already running (supervisor pid %d)\n", gs[i].name,
			       (int)gs[i].pid);
			said[i] = true;
		}
	}
	fflush(stdout);
	r = vmr_launch_wait(&launch, gs, n, (int)o.timeout * 1000, true, &err);
	if (r < 0) {
		status = vmr_cli_fail(err);
		err = NULL;
		goto stop;
	}
	if (r == 0) {
		/* in topology order, whatever order they became ready in */
		for (size_t i = 0; i < n; i++) {
			if (gs[i].started)
				printf("guest '%s' is %s (supervisor pid %d, log %s/%s/%s)\n",
				       gs[i].name, o.wait ? "ready" : "running", (int)gs[i].pid,
				       cfg.state_dir, gs[i].name, VMR_LAUNCH_LOG);
			else if (o.wait)
				printf("guest '%s' is ready\n", gs[i].name);
			else if (!said[i])
				printf("guest '%s' is already running (supervisor pid %d)\n",
				       gs[i].name, (int)gs[i].pid);
		}
		r = VMR_EXIT_OK;
		goto out;
	}
	/* the first failure ends the wait: the others may still be starting */
	for (size_t i = 0; i < n; i++)
		any_failed = any_failed || gs[i].state == VMR_LAUNCH_FAILED;
	for (size_t i = 0; i < n; i++) {
		if (any_failed
			? gs[i].state == VMR_LAUNCH_FAILED
			: gs[i].state == VMR_LAUNCH_WAITING || gs[i].state == VMR_LAUNCH_PENDING)
			report_failure(cfg.state_dir, &gs[i], (int)o.timeout);
	}
	status = VMR_EXIT_FAILURE;
stop:
	for (size_t i = 0; gs && i < n; i++)
		started += gs[i].started;
	if (started > 0) {
		bool *was = xcalloc(n, sizeof(*was));

		for (size_t i = 0; i < n; i++)
			was[i] = gs[i].started && gs[i].pidfd >= 0;
		if (vmr_launch_stop(&launch, gs, n, UP_STOP_TIMEOUT_MS, &err) < 0) {
			vmr_error_print(err, stderr);
			vmr_error_clear(&err);
		}
		for (size_t i = 0; i < n; i++) {
			if (was[i])
				fprintf(stderr,
					"vmrun: stopped guest '%s' (started by this command)\n",
					gs[i].name);
		}
		free(was);
	}
	r = status ? status : VMR_EXIT_FAILURE;
out:
	if (gs)
		vmr_launch_guests_free(gs, n);
	vmr_launch_done(&launch);
	vmr_topology_free(t);
out_cfg:
	vmr_config_free(&cfg);
	return r;
}
