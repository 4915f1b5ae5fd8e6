/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun restart TOPOLOGY GUEST [--dry-run] [--wait] [--timeout S]: after the
 * topology changed, print what changes (QEMU's command line, the host
 * changes) and apply it by a graceful stop and a start (docs/verbs.md).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "lib/base/statedir.h"
#include "lib/base/util.h"
#include "lib/runtime/control.h"
#include "lib/runtime/launch.h"
#include "lib/runtime/reconfig.h"

#define RESTART_START_TIMEOUT_S 60
#define RESTART_STOP_FALLBACK_S VMR_DEFAULT_STOP_TIMEOUT

extern char **environ;

struct restart_opts {
	bool dry_run;
	bool wait;
	long long timeout;
};

static const struct vmr_cli_opt restart_options[] = {
    {"dry-run", 'n', NULL, "print the changes, stop and start nothing",
     VMR_CLI_FLAG(struct restart_opts, dry_run)},
    {"wait", 'w', NULL, "after the start, wait until the guest is ready (ready_when)",
     VMR_CLI_FLAG(struct restart_opts, wait)},
    {"timeout", 't', "S",
     "seconds the guest gets to power off (default: its\nstop_timeout); the start waits "
     "60 s, or S when longer",
     VMR_CLI_SECONDS(struct restart_opts, timeout, 0, 86400)},
    {0},
};

const struct vmr_cli_cmd cmd_restart_cli = {
    .name = "restart",
    .summary = "apply a changed topology to a guest: show the diff, stop, start",
    .synopsis = "TOPOLOGY GUEST [--dry-run] [--wait] [--timeout S]",
    .description = "Compare what GUEST would start with now (QEMU's environment and command\n"
		   "line, the host changes: disks, seed, NICs and their host interfaces) with\n"
		   "what its supervisor started (STATE/GUEST/plan.json), print the differences,\n"
		   "then stop the guest gracefully (ACPI, as `vmrun stop`) and start it again\n"
		   "from TOPOLOGY (as `vmrun up`).  A guest that is not running is started.",
    .opts = restart_options,
    .arg_names = "TOPOLOGY GUEST",
    .min_args = 2,
    .max_args = 2,
    .exit_status = "0 restarted (or only shown with --dry-run), 1 the stop or the\n"
		   "start failed, 2 bad usage or invalid topology (nothing stopped)",
    .run = cmd_restart,
};

static void print_diff(const char *guest, const struct vmr_reconfig *rc)
{
	if (!rc->have_old) {
		printf("guest '%s' has not run here: no plan to compare with\n", guest);
		return;
	}
	if (!rc->changed_argv && !rc->changed_host) {
		printf("guest '%s': the plan is unchanged\n", guest);
		return;
	}
	if (rc->changed_argv) {
		printf("guest '%s': QEMU's environment and command line (%zu line%s):\n", guest,
		       rc->changed_argv, rc->changed_argv == 1 ? "" : "s");
		for (size_t i = 0; i < rc->argv_diff.n; i++)
			printf("  %c %s\n", rc->argv_diff.v[i][0], rc->argv_diff.v[i] + 1);
	}
	if (rc->changed_host) {
		printf("guest '%s': host changes (%zu line%s):\n", guest, rc->changed_host,
		       rc->changed_host == 1 ? "" : "s");
		for (size_t i = 0; i < rc->host_diff.n; i++)
			printf("  %c %s\n", rc->host_diff.v[i][0], rc->host_diff.v[i] + 1);
	}
}

/* Stop guest gracefully and wait; 0 when it was not running or stopped. */
static int stop_guest(const struct vmr_config *cfg, const char *guest, int timeout_s)
{
	struct vmr_error *err = NULL;
	pid_t pid = 0;
	int r, es;

	r = vmr_guest_stop(cfg->state_dir, guest, timeout_s, false, &pid, &err);
	if (r < 0)
		return vmr_cli_fail(err);
	if (r == 0)
		return 0;
	r = vmr_guest_wait_stopped(
	    cfg->state_dir, guest, pid,
	    vmr_guest_stop_wait_ms(cfg->state_dir, guest, timeout_s, RESTART_STOP_FALLBACK_S), &es,
	    &err);
	if (r < 0)
		return vmr_cli_fail(err);
	vmr_cli_print_stopped(guest, es);
	return 0;
}

