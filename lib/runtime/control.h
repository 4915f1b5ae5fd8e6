/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_CONTROL_H
#define VMR_CONTROL_H

/*
 * The client side of a supervisor's control socket and the guest lifecycle
 * operations built on it, for `vmrun ps`, `stop`, `kill`, `qmp`, `down`
 * (docs/verbs.md).  The protocol is the supervisor's (lib/supervisor.h):
 * JSON lines on STATE/GUEST/control.sock, one reply line per request.
 *
 * Whether a guest runs is decided by its lock (lib/statedir.h), never by
 * the presence of files: a supervisor killed with SIGKILL leaves its
 * sockets and status.json behind.
 */

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "lib/base/error.h"
#include "lib/base/strvec.h"

#define VMR_CONTROL_TIMEOUT_MS 10000	  /* default wait for one reply */
#define VMR_STOP_TEARDOWN_MARGIN_MS 30000 /* after the ACPI wait and `quit`: the teardown */
#define VMR_STOP_TIMEOUT_MAX_S 86400	  /* longest stop timeout a verb accepts */

/*
 * Connect to the supervisor's socket STATE/GUEST/NAME ("control.sock",
 * "console.sock").  Returns the connected fd (O_CLOEXEC, blocking).  A guest
 * without a listening supervisor fails with "guest 'a' is not running"
 * (ENOENT or ECONNREFUSED).
 */
int vmr_guest_socket_connect(const char *state_dir, const char *guest, const char *name,
			     struct vmr_error **err);

/* vmr_guest_socket_connect() of "control.sock". */
int vmr_control_connect(const char *state_dir, const char *guest, struct vmr_error **err);

/*
 * Send request (borrowed) as one line and read one reply line, within
 * timeout_ms in all (< 0: no limit).  Returns 0 with the reply object (a
 * new reference) in *ret_reply.  The supervisor closing the connection
 * first fails with EPIPE ("guest 'a': supervisor closed the connection").
 */
int vmr_control_request(const char *state_dir, const char *guest, json_t *request, int timeout_ms,
			json_t **ret_reply, struct vmr_error **err);

/*
 * The same, unwrapping the reply: {"return": X} gives 0 and X (a new
 * reference; may be NULL when ret_return is NULL); {"error": {"class",
 * "desc"}} fails with "guest 'a': DESC" (errno 0) and, when ret_class is
 * not NULL, the class in *ret_class (caller frees).  A reply with neither
 * is a protocol error (EPROTO).
 */
int vmr_control_call(const char *state_dir, const char *guest, json_t *request, int timeout_ms,
		     json_t **ret_return, char **ret_class, struct vmr_error **err);

/*
 * One QMP command through the supervisor ({"qmp": {"execute": cmd,
 * "arguments": args}}), unwrapped as vmr_control_call() does.  args may be
 * NULL; it is borrowed, not stolen.
 */
int vmr_control_qmp(const char *state_dir, const char *guest, const char *cmd, json_t *args,
		    int timeout_ms, json_t **ret_return, char **ret_class, struct vmr_error **err);

/*
 * Ask guest's supervisor for a graceful stop (the ACPI power button, then
 * quit, then SIGKILL after timeout_s; timeout_s < 0: the guest's own
 * stop_timeout), or with kill for an immediate SIGKILL of QEMU.  A
 * supervisor still starting (no control socket yet) gets SIGTERM, which
 * makes it tear down once startup ends.  Returns 1 when the request was
 * delivered (with the supervisor's pid in *ret_pid when not NULL; 0 when
 * it has not written it yet), 0 when no supervisor runs the guest,
 * negative on failure.  Does not wait: see vmr_guest_wait_stopped().
 */
int vmr_guest_stop(const char *state_dir, const char *guest, int timeout_s, bool kill,
		   pid_t *ret_pid, struct vmr_error **err);

/*
 * Kill guest's QEMU (the `kill` request) only if its control socket is
 * served by supervisor pid (SO_PEERCRED), or by a child of pid when pid is
 * a restart manager (lib/runtime/restart.h): never another supervisor's guest
 * that holds the lock because pid has not taken it yet or lost the race
 * for it.  Returns 1 when delivered, 0 when pid does not serve the guest
 * (nothing sent), negative on failure.
 */
int vmr_guest_kill_if(const char *state_dir, const char *guest, pid_t pid, struct vmr_error **err);

/*
 * Wait up to timeout_ms (< 0: no limit) for guest's supervisor pid (from
 * vmr_guest_stop(); 0: whoever holds the lock) to finish its teardown and
 * exit, then read the exit status it recorded in status.json (or in
 * status.json.1, where a successor keeps it) into *ret_exit_status (-1
 * when it recorded none, e.g. it was killed).  Returns 0, or -ETIMEDOUT
 * with *err.
 */
