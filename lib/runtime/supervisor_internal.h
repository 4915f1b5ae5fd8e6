/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_SUPERVISOR_INTERNAL_H
#define VMR_SUPERVISOR_INTERNAL_H

/*
 * Internals of the guest supervisor (lib/runtime/supervisor.h), shared by
 * its files, one per phase: supervisor_start.c (sequential and
 * synchronous, each step with a deadline), supervisor_loop.c (once the
 * guest runs, a single-threaded poll() loop serves the signalfd, QMP, the
 * console and the control socket until QEMU exits), supervisor_control.c
 * (the control socket), supervisor_teardown.c (on every way out of
 * vmr_supervisor_run()), and supervisor.c (the entry point, status.json,
 * QEMU's life and events).  Not for other modules.
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "lib/base/caps.h"
#include "lib/base/journal.h"
#include "lib/base/spawn.h"
#include "lib/base/statedir.h"
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/plan.h"
#include "lib/runtime/pin.h"
#include "lib/runtime/run.h"
#include "lib/runtime/supervisor.h"
#include "qmp/qmp.h"

#define CTL_LINE_MAX (1u << 20)
/* replies a client has not read yet: past this, its next requests wait */
#define CTL_OUT_HIGH (256u << 10)
#define CTL_QMP_TIMEOUT_MS 60000
/* QMP closed but QEMU still alive: how long before we stop waiting for it */
#define QMP_LOST_GRACE_MS 5000
/* QEMU gone: how long its QMP socket may take to reach EOF */
#define QMP_DRAIN_MS 1000
/* QMP closed during startup: how long QEMU may take to exit */
#define STARTUP_EXIT_WAIT_MS 2000
/*
 * A helper (swtpm) that ends while QEMU lives: QEMU gets this long to end
 * too (a quitting QEMU closes swtpm's socket before it exits) before the
 * helper's end counts as its death.
 */
#define HELPER_GRACE_MS 1000
/* teardown: how long helpers get to end after QEMU, then after SIGTERM */
#define HELPER_STOP_MS 2000

enum phase {
	PHASE_STARTING,
	PHASE_RUNNING,
	PHASE_POWERDOWN, /* system_powerdown sent, waiting for the guest */
	PHASE_QUIT,	 /* quit sent, waiting for QEMU */
	PHASE_KILLED,	 /* SIGKILL sent */
};

/* status.json's state of each phase */
extern const char *const sup_phase_names[];

struct ctl_client {
	int fd;
	uint64_t id;
	struct vmr_buf in;
	struct run_outq out;
	bool busy; /* a request is in flight: its reply comes before the next is read */
	bool eof;  /* the peer shut down its side: drop once the replies are out */
};

struct sup {
	const struct vmr_supervisor_opts *o;
	const struct vmr_config *cfg;
	const struct vmr_guest *g;
	struct vmr_statedir dir;
	struct vmr_journal *journal;
	struct vmr_spawn_user user;
	bool have_user;
	struct vmr_caps_drop caps; /* QEMU's privilege drop, prepared before fork */
	bool have_caps;
	struct vmr_plan plan;
	bool have_plan;
	int *fds; /* child fd N is fds[N - 3] until QEMU has them */
	int nfds; /* == plan.nfds */
	int sigfd;
	sigset_t oldmask;
	bool sigs_blocked;
	struct vmr_qmp *qmp;
	uint64_t qmp_lost_at;
	struct run_console con;
	bool have_console;
	struct run_caplog events;
	int ctl_listen;
	struct ctl_client *ctl[RUN_MAX_CLIENTS];
	size_t nctl;
	uint64_t next_ctl_id;

	pid_t qemu_pid;
	bool qemu_exited;
	int qemu_wstatus;
	struct vmr_helpers helpers; /* processes devices started (swtpm) */
	uint64_t helper_check_at;   /* a helper ended: judge at this now_ms() */
	bool helper_died;	    /* one ended while QEMU ran: status VMR_EXIT_HELPER */
	bool watchdog_poweroff;	    /* QEMU's WATCHDOG event said poweroff */
	struct vmr_vcpu *vcpus;
	size_t nvcpus;
	bool pinned;

	enum phase phase;
	uint64_t deadline; /* now_ms() value; 0: none */
	unsigned stop_timeout;
	unsigned stop_wait;  /* the wait in force after the power button */
	bool stop_requested; /* before the guest ran */
	bool escalated;
	bool shutdown_seen, shutdown_guest;
	char *shutdown_reason;
	time_t started_wall;
	uint64_t started_ms;
	int exit_status;    /* once known */
	bool finished;	    /* teardown reached: status.json says "exited" */
	bool status_failed; /* the last status.json write failed (reported once) */
};

/* supervisor.c: messages, status.json, QEMU's life, QMP events */
void sup_log(struct sup *s, enum vmr_log_level level, const char *fmt, ...) _printf_(3, 4);
char *sup_file(struct sup *s, const char *name);
void sup_unlink(struct sup *s, const char *name);
json_t *sup_status(struct sup *s, bool live, json_t *qemu_state);
int sup_write_status(struct sup *s, struct vmr_error **err);
void sup_reap(struct sup *s);
void sup_helpers_check(struct sup *s);
void sup_helpers_stop(struct sup *s);
bool sup_qemu_dying(struct sup *s);
void sup_kill(struct sup *s);
void sup_escalate(struct sup *s, const char *why);
void sup_stop(struct sup *s, unsigned timeout_s, const char *why);
void sup_read_signals(struct sup *s);
int sup_exit_status(const struct sup *s);
char *sup_wstatus_text(int st);
void sup_on_event(const char *event, json_t *data, json_t *timestamp, void *userdata);
void sup_on_qmp_diag(const char *msg, void *userdata);

/* supervisor_control.c: the control socket (requests parsed by lib/runtime/control.h) */
struct ctl_client *sup_ctl_find(struct sup *s, uint64_t id, size_t *ret_i);
void sup_ctl_drop(struct sup *s, size_t i);
bool sup_ctl_wants_input(const struct ctl_client *c);
void sup_ctl_process_lines(struct sup *s, uint64_t id);
void sup_ctl_read(struct sup *s, size_t i);
void sup_ctl_accept(struct sup *s);

/* supervisor_start.c: everything up to a running guest */
void sup_close_child_fds(struct sup *s);
int sup_start(struct sup *s, struct vmr_error **err);

/* supervisor_loop.c: the poll loop while the guest runs */
void sup_loop(struct sup *s);

/* supervisor_teardown.c: undo on every way out */
int sup_teardown(struct sup *s, struct vmr_error **err);
void sup_free(struct sup *s);

#endif
