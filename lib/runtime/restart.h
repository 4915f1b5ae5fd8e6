/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_RESTART_H
#define VMR_RESTART_H

/*
 * The restart manager of `vmrun run` for a guest with `restart: on-failure`
 * or `always` (docs/supervisor.md): it locks the guest's state directory,
 * runs each supervisor (vmr_supervisor_run) in a child process that
 * inherits the lock, and when one ends decides by Docker's rules whether
 * to start another, after a delay that doubles from 100 ms (up to a
 * minute, back to 100 ms after a run of 10 s or more).  A child because
 * the supervisor's seccomp filter forbids exec once its guest runs: a new
 * QEMU needs a new supervisor.  Signals (SIGTERM, SIGINT, SIGHUP) go to the
 * running supervisor and end the restarts; a stop, kill or signal asked of
 * the supervisor itself ends them too (status.json's stop_cause).
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/base/error.h"
#include "lib/base/statedir.h"
#include "lib/model/config.h"
#include "lib/model/topology.h"
#include "lib/runtime/supervisor.h"

#define VMR_RESTART_DELAY_MIN_MS 100
#define VMR_RESTART_DELAY_MAX_MS 60000
#define VMR_RESTART_RESET_MS 10000 /* a run this long resets the delay */

/* How one supervisor run ended, for the decision. */
struct vmr_restart_end {
	int status;		/* its exit status (128+N when killed by signal N) */
	bool ran;		/* its guest ran (startup finished) */
	const char *stop_cause; /* "request", "kill", "signal": a stop from outside; else NULL */
	uint64_t duration_ms;	/* how long it ran */
};

/*
 * Docker's rules (pure): whether to start again after a run that ended as
 * e, with count restarts so far.  Never after a stop asked from outside,
 * invalid input (status 2), or a first run whose guest never ran (a start
 * that fails is reported, not retried); on-failure after a non-zero status
 * while count < max (max 0: no limit); always after anything else.
 * *delay_ms holds the previous delay (0 before the first restart) and
 * gets the next one.  *ret_why (static) says why not, or on what.
 */
bool vmr_restart_decide(enum vmr_restart policy, unsigned max, unsigned count,
			const struct vmr_restart_end *e, uint64_t *delay_ms, const char **ret_why);

struct vmr_restart_opts {
	const struct vmr_config *cfg;
	const struct vmr_guest *guest;
	/*
	 * One supervisor run, in the child process: returns its exit status.
	 * locked is the state directory the manager holds (pass it as
	 * vmr_supervisor_opts.locked), manager its pid.
	 */
	int (*run)(const struct vmr_statedir *locked, pid_t manager, unsigned restart_count,
		   void *userdata);
	void *userdata;
	vmr_log_fn log; /* may be NULL */
	void *log_userdata;
};

/*
 * Run o->guest under its restart policy until no restart is due.  Returns
 * 0 with the last run's exit status in *ret_status, or negative with *err
 * when the manager itself failed (the lock is taken: "already running").
 * Blocks SIGTERM, SIGINT, SIGHUP and SIGCHLD while it runs.
 */
int vmr_restart_run(const struct vmr_restart_opts *o, int *ret_status, struct vmr_error **err);

#endif