int vmr_guest_wait_stopped(const char *state_dir, const char *guest, pid_t pid, int timeout_ms,
			   int *ret_exit_status, struct vmr_error **err);

/*
 * How long, in ms, a stop of guest with timeout_s may take before its
 * supervisor is done: the wait for the guest to power off (timeout_s;
 * < 0: the stop_timeout its supervisor recorded in status.json, or
 * fallback_s without one), then `quit` (VMR_SUPERVISOR_QUIT_TIMEOUT_MS)
 * and the teardown (VMR_STOP_TEARDOWN_MARGIN_MS).  For
 * vmr_guest_wait_stopped() after vmr_guest_stop().
 */
int vmr_guest_stop_wait_ms(const char *state_dir, const char *guest, int timeout_s,
			   unsigned fallback_s);

/*
 * A few words on a supervisor's exit status as recorded after a stop:
 * "powered off", "stopped without a guest poweroff", "QEMU killed by SIGKILL"...
 * Returns a static string or NULL for statuses without a description.
 */
const char *vmr_guest_exit_text(int exit_status);

/*
 * The names of the guests that have a state directory under state_dir
 * (directories with a lock file), sorted.  A missing state_dir is an
 * empty list.
 */
int vmr_guest_list(const char *state_dir, struct vmr_strvec *ret, struct vmr_error **err);

/*
 * What `vmrun ps` shows of one guest, as a new JSON object:
 *   guest, state, supervisor_state, qemu_state, live, supervisor_alive, supervisor_pid,
 *   qemu_pid, started, uptime (whole seconds), cpuset, pinned, accel, stop_timeout,
 *   exit_status, vcpus [{index, thread, cpu, affinity}],
 *   nics [{name, kind, mac, ifname, pci}]
 * From the supervisor's live status when it runs (timeout_ms for the
 * reply), else from status.json.  live: the supervisor answered;
 * supervisor_alive: it holds the guest's lock.  state is QEMU's run state from QMP
 * ("running", "paused", ...) when the supervisor answered, its own phase
 * ("starting", "stopping") otherwise, "stale" when no supervisor holds
 * the lock but status.json says the guest was not cleanly stopped (the
 * supervisor died), "exited" after a clean stop, "unknown" without
 * status.json.  Without a supervisor holding the lock the pids are null and
 * vcpus and nics empty: those processes and links are gone (or are
 * leftovers the next start reclaims).  Each vCPU's affinity is read from
 * /proc/QEMU/task/TID/status when the supervisor did not report it and the
 * thread exists.
 */
int vmr_guest_status(const char *state_dir, const char *guest, int timeout_ms, json_t **ret,
		     struct vmr_error **err);

/*
 * The CPU affinity of thread tid of process pid, as a cpuset list
 * ("0-3,8"), read from /proc/PID/task/TID/status (Cpus_allowed_list).
 * Returns a new string or NULL when the thread is gone.
 */
char *vmr_thread_affinity(pid_t pid, pid_t tid);

/* ---- the supervisor's side: one request line ---- */

enum vmr_ctl_kind {
	VMR_CTL_QMP,	/* {"qmp": {"execute": CMD, "arguments": {...}}} */
	VMR_CTL_STATUS, /* {"status": null} */
	VMR_CTL_PING,	/* {"ping": null} */
	VMR_CTL_STOP,	/* {"stop": {"timeout": S}} (timeout optional) */
	VMR_CTL_KILL,	/* {"kill": null} */
	VMR_CTL_HEALTH, /* {"health": {"wait": BOOL}} (or null: no wait) */
	VMR_CTL_REBOOT, /* {"reboot": {"timeout": S}} (timeout optional) */
	VMR_CTL_STATS,	/* {"stats": null} */
	VMR_CTL_AGENT,	/* {"agent": {"execute": CMD, "arguments": {...}}} */
};

struct vmr_ctl_request {
	enum vmr_ctl_kind kind;
	const char *execute; /* QMP, AGENT: the command (in doc) */
	json_t *arguments;   /* QMP, AGENT: an object or NULL (in doc) */
	int timeout;	     /* STOP, REBOOT: seconds 0..86400, -1 for the guest's stop_timeout */
	bool wait;	     /* HEALTH: reply once the guest is ready (or will not be) */
	json_t *doc;	     /* the parsed line, owning the strings above */
};

/*
 * Parse one request line of the control protocol (pure; the fuzz target
 * tests/fuzz/fuzz_control.c drives it).  Returns 0 and *ret (free with
 * vmr_ctl_request_free()), or -EINVAL with the error reply's text in
 * *ret_why (caller frees): "invalid request: ..." or "unknown request 'x'".
 */
int vmr_ctl_parse(const char *line, size_t len, struct vmr_ctl_request *ret, char **ret_why);
void vmr_ctl_request_free(struct vmr_ctl_request *r);

#endif
