/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_SUPERVISOR_H
#define VMR_SUPERVISOR_H

/*
 * The guest supervisor behind `vmrun run` (docs/supervisor.md): one
 * process per guest, fit to be PID 1 of a container.  It locks the guest's
 * state directory, replays a journal left by a dead predecessor, makes the
 * host changes through the undo journal, starts QEMU (lib/spawn.h) with its
 * privilege drop (lib/caps.h), pins the vCPUs over QMP, loads its own
 * seccomp filter (lib/sandbox.h, unless cfg->sandbox is false), lets the
 * guest run, copies its console, serves the control and console sockets,
 * stops the guest gracefully on SIGTERM and undoes every host change on
 * every way out.
 *
 * Control socket (STATE/GUEST/control.sock), JSON lines, one reply line per
 * request line, in order:
 *   {"qmp": {"execute": CMD, "arguments": {...}}} -> QEMU's reply object
 *                                                   ({"return": ...} or {"error": ...})
 *   {"status": null}                 -> {"return": STATUS}
 *   {"ping": null}                   -> {"return": {"ready": BOOL}}: the loop runs
 *                                       (startup is over); ready while the guest
 *                                       runs and no stop has begun
 *   {"stop": {"timeout": S}}         -> {"return": {}}; graceful stop begins
 *                                       ("timeout" optional: the guest's stop_timeout)
 *   {"kill": null}                   -> {"return": {}}; QEMU gets SIGKILL
 *   {"health": {"wait": BOOL}}       -> {"return": HEALTH}: ready_when's state; with
 *                                       wait, once the guest is ready or a stop began
 *   {"reboot": {"timeout": S}}       -> {"return": {"how": "acpi"|"reset"}} once the guest
 *                                       reset: the ACPI power button (QEMU paused on the
 *                                       guest's poweroff, then reset and resumed), or
 *                                       system_reset after S seconds (stop_timeout)
 *   {"stats": null}                  -> {"return": STATS}: CPU time per vCPU thread,
 *                                       QEMU's RSS, query-blockstats per disk
 *   {"agent": {"execute": CMD, "arguments": {...}}} -> the guest agent's reply
 * Errors of the supervisor itself: {"error": {"class": "VmrunError", "desc": TEXT}}.
 * STATUS is the object of status.json with live fields added (docs/supervisor.md).
 * The client side is lib/control.h.
 */

#include <stdbool.h>

#include <sys/types.h>

#include "lib/base/error.h"
#include "lib/base/statedir.h"
#include "lib/model/config.h"
#include "lib/model/topology.h"

/* Exit statuses of `vmrun run` beyond the common 0/1/2 (docs/supervisor.md). */
enum {
	VMR_EXIT_QEMU_ERROR = 3,  /* QEMU exited with a non-zero status while the guest ran */
	VMR_EXIT_GUEST_PANIC = 4, /* QEMU reported a guest panic (SHUTDOWN reason guest-panic) */
	VMR_EXIT_HELPER = 5,	  /* a helper the guest needs (swtpm) died: the guest was stopped */
	VMR_EXIT_WATCHDOG = 6,	  /* the guest's watchdog fired with action poweroff */
	VMR_EXIT_STOPPED = 143,	  /* the guest did not power off itself: stopped by quit or
				   * SIGKILL after the timeout, or QEMU was told to quit by
				   * the host (a signal to QEMU, a `quit` over QMP) */
};

#define VMR_SUPERVISOR_QUIT_TIMEOUT_MS 2000   /* after `quit`, before SIGKILL */
#define VMR_SUPERVISOR_START_TIMEOUT_MS 30000 /* QMP greeting and each startup command */

enum vmr_log_level {
	VMR_LOG_INFO,	 /* progress: ready, stopping, escalation */
	VMR_LOG_WARNING, /* e.g. the TCG fallback */
	VMR_LOG_EVENT,	 /* a QMP event as one JSON line (only with opts.events) */
};

/* Where the supervisor's messages go; msg is one line without newline. */
typedef void (*vmr_log_fn)(enum vmr_log_level level, const char *msg, void *userdata);

struct vmr_supervisor_opts {
	const struct vmr_config *cfg;
	const struct vmr_topology *topo;
	const struct vmr_guest *guest;
	const char *topo_path; /* relative paths in the topology resolve from its directory */
	bool events;	       /* pass QMP events to log (VMR_LOG_EVENT) too */
	int console_fd;	       /* receives the guest console (normally 1); -1: none */
	vmr_log_fn log;	       /* may be NULL */
	void *log_userdata;
	/*
	 * Under a restart manager (lib/runtime/restart.h): the guest's state
	 * directory it locked (the lock fd is inherited, and its pid is the
	 * one in the lock and in status.json's supervisor_pid), and the
	 * restarts so far.  NULL and 0 for a supervisor of its own.
	 */
	const struct vmr_statedir *locked;
	pid_t manager_pid;
	unsigned restart_count;
};

/*
 * Run the guest until QEMU exits and everything is undone.  Returns 0 with
 * the exit status for `vmrun run` in *ret_status (0, 128+N, VMR_EXIT_*);
 * or negative with *err (status 1 for a runtime failure, 2 for invalid
 * input found before anything changed) when the guest could not be
 * started or the host could not be restored.  Blocks SIGTERM, SIGINT,
 * SIGHUP and SIGCHLD (read through a signalfd), ignores SIGPIPE and makes
 * the process a child subreaper, so it must run in the main thread of a
 * single-threaded process.
 */
int vmr_supervisor_run(const struct vmr_supervisor_opts *o, int *ret_status,
		       struct vmr_error **err);

#endif
