/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_LAUNCH_H
#define VMR_LAUNCH_H

/*
 * Detached supervisors for `vmrun up` (docs/verbs.md): start one
 * supervisor per guest (what `vmrun run TOPOLOGY GUEST` runs, in a forked
 * child rather than a new exec of vmrun) in its own session, at most
 * o->parallel starting at once, its stderr in STATE/GUEST/supervisor.log,
 * and wait until each guest is ready (a
 * supervisor we started says READY=1 on our notification socket; one that
 * was already running answers {"ping": null} on its control socket with
 * {"return": {"ready": true}}: the guest runs with its vCPUs pinned) or
 * its supervisor has died (a pidfd per supervisor).
 */

#include <stdbool.h>
#include <sys/types.h>

#include "lib/base/error.h"
#include "lib/base/strvec.h"

#define VMR_LAUNCH_LOG "supervisor.log"

struct vmr_launch_opts {
	/*
	 * Run the supervisor of guest in the child forked for it (with
	 * vmr_spawn_fork(): no second exec of vmrun, the topology already
	 * parsed) and return its exit status.  NULL: start nothing (wait for
	 * running supervisors only).
	 */
	int (*supervise)(const char *guest, void *userdata);
	void *userdata;
	const char *config;    /* the supervisors' command line shows --config FILE */
	const char *state_dir; /* and --state-dir STATE */
	const char *topology;  /* and run TOPOLOGY GUEST (an absolute path) */
	char *const *envp;     /* the supervisors' environment */
	bool wait_healthy;     /* READY means ready as the guest's ready_when says (`up --wait`),
				* not only running: asked with {"health": {"wait": true}} */
	size_t parallel;       /* supervisors starting at once at most; 0: no limit */
	bool no_seccomp;       /* the command line shows run --no-seccomp (supervise
				* gets a config with sandbox = false) */
};

/*
 * One `up`: the options and the notification socket the supervisors it
 * starts report to, with the protocol of systemd's sd_notify(3) (their
 * NOTIFY_SOCKET): READY=1 once the guest runs pinned, STATUS=TEXT and
 * ERRNO=N with the error before a failed supervisor exits.  Readiness
 * then costs no polling, and the cause of a failure reaches `up` even when
 * supervisor.log cannot be written (a full state directory).
 */
struct vmr_launch {
	const struct vmr_launch_opts *o;
	int notify_fd;	       /* SOCK_DGRAM, SO_PASSCRED; -1 when none */
	struct vmr_strvec env; /* o->envp with our NOTIFY_SOCKET */
};

enum vmr_launch_state {
	VMR_LAUNCH_WAITING, /* supervisor started, guest not ready yet */
	VMR_LAUNCH_READY,   /* running with its vCPUs pinned (wait_healthy: and ready) */
	VMR_LAUNCH_FAILED,  /* the supervisor exited (status in exit_status) */
	VMR_LAUNCH_STOPPED, /* stopped by vmr_launch_stop() */
	VMR_LAUNCH_PENDING, /* not started yet (o->parallel supervisors were starting) */
};

#define VMR_LAUNCH_STATUS_MAX 512

struct vmr_launch_guest {
	const char *name; /* borrowed */
	bool started;	  /* we started its supervisor (it is our child) */
	pid_t pid;	  /* supervisor pid; 0 when none */
	int pidfd;	  /* -1 when none */
	enum vmr_launch_state state;
	int exit_status;  /* the supervisor's exit status when it exited (-1: signal) */
	int exit_signal;  /* the signal that ended it, else 0 */
	unsigned retries; /* starts after a supervisor we did not start went away */
	bool running;	  /* wait_healthy: it runs, readiness is awaited */
	int status_errno; /* ERRNO= from its supervisor, else 0 */
	char status[VMR_LAUNCH_STATUS_MAX]; /* its last STATUS=, else "" */
};

/*
 * Open the notification socket (an abstract unix socket, so a full or
 * read-only state directory does not matter) and the supervisors'
 * environment.  o must outlive l.  Free with vmr_launch_done().
 */
int vmr_launch_init(struct vmr_launch *l, const struct vmr_launch_opts *o, struct vmr_error **err);
void vmr_launch_done(struct vmr_launch *l);

/*
 * Whether a supervisor already runs g->name: then g->pid is that
 * supervisor, watched through g->pidfd, g->state WAITING (for its ready
 * answer) and 1 is returned; else g->state is PENDING and 0 is returned
 * (vmr_launch_wait() starts it).  Negative on failure.
 */
int vmr_launch_find(struct vmr_launch *l, struct vmr_launch_guest *g, struct vmr_error **err);

/*
 * Start the supervisor of g->name in a child of this process
 * (o->supervise): the previous supervisor.log becomes supervisor.log.1,
 * stdin and stdout are /dev/null (the console is in the size-capped
 * console.log), stderr appends to supervisor.log.  The child starts a new
 * session and does not die with us.  A guest whose supervisor already
 * runs is not started again: g->started stays false, g->pid is the
 * running supervisor (watched through a pidfd) and 0 is returned.
 * Returns 1 when started, negative on failure.
 */
int vmr_launch_start(struct vmr_launch *l, struct vmr_launch_guest *g, struct vmr_error **err);

/*
 * Start the PENDING guests of gs in their order, no more than o->parallel
 * of them starting at once (a started supervisor stops counting once its
 * guest is ready or it exited), and wait until every guest in gs is READY,
 * or until one fails (when stop_at_failure: no more is started then) or
 * all have settled, or timeout_ms passes (< 0: no limit).  A guest whose
 * start fails is FAILED with the error in g->status.  Reaps the supervisors we started that exit.
 * A supervisor we did not start that goes away meanwhile (one that was stopping, or was killed,
 * when we found it) is replaced by one of ours, so `up` right after a `kill -9` starts the guest
 * once its predecessor has undone its host changes.  A guest whose supervisor answers that a stop
 * has begun stays WAITING until it exits.  Returns the number of guests not READY (0: all ready),
 * negative on failure of the wait itself.
 */
int vmr_launch_wait(struct vmr_launch *l, struct vmr_launch_guest *gs, size_t n, int timeout_ms,
		    bool stop_at_failure, struct vmr_error **err);

/*
 * Stop the supervisors we started that still run (g->started): QEMU is
 * killed at once (nothing in a guest that just started is worth an ACPI
 * shutdown) and each supervisor undoes its host changes; wait up to
 * timeout_ms for them to exit, then SIGKILL what is left (its successor,
 * or `vmrun down`, reclaims the host changes).  Returns 0, or negative
 * with the first problem.
 */
int vmr_launch_stop(struct vmr_launch *l, struct vmr_launch_guest *gs, size_t n, int timeout_ms,
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
