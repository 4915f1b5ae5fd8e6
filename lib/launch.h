/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_LAUNCH_H
#define VMR_LAUNCH_H

/*
 * Detached supervisors for `vmrun up` (docs/verbs.md): start one
 * `vmrun run TOPOLOGY GUEST` per guest in its own session, its stderr in
 * STATE/GUEST/supervisor.log, and wait until each guest is ready (the
 * supervisor holding its lock answers {"ping": null} on its control socket
 * with {"return": {"ready": true}}: the guest runs with its vCPUs pinned)
 * or its supervisor has died (a pidfd per supervisor).  lib/launch.c says
 * why the ping.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "lib/error.h"

#define VMR_LAUNCH_LOG "supervisor.log"

struct vmr_launch_opts {
	const char *vmrun;     /* the vmrun executable to run (absolute path) */
	const char *config;    /* passed as --config when not NULL */
	const char *state_dir; /* passed as --state-dir */
	const char *topology;  /* absolute path of the topology file */
	char *const *envp;     /* the supervisors' environment */
};

enum vmr_launch_state {
	VMR_LAUNCH_WAITING, /* supervisor started, guest not ready yet */
	VMR_LAUNCH_READY,   /* running with its vCPUs pinned */
	VMR_LAUNCH_FAILED,  /* the supervisor exited (status in exit_status) */
	VMR_LAUNCH_STOPPED, /* stopped by vmr_launch_stop() */
};

struct vmr_launch_guest {
	const char *name; /* borrowed */
	bool started;	  /* we started its supervisor (it is our child) */
	pid_t pid;	  /* supervisor pid; 0 when none */
	int pidfd;	  /* -1 when none */
	enum vmr_launch_state state;
	int exit_status; /* the supervisor's exit status when it exited (-1: signal) */
	int exit_signal; /* the signal that ended it, else 0 */
};

/*
 * Start the supervisor of g->name: the previous supervisor.log becomes
 * supervisor.log.1, stdin and stdout are /dev/null (the console is in the
 * size-capped console.log), stderr appends to supervisor.log.  The child
 * starts a new session and does not die with us.  A guest whose
 * supervisor already runs is not started again: g->started stays false,
 * g->pid is the running supervisor (watched through a pidfd) and 0 is
 * returned.  Returns 1 when started, negative on failure.
 */
int vmr_launch_start(const struct vmr_launch_opts *o, struct vmr_launch_guest *g,
		     struct vmr_error **err);

/*
 * Wait until every guest in gs is READY, or until one fails (when
 * stop_at_failure) or all have settled, or timeout_ms passes (< 0: no
 * limit).  Reaps the supervisors we started that exit.  A guest whose
 * supervisor answers that a stop has begun stays WAITING until it exits.
 * Returns the number of guests not READY (0: all ready), negative on
 * failure of the wait itself.
 */
int vmr_launch_wait(const char *state_dir, struct vmr_launch_guest *gs, size_t n, int timeout_ms,
		    bool stop_at_failure, struct vmr_error **err);

/*
 * Stop the supervisors we started that still run (g->started): QEMU is
 * killed at once (nothing in a guest that just started is worth an ACPI
 * shutdown) and each supervisor undoes its host changes; wait up to
 * timeout_ms for them to exit, then SIGKILL what is left (its successor
 * reclaims the host changes).  Returns 0, or negative with the first
 * problem.
 */
int vmr_launch_stop(const char *state_dir, struct vmr_launch_guest *gs, size_t n, int timeout_ms,
		    struct vmr_error **err);

/* Release the pidfds of gs. */
void vmr_launch_guests_free(struct vmr_launch_guest *gs, size_t n);

/*
 * The last max_lines non-empty lines of STATE/GUEST/supervisor.log joined
 * with "\n" (the supervisor's error comes last, QEMU's own complaint just
 * before it); NULL when the log is empty or missing.
 */
char *vmr_launch_log_tail(const char *state_dir, const char *guest, size_t max_lines);

#endif
