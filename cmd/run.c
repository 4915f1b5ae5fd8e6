/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun run TOPOLOGY GUEST [--events]: supervise one guest in the foreground. */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/buf.h"
#include "lib/base/notify.h"
#include "lib/base/util.h"
#include "lib/runtime/restart.h"
#include "lib/runtime/supervisor.h"

struct run_opts {
	bool events;
	bool no_restart;
	bool no_seccomp;
};

static const struct vmr_cli_opt run_options[] = {
    {"events", 'e', NULL, "also print QMP events to stderr as JSON lines",
     VMR_CLI_FLAG(struct run_opts, events)},
    {"no-restart", 0, NULL,
     "ignore the guest's restart policy (an orchestrator restarts\nthe container instead)",
     VMR_CLI_FLAG(struct run_opts, no_restart)},
    {"no-seccomp", 0, NULL,
     "do not load the supervisor's seccomp filter (for debugging:\nstrace -f, valgrind; "
     "docs/security.md)",
     VMR_CLI_FLAG(struct run_opts, no_seccomp)},
    {0},
};

const struct vmr_cli_cmd cmd_run_cli = {
    .name = "run",
    .summary = "start a guest and supervise it in the foreground",
    .synopsis = "[--events] [--no-restart] [--no-seccomp] TOPOLOGY GUEST",
    .description = "Start GUEST of TOPOLOGY and supervise it in the foreground until it stops:\n"
		   "the guest console goes to stdout (and STATE/GUEST/console.log), messages to\n"
		   "stderr.  SIGTERM or SIGINT presses the ACPI power button and waits up to the\n"
		   "guest's stop_timeout before quitting QEMU; a second signal skips the wait.\n"
		   "Every host change is undone on the way out.  With `restart: on-failure` or\n"
		   "`always` a new supervisor starts the guest again when it ends, as Docker's\n"
		   "restart policies do (docs/supervisor.md).",
    .opts = run_options,
    .arg_names = "TOPOLOGY GUEST",
    .min_args = 2,
    .max_args = 2,
    .exit_status = "0 the guest powered off, 1 startup or teardown failure,\n"
		   "2 invalid input, 3 QEMU failed, 4 guest panic, 128+N QEMU killed by\n"
		   "signal N, 143 stopped without a guest poweroff (see docs/supervisor.md)",
    .run = cmd_run,
};

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
static void notify_failure(const struct vmr_error *err, pid_t manager)
{
	_cleanup_free_ char *text = vmr_error_text(err);

	if (manager > 0)
		(void)vmr_notifyf("MAINPID=%d\nSTATUS=%s\nERRNO=%d", (int)manager,
				  text ? text : "failed", err ? err->errnum : 0);
	else
		(void)vmr_notifyf("STATUS=%s\nERRNO=%d", text ? text : "failed",
				  err ? err->errnum : 0);
}

/* One supervisor run: its exit status (errors printed here). */
static int run_once(const struct vmr_supervisor_opts *o)
{
	struct vmr_error *err = NULL;
	int status = 0;

	if (vmr_supervisor_run(o, &status, &err) < 0) {
		notify_failure(err, o->manager_pid);
		return vmr_cli_fail(err);
	}
	return status;
}

/* A run under the restart manager, in its child process. */
static int run_child(const struct vmr_statedir *locked, pid_t manager, unsigned count,
		     void *userdata)
{
	struct vmr_supervisor_opts o = *(const struct vmr_supervisor_opts *)userdata;

	o.locked = locked;
	o.manager_pid = manager;
	o.restart_count = count;
	return run_once(&o);
}

int vmr_cli_supervise(const struct vmr_config *cfg, const struct vmr_topology *t,
		      const struct vmr_guest *g, const char *topo_path, bool events,
		      bool no_restart)
{
	struct vmr_supervisor_opts o = {
	    .cfg = cfg,
	    .topo = t,
	    .guest = g,
	    .topo_path = topo_path,
	    .events = events,
	    .console_fd = STDOUT_FILENO,
	    .log = run_log,
	};
	struct vmr_restart_opts mo = {
	    .cfg = cfg,
	    .guest = g,
	    .run = run_child,
	    .userdata = &o,
	    .log = run_log,
	};
	struct vmr_error *err = NULL;
	int status = 0;

	if (g->restart == VMR_RESTART_NO || no_restart)
		return run_once(&o);
	if (vmr_restart_run(&mo, &status, &err) < 0) {
		notify_failure(err, 0);
		return vmr_cli_fail(err);
	}
	return status;
}

int vmr_cli_launch_supervise(const char *guest, void *userdata)
{
	const struct vmr_cli_launch *u = userdata;
	const struct vmr_guest *g = vmr_topology_guest(u->t, guest);

	if (!g)
		return VMR_EXIT_USAGE;
	return vmr_cli_supervise(u->cfg, u->t, g, u->topo, false, false);
}

VERB(run)
{
	struct run_opts ro = {0};
	struct vmr_config cfg = {0};
	struct vmr_topology *t = NULL;
	struct vmr_error *err = NULL;
	const struct vmr_guest *g;
	_cleanup_free_ char *real = NULL;
	struct vmr_cli_args a;
	int r;

	r = vmr_cli_parse(&cmd_run_cli, argc, argv, &ro, &a);
	if (r != VMR_CLI_RUN)
		return r;
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	/* as `sandbox = false` does; the capabilities are dropped all the same */
	if (ro.no_seccomp)
		cfg.sandbox = false;
	r = vmr_cli_topology(a.v[0], &t);
	if (r) {
		vmr_config_free(&cfg);
		return r;
	}
	g = vmr_topology_guest(t, a.v[1]);
	if (!g) {
		vmr_error_usage(&err, "guest '%s' not found in '%s'", a.v[1], a.v[0]);
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
	/* absolute in status.json, for verbs run from elsewhere */
	real = realpath(a.v[0], NULL);
	r = vmr_cli_supervise(&cfg, t, g, real ? real : a.v[0], ro.events, ro.no_restart);
out:
	vmr_topology_free(t);
	vmr_config_free(&cfg);
	return r;
}