static int start_guest(const struct vmr_config *cfg, const struct vmr_topology *t, const char *topo,
		       const char *guest, bool wait, int timeout_s)
{
	struct vmr_cli_launch us = {.cfg = cfg, .t = t, .topo = topo};
	struct vmr_launch_opts lo = {
	    .supervise = vmr_cli_launch_supervise,
	    .userdata = &us,
	    .config = vmr_opts.config,
	    .state_dir = cfg->state_dir,
	    .topology = topo,
	    .envp = environ,
	    .wait_healthy = wait,
	};
	struct vmr_launch launch = {.notify_fd = -1};
	struct vmr_launch_guest g = {.name = guest, .pidfd = -1};
	struct vmr_error *err = NULL;
	int r, status = VMR_EXIT_OK;

	if (vmr_launch_init(&launch, &lo, &err) < 0)
		return vmr_cli_fail(err);
	r = vmr_launch_start(&launch, &g, &err);
	if (r >= 0)
		r = vmr_launch_wait(&launch, &g, 1, timeout_s * 1000, true, &err);
	if (r < 0) {
		status = vmr_cli_fail(err);
	} else if (r > 0) {
		_cleanup_free_ char *tail = vmr_launch_log_tail(cfg->state_dir, guest, 6);

		fprintf(stderr, "vmrun: error: guest '%s' %s after the restart%s%s\n", guest,
			g.state == VMR_LAUNCH_FAILED ? "failed"
			: g.running		     ? "runs but is not ready"
						     : "is not running",
			tail ? "; its supervisor.log ends with:\n" : "", tail ? tail : "");
		if (g.started)
			(void)vmr_launch_stop(&launch, &g, 1, 30000, NULL);
		status = VMR_EXIT_FAILURE;
	} else {
		printf("guest '%s' is %s (supervisor pid %d)\n", guest, wait ? "ready" : "running",
		       (int)g.pid);
	}
	vmr_launch_guests_free(&g, 1);
	vmr_launch_done(&launch);
	return status;
}

VERB(restart)
{
	struct restart_opts o = {.timeout = -1};
	struct vmr_config cfg = {0};
	struct vmr_topology *t = NULL;
	struct vmr_error *err = NULL;
	struct vmr_reconfig rc = {0};
	_cleanup_free_ char *topo = NULL;
	const struct vmr_guest *g;
	struct vmr_cli_args a;
	int r;

	r = vmr_cli_parse(&cmd_restart_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	r = vmr_cli_topology(a.v[0], &t);
	if (r)
		goto out;
	g = vmr_topology_guest(t, a.v[1]);
	if (!g) {
		vmr_error_usage(&err, "guest '%s' not found in '%s'", a.v[1], a.v[0]);
		r = vmr_cli_fail(err);
		goto out;
	}
	topo = realpath(a.v[0], NULL);
	if (!topo || vmr_reconfig_diff(&cfg, t, g, topo, &rc, &err) < 0) {
		if (!topo)
			vmr_error_set(&err, errno, "resolve '%s'", a.v[0]);
		r = vmr_cli_fail(err);
		goto out;
	}
	print_diff(g->name, &rc);
	fflush(stdout);
	if (o.dry_run) {
		r = VMR_EXIT_OK;
		goto out;
	}
	r = stop_guest(&cfg, g->name, (int)o.timeout);
	if (r)
		goto out;
	r = start_guest(&cfg, t, topo, g->name, o.wait,
			o.timeout > RESTART_START_TIMEOUT_S ? (int)o.timeout
							    : RESTART_START_TIMEOUT_S);
out:
	vmr_reconfig_free(&rc);
	vmr_topology_free(t);
	vmr_config_free(&cfg);
	return r;
}
