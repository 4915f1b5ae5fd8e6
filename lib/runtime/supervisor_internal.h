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
#include "lib/runtime/ready.h"
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
/* ready_when tcp: a connection attempt every second, each given 3 s */
#define SUP_TCP_RETRY_MS 1000
#define SUP_TCP_CONNECT_MS 3000
/* the guest agent: guest-ping every second until it answers; requests wait 10 s */
#define SUP_AGENT_PING_MS 1000
#define SUP_AGENT_TIMEOUT_MS 10000
#define SUP_AGENT_OUT_MAX (64u << 10)
#define SUP_AGENT_LINE_MAX (1u << 20)

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

/* A control request answered by the guest agent (a client waits for its reply). */
struct sup_agent_req {
	uint64_t id;	   /* the agent request's id */
	uint64_t client;   /* the control client waiting */
	uint64_t deadline; /* now_ms() value */
};

/* The connection to the guest agent's channel (`agent: true`). */
struct sup_agent {
	int fd; /* -1: no agent channel */
	struct vmr_buf in;
	struct run_outq out;
	uint64_t next_id;
	uint64_t ping_id;   /* guest-ping in flight for readiness, 0: none */
	uint64_t next_ping; /* now_ms() value of the next guest-ping */
	struct sup_agent_req *reqs;
	size_t nreqs;
};

/* ready_when: is the guest ready, and what was seen last (docs/supervisor.md). */
struct sup_health {
	bool started;			 /* the guest ran: checks are on */
	struct vmr_ready_lines lines;	 /* the console (regex for console and cloud-init) */
	bool healthy;			 /* the condition was met since the last reset */
	bool marked;			 /* set by sup_health_mark_running, not yet announced */
	bool paused;			 /* QEMU's STOP event without RESUME since */
	time_t since;			 /* when it became healthy */
	char *last;			 /* tcp and agent: what the last attempt saw */
	int tcp_fd;			 /* a connection attempt in progress, or -1 */
	uint64_t tcp_deadline, tcp_next; /* now_ms() values */
	uint64_t *waiters;		 /* control clients waiting for readiness */
	size_t nwaiters;
};

/* `vmrun reboot`: the ACPI power button with QEMU set to pause on shutdown, then reset. */
struct sup_reboot {
	bool active;
	uint64_t client;   /* waits for the reply */
	uint64_t deadline; /* no poweroff by then: system_reset */
	bool reset_sent;
	bool acpi; /* the guest shut down by itself (else: reset at the deadline) */
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
	/* supervisor_isolate.c: QEMU's private mounts and cgroup */
	bool private_mounts;
	struct vmr_mountns mounts;
	bool cgroup;
	int cg_version; /* 2 or 1 */
	struct vmr_cgroup_limits cg_limits;
	bool have_cg_limits;
	struct vmr_cgroup cg; /* made, until QEMU joined it */
	bool have_cg;
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
	struct vmr_helpers helpers; /* processes devices started (swtpm), relays (vnc.sock) */
	uint64_t relay_seq;	    /* numbers the fds handed to QEMU (getfd's fdname) */
	unsigned relay_in_flight;   /* relay clients not yet handed to QEMU */
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
	int exit_status;	/* once known */
	bool finished;		/* teardown reached: status.json says "exited" */
	bool ran;		/* the guest ran: startup finished */
	bool status_failed;	/* the last status.json write failed (reported once) */
	const char *stop_cause; /* "request", "signal" or "kill": asked from outside */

	struct sup_health health;
	struct sup_agent agent;
	struct sup_reboot reboot;
};

/* supervisor.c: messages, status.json, QEMU's life, QMP events */
void sup_log(struct sup *s, enum vmr_log_level level, const char *fmt, ...) _printf_(3, 4);
char *sup_file(struct sup *s, const char *name);
void sup_unlink(struct sup *s, const char *name);
json_t *sup_status(struct sup *s, bool live, json_t *qemu_state);
json_t *sup_stats(struct sup *s, json_t *blockstats);
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
void sup_ctl_reply(struct sup *s, uint64_t id, json_t *reply);
json_t *sup_ctl_error(const char *fmt, ...) _printf_(1, 2);
struct ctl_client *sup_ctl_find(struct sup *s, uint64_t id, size_t *ret_i);
void sup_ctl_drop(struct sup *s, size_t i);
bool sup_ctl_wants_input(const struct ctl_client *c);
void sup_ctl_process_lines(struct sup *s, uint64_t id);
void sup_ctl_read(struct sup *s, size_t i);
void sup_ctl_accept(struct sup *s);

/* supervisor_relay.c: the devices' listening sockets whose clients go to QEMU as fds */
#define SUP_MAX_RELAYS 4
size_t sup_relay_poll(struct sup *s, struct pollfd *pfd);
void sup_relay_dispatch(struct sup *s, const struct pollfd *pfd, size_t n);

/* supervisor_ready.c: ready_when, the guest agent, reboot */
void sup_health_init(struct sup *s);
void sup_health_start(struct sup *s);
/*
 * ready_when running, at `cont`: healthy from now on, without a word yet,
 * so the status.json written with the running state says it too;
 * sup_health_start() then logs and announces it without writing again.
 */
void sup_health_mark_running(struct sup *s);
void sup_health_console(const char *data, size_t n, void *userdata);
#define SUP_HEALTH_NPOLL 2
void sup_health_poll(struct sup *s, struct pollfd *pfd);
void sup_health_dispatch(struct sup *s, const struct pollfd *pfd);
int sup_health_timeout(struct sup *s);
void sup_health_tick(struct sup *s);
void sup_health_event(struct sup *s, const char *event, json_t *data);
json_t *sup_health_json(struct sup *s);
void sup_health_wait(struct sup *s, uint64_t client);
void sup_health_end(struct sup *s);
void sup_health_free(struct sup *s);
int sup_agent_connect(struct sup *s, struct vmr_error **err);
void sup_agent_call(struct sup *s, uint64_t client, const char *cmd, json_t *args);
void sup_reboot_start(struct sup *s, uint64_t client, unsigned timeout_s);

/* supervisor_isolate.c: QEMU's private mounts and cgroup */
int sup_isolate_check(struct sup *s, struct vmr_error **err);
int sup_isolate_prepare(struct sup *s, struct vmr_error **err);

/* supervisor_start.c: everything up to a running guest */
void sup_close_child_fds(struct sup *s);
int sup_start(struct sup *s, struct vmr_error **err);

/* supervisor_loop.c: the poll loop while the guest runs */
void sup_loop(struct sup *s);

/* supervisor_teardown.c: undo on every way out */
int sup_teardown(struct sup *s, struct vmr_error **err);
void sup_free(struct sup *s);

#endif
