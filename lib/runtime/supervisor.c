/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest supervisor (lib/supervisor.h, docs/supervisor.md).
 *
 * Startup is sequential and synchronous (each step has a deadline);
 * once the guest runs, a single-threaded poll() loop serves the signalfd,
 * QMP, the console and the control socket until QEMU exits.  Teardown runs
 * on every way out of vmr_supervisor_run().
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "images/images.h"
#include "lib/base/caps.h"
#include "lib/runtime/guestplan.h"
#include "lib/runtime/preflight.h"
#include "lib/base/fault.h"
#include "lib/base/journal.h"
#include "lib/runtime/pin.h"
#include "lib/runtime/reclaim.h"
#include "lib/plan/plan.h"
#include "lib/runtime/run.h"
#include "lib/runtime/sandbox.h"
#include "lib/base/spawn.h"
#include "lib/base/statedir.h"
#include "lib/runtime/supervisor.h"
#include "lib/base/util.h"
#include "net/net.h"
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

enum phase {
	PHASE_STARTING,
	PHASE_RUNNING,
	PHASE_POWERDOWN, /* system_powerdown sent, waiting for the guest */
	PHASE_QUIT,	 /* quit sent, waiting for QEMU */
	PHASE_KILLED,	 /* SIGKILL sent */
};

static const char *const phase_names[] = {
    [PHASE_STARTING] = "starting", [PHASE_RUNNING] = "running", [PHASE_POWERDOWN] = "stopping",
    [PHASE_QUIT] = "stopping",	   [PHASE_KILLED] = "stopping",
};

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

static void sup_log(struct sup *s, enum vmr_log_level level, const char *fmt, ...) _printf_(3, 4);

static void sup_log(struct sup *s, enum vmr_log_level level, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	if (!s->o->log)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	s->o->log(level, msg, s->o->log_userdata);
}

static char *sup_file(struct sup *s, const char *name)
{
	return vmr_statedir_file(&s->dir, name);
}

static void sup_unlink(struct sup *s, const char *name)
{
	_cleanup_free_ char *p = sup_file(s, name);

	(void)unlink(p);
}

/* ---- status ---------------------------------------------------------- */

static json_t *sup_status(struct sup *s, bool live, json_t *qemu_state)
{
	json_t *st = json_object(), *vcpus = json_array(), *nics = json_array();
	const struct vmr_guest *g = s->g;

	json_object_set_new(st, "guest", json_string(g->name));
	json_object_set_new(st, "state",
			    json_string(s->finished ? "exited" : phase_names[s->phase]));
	json_object_set_new(st, "supervisor_pid", json_integer(getpid()));
	json_object_set_new(st, "qemu_pid",
			    s->qemu_pid > 0 ? json_integer(s->qemu_pid) : json_null());
	json_object_set_new(st, "accel", json_string(vmr_accel_name(s->plan.facts.accel)));
	json_object_set_new(st, "started", json_integer((json_int_t)s->started_wall));
	if (g->has_cpuset) {
		_cleanup_free_ char *cs = vmr_cpuset_format(&g->cpuset);

		json_object_set_new(st, "cpuset", json_string(cs));
	} else {
		json_object_set_new(st, "cpuset", json_null());
	}
	json_object_set_new(st, "pinned", json_boolean(s->pinned));
	json_object_set_new(st, "stop_timeout", json_integer(s->stop_timeout));
	for (size_t i = 0; i < s->nvcpus; i++) {
		json_t *v = json_pack("{s:I, s:I}", "index", (json_int_t)s->vcpus[i].index,
				      "thread", (json_int_t)s->vcpus[i].tid);

		if (s->pinned)
			json_object_set_new(v, "cpu", json_integer(g->cpuset.cpus[i]));
		if (live) {
			struct vmr_cpuset aff = {0};

			if (vmr_pin_affinity(s->vcpus[i].tid, &aff, NULL) == 0) {
				_cleanup_free_ char *a = vmr_cpuset_format(&aff);

				json_object_set_new(v, "affinity", json_string(a));
				vmr_cpuset_free(&aff);
			}
		}
		json_array_append_new(vcpus, v);
	}
	json_object_set_new(st, "vcpus", vcpus);
	for (size_t i = 0; i < g->nnics; i++) {
		const struct vmr_nic *n = &g->nics[i];
		const struct vmr_plan_dev *pd =
		    s->have_plan ? vmr_plan_nic(&s->plan, n->name) : NULL;
		char mac[18];

		json_array_append_new(
		    nics, json_pack("{s:s, s:s, s:s, s:o, s:o}", "name", n->name, "kind",
				    n->att.ops->name, "mac", vmr_mac_format(&n->mac, mac), "ifname",
				    pd && pd->ifname ? json_string(pd->ifname) : json_null(), "pci",
				    pd && pd->hostdev ? json_string(pd->hostdev) : json_null()));
	}
	json_object_set_new(st, "nics", nics);
	if (s->finished)
		json_object_set_new(st, "exit_status", json_integer(s->exit_status));
	if (live) {
		json_object_set_new(st, "uptime",
				    json_integer((json_int_t)((now_ms() - s->started_ms) / 1000)));
		json_object_set_new(st, "qemu_state",
				    qemu_state ? json_incref(qemu_state) : json_null());
	}
	return st;
}

/*
 * status.json: rewritten atomically whenever the state changes.  During
 * startup a failure fails the start (a guest whose state nobody can read
 * must not run); afterwards it is reported once and the guest goes on.
 */
static int sup_write_status(struct sup *s, struct vmr_error **err)
{
	json_t *st = sup_status(s, false, NULL);
	char *text = json_dumps(st, JSON_INDENT(2) | JSON_SORT_KEYS);
	_cleanup_free_ char *path = sup_file(s, "status.json");
	int r = -ENOMEM;

	if (text) {
		_cleanup_free_ char *line = xasprintf("%s\n", text);

		r = write_file_atomic(path, line, strlen(line), 0644);
	}
	free(text);
	json_decref(st);
	if (r >= 0) {
		s->status_failed = false;
		return 0;
	}
	if (err)
		return vmr_error_set(err, -r, "write '%s'", path);
	if (!s->status_failed)
		sup_log(s, VMR_LOG_WARNING, "guest '%s': write '%s': %s", s->g->name, path,
			strerror(-r));
	s->status_failed = true;
	return r;
}

/* ---- QEMU's life ----------------------------------------------------- */

static void sup_reap(struct sup *s)
{
	int status;
	pid_t pid;

	/* every child, not only QEMU: orphans re-parented to us are ours to reap */
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == s->qemu_pid && !s->qemu_exited) {
			s->qemu_exited = true;
			s->qemu_wstatus = status;
		}
	}
}

/*
 * Whether QEMU is gone or on its way out: exited (reaped now), or a fatal
 * signal already pending for it that it has not acted on yet (a
 * `kill -9` a moment ago).  For the readiness answer, which must not say
 * ready for a guest that dies the next instant.
 */
static bool sup_qemu_dying(struct sup *s)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	const unsigned long long fatal = (1ull << (SIGKILL - 1)) | (1ull << (SIGTERM - 1));
	static const char *const keys[] = {"\nShdPnd:", "\nSigPnd:"};

	sup_reap(s);
	if (s->qemu_exited || s->qemu_pid <= 0)
		return true;
	path = xasprintf("/proc/%d/status", (int)s->qemu_pid);
	if (read_file(path, 1 << 16, &text, NULL) < 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *p = strstr(text, keys[i]);

		if (p && strtoull(p + strlen(keys[i]), NULL, 16) & fatal)
			return true;
	}
	return false;
}

static void sup_kill(struct sup *s)
{
	if (s->qemu_pid > 0 && !s->qemu_exited)
		kill(s->qemu_pid, SIGKILL);
	s->phase = PHASE_KILLED;
	s->deadline = 0;
}

static void sup_escalate(struct sup *s, const char *why)
{
	struct vmr_error *e = NULL;

	s->escalated = true;
	if (s->phase == PHASE_QUIT || vmr_qmp_closed(s->qmp)) {
		sup_log(s, VMR_LOG_INFO, "guest '%s': %s: killing QEMU (pid %d)", s->g->name, why,
			(int)s->qemu_pid);
		sup_kill(s);
		return;
	}
	sup_log(s, VMR_LOG_INFO, "guest '%s': %s: sending quit", s->g->name, why);
	s->phase = PHASE_QUIT;
	s->deadline = now_ms() + VMR_SUPERVISOR_QUIT_TIMEOUT_MS;
	if (vmr_qmp_send(s->qmp, "quit", NULL, VMR_SUPERVISOR_QUIT_TIMEOUT_MS, NULL, NULL, NULL,
			 &e) < 0) {
		vmr_error_free(e);
		sup_kill(s);
	}
}

/* A graceful stop: the ACPI power button, then escalation at the deadline. */
static void sup_stop(struct sup *s, unsigned timeout_s, const char *why)
{
	struct vmr_error *e = NULL;

	switch (s->phase) {
	case PHASE_STARTING:
		s->stop_requested = true;
		return;
	case PHASE_RUNNING:
		break;
	case PHASE_POWERDOWN: {
		uint64_t d = now_ms() + (uint64_t)timeout_s * 1000u;

		if (d < s->deadline) {
			s->deadline = d;
			s->stop_wait = timeout_s;
		}
		return;
	}
	default:
		return;
	}
	sup_unlink(s, "ready");
	(void)sd_notify(0, "STOPPING=1");
	s->phase = PHASE_POWERDOWN;
	s->stop_wait = timeout_s;
	s->deadline = now_ms() + (uint64_t)timeout_s * 1000u;
	(void)sup_write_status(s, NULL);
	sup_log(s, VMR_LOG_INFO,
		"guest '%s': %s: pressing the ACPI power button, waiting up to %u s", s->g->name,
		why, timeout_s);
	if (vmr_qmp_send(s->qmp, "system_powerdown", NULL, 5000, NULL, NULL, NULL, &e) < 0) {
		vmr_error_free(e);
		sup_escalate(s, "QMP is gone");
	}
}

static void sup_on_signal(struct sup *s, int sig)
{
	const char *name = sigabbrev_np(sig);
	_cleanup_free_ char *why = xasprintf("SIG%s", name ? name : "?");

	switch (s->phase) {
	case PHASE_STARTING:
	case PHASE_RUNNING:
		sup_stop(s, s->stop_timeout, why);
		break;
	case PHASE_POWERDOWN: {
		_cleanup_free_ char *w = xasprintf("second %s, not waiting", why);

		sup_escalate(s, w);
		break;
	}
	case PHASE_QUIT:
		sup_escalate(s, why);
		break;
	case PHASE_KILLED:
		break;
	}
}

static void sup_read_signals(struct sup *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue; /* reaped below: SIGCHLDs coalesce */
		sup_on_signal(s, (int)si.ssi_signo);
	}
	sup_reap(s);
}

static int sup_exit_status(const struct sup *s)
{
	int st = s->qemu_wstatus;

	if (WIFSIGNALED(st))
		return s->escalated ? VMR_EXIT_STOPPED : 128 + WTERMSIG(st);
	if (WEXITSTATUS(st) != 0)
		return VMR_EXIT_QEMU_ERROR;
	if (s->shutdown_seen && streq(s->shutdown_reason, "guest-panic"))
		return VMR_EXIT_GUEST_PANIC;
	if (s->shutdown_guest)
		return 0;
	return VMR_EXIT_STOPPED;
}

static char *wstatus_text(int st)
{
	if (WIFSIGNALED(st)) {
		const char *n = sigabbrev_np(WTERMSIG(st));

		return xasprintf("killed by SIG%s", n ? n : "?");
	}
	return xasprintf("exited with status %d", WEXITSTATUS(st));
}

/* ---- QMP ------------------------------------------------------------- */

static void sup_on_event(const char *event, json_t *data, json_t *timestamp, void *userdata)
{
	struct sup *s = userdata;
	json_t *o = json_object();
	char *line;

	if (timestamp)
		json_object_set(o, "timestamp", timestamp);
	json_object_set_new(o, "event", json_string(event));
	if (data)
		json_object_set(o, "data", data);
	line = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (line) {
		run_caplog_write(&s->events, line, strlen(line));
		run_caplog_write(&s->events, "\n", 1);
		if (s->o->events)
			sup_log(s, VMR_LOG_EVENT, "%s", line);
		free(line);
	}
	if (streq(event, "SHUTDOWN")) {
		const char *reason = json_string_value(json_object_get(data, "reason"));

		s->shutdown_seen = true;
		s->shutdown_guest = json_is_true(json_object_get(data, "guest"));
		free(s->shutdown_reason);
		s->shutdown_reason = xstrdup(reason);
	}
}

static void sup_on_qmp_diag(const char *msg, void *userdata)
{
	struct sup *s = userdata;

	if (s->o->events)
		sup_log(s, VMR_LOG_WARNING, "qmp: %s", msg);
}

/* ---- control socket -------------------------------------------------- */

struct ctl_req {
	struct sup *s;
	uint64_t client;
	bool status; /* reply with the status, the command being query-status */
};

static struct ctl_client *ctl_find(struct sup *s, uint64_t id, size_t *ret_i)
{
	for (size_t i = 0; i < s->nctl; i++) {
		if (s->ctl[i]->id == id) {
			if (ret_i)
				*ret_i = i;
			return s->ctl[i];
		}
	}
	return NULL;
}

static void ctl_drop(struct sup *s, size_t i)
{
	struct ctl_client *c = s->ctl[i];

	close(c->fd);
	vmr_buf_free(&c->in);
	vmr_buf_free(&c->out.buf);
	free(c);
	memmove(&s->ctl[i], &s->ctl[i + 1], (s->nctl - i - 1) * sizeof(s->ctl[0]));
	s->nctl--;
}

/* Queue one reply line (reply is taken) and let the client read on. */
static void ctl_reply(struct sup *s, uint64_t id, json_t *reply)
{
	struct ctl_client *c = ctl_find(s, id, NULL);
	char *text = json_dumps(reply, JSON_COMPACT);

	json_decref(reply);
	if (c && text) {
		c->busy = false;
		/* replies are never dropped: the cap is only a guard on memory */
		c->out.cap = SIZE_MAX;
		run_outq_add(&c->out, text, strlen(text));
		run_outq_add(&c->out, "\n", 1);
		(void)run_outq_flush(&c->out, c->fd, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	free(text);
}

static json_t *ctl_error(const char *fmt, ...) _printf_(1, 2);

static json_t *ctl_error(const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	return json_pack("{s:{s:s, s:s}}", "error", "class", "VmrunError", "desc", msg);
}

static void ctl_qmp_done(json_t *ret, int r, const char *error_class, struct vmr_error *err,
			 void *userdata)
{
	struct ctl_req *req = userdata;
	struct sup *s = req->s;
	json_t *reply;

	if (req->status) {
		json_t *state = r >= 0 ? json_object_get(ret, "status") : NULL;

		reply = json_pack("{s:o}", "return", sup_status(s, true, state));
	} else if (r >= 0) {
		reply = json_object();
		json_object_set_new(reply, "return", ret ? json_incref(ret) : json_object());
	} else {
		_cleanup_free_ char *text = vmr_error_text(err);

		reply = json_pack("{s:{s:s, s:s}}", "error", "class",
				  error_class ? error_class : "VmrunError", "desc", text);
	}
	vmr_error_free(err);
	ctl_reply(s, req->client, reply);
	free(req);
}

static void ctl_send_qmp(struct sup *s, struct ctl_client *c, const char *cmd, json_t *args,
			 bool status)
{
	struct ctl_req *req = xcalloc(1, sizeof(*req));
	struct vmr_error *e = NULL;

	*req = (struct ctl_req){.s = s, .client = c->id, .status = status};
	c->busy = true;
	if (vmr_qmp_send(s->qmp, cmd, args, CTL_QMP_TIMEOUT_MS, ctl_qmp_done, req, NULL, &e) < 0) {
		/* not called back: answer here */
		free(req);
		if (status) {
			ctl_reply(s, c->id,
				  json_pack("{s:o}", "return", sup_status(s, true, NULL)));
		} else {
			_cleanup_free_ char *text = vmr_error_text(e);

			ctl_reply(s, c->id, ctl_error("%s", text));
		}
		vmr_error_free(e);
	}
}

static void ctl_request(struct sup *s, struct ctl_client *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, 0, &jerr);
	const char *key;
	json_t *val;

	if (!req || !json_is_object(req) || json_object_size(req) != 1) {
		ctl_reply(s, c->id,
			  ctl_error("invalid request: %s",
				    req ? "want an object with one member" : jerr.text));
		json_decref(req);
		return;
	}
	key = json_object_iter_key(json_object_iter(req));
	val = json_object_get(req, key);
	if (streq(key, "qmp")) {
		const char *cmd = json_string_value(json_object_get(val, "execute"));
		json_t *args = json_object_get(val, "arguments");

		if (!cmd || (args && !json_is_object(args)))
			ctl_reply(s, c->id,
				  ctl_error("invalid request: \"qmp\" wants "
					    "{\"execute\": NAME, \"arguments\": {...}}"));
		else
			ctl_send_qmp(s, c, cmd, args, false);
	} else if (streq(key, "status")) {
		ctl_send_qmp(s, c, "query-status", NULL, true);
	} else if (streq(key, "ping")) {
		/*
		 * Answered by the loop, so startup is over; ready: the guest
		 * runs and no stop began.  A QEMU killed a moment ago is not
		 * ready even if it has not died yet.
		 */
		ctl_reply(s, c->id,
			  json_pack("{s:{s:b}}", "return", "ready",
				    s->phase == PHASE_RUNNING && !sup_qemu_dying(s)));
	} else if (streq(key, "stop")) {
		json_t *t = json_object_get(val, "timeout");
		unsigned timeout = s->stop_timeout;

		if (t && (!json_is_integer(t) || json_integer_value(t) < 0 ||
			  json_integer_value(t) > 86400)) {
			ctl_reply(s, c->id,
				  ctl_error("invalid request: \"timeout\" wants seconds"));
		} else {
			if (t)
				timeout = (unsigned)json_integer_value(t);
			sup_stop(s, timeout, "stop requested");
			ctl_reply(s, c->id, json_pack("{s:{}}", "return"));
		}
	} else if (streq(key, "kill")) {
		sup_log(s, VMR_LOG_INFO, "guest '%s': kill requested: killing QEMU (pid %d)",
			s->g->name, (int)s->qemu_pid);
		sup_kill(s);
		ctl_reply(s, c->id, json_pack("{s:{}}", "return"));
	} else {
		ctl_reply(s, c->id, ctl_error("unknown request '%s'", key));
	}
	json_decref(req);
}

/*
 * Whether to take more requests from c: not while one is in flight or its
 * replies pile up unread, so a client that pipelines requests without
 * reading costs at most a line and a few replies of memory.
 */
static bool ctl_wants_input(const struct ctl_client *c)
{
	return !c->eof && !c->busy && c->out.buf.len < CTL_OUT_HIGH;
}

/* Handle complete lines while no request of this client is in flight. */
static void ctl_process_lines(struct sup *s, uint64_t id)
{
	struct ctl_client *c;
	char *nl;

	while ((c = ctl_find(s, id, NULL)) && !c->busy && c->out.buf.len < CTL_OUT_HIGH &&
	       (nl = memchr(c->in.s, '\n', c->in.len))) {
		size_t len = (size_t)(nl - c->in.s);
		_cleanup_free_ char *line = xstrndup(c->in.s, len);

		vmr_buf_consume(&c->in, len + 1);
		if (len > 0)
			ctl_request(s, c, line, len);
	}
}

static void ctl_read(struct sup *s, size_t i)
{
	struct ctl_client *c = s->ctl[i];
	char buf[4096];
	ssize_t n = read(c->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		c->eof = true;
		return;
	}
	vmr_buf_add(&c->in, buf, (size_t)n);
	if (c->in.len > CTL_LINE_MAX && !memchr(c->in.s, '\n', c->in.len)) {
		ctl_reply(s, c->id, ctl_error("request line exceeds %u bytes", CTL_LINE_MAX));
		c->eof = true;
		return;
	}
	ctl_process_lines(s, c->id);
}

static void ctl_accept(struct sup *s)
{
	for (;;) {
		int fd = accept4(s->ctl_listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct ctl_client *c;

		if (fd < 0)
			return;
		if (s->nctl == RUN_MAX_CLIENTS) {
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->id = ++s->next_ctl_id;
		c->out.cap = SIZE_MAX;
		s->ctl[s->nctl++] = c;
	}
}

/* ---- startup --------------------------------------------------------- */

static int sup_signals(struct sup *s, struct vmr_error **err)
{
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, &s->oldmask) < 0)
		return vmr_error_set(err, errno, "block signals");
	s->sigs_blocked = true;
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sigfd < 0)
		return vmr_error_set(err, errno, "signalfd");
	/* a console reader going away must not kill the supervisor */
	sigaction(SIGPIPE, &ign, NULL);
	/* QEMU's orphans come to us even when we are not PID 1 */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	return 0;
}

/*
 * QEMU's privilege drop (docs/security.md), prepared here so that the
 * forked child cannot fail for a reason knowable before any host change.
 */
static int sup_caps_prepare(struct sup *s, enum vmr_accel accel, struct vmr_error **err)
{
	_cleanup_free_ char *kvm = NULL;
	struct vmr_caps_drop_opts o = {0};
	int r;

	if (s->have_user) {
		o.change_ids = true;
		o.uid = s->user.uid;
		o.gid = s->user.gid;
		o.groups = s->user.groups;
		o.ngroups = s->user.ngroups;
		if (accel == VMR_ACCEL_KVM) {
			kvm = xasprintf("%s/kvm", s->cfg->dev_root);
			o.device = kvm;
		}
		/* VFIO pins all guest memory; libvirt allows memory + 1 GiB */
		if (s->plan.grants.vfio)
			o.memlock = s->g->memory + (UINT64_C(1) << 30);
	} else if (!vmr_caps_any_permitted()) {
		/*
		 * An unprivileged supervisor has nothing to take from a QEMU
		 * that stays its uid: NoNewPrivs, which spawn always sets,
		 * keeps it without capabilities.
		 */
		return 0;
	}
	r = vmr_caps_drop_prepare(&o, &s->caps, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", s->g->name);
	s->have_caps = true;
	return 0;
}

/*
 * The plan: the guest and the host facts known before any change (fd
 * numbering), the same as `vmrun args` prints.
 */
static int sup_plan(struct sup *s, struct vmr_error **err)
{
	const struct vmr_guest *g = s->g;
	struct vmr_guest_plan_opts po = {.topo_path = s->o->topo_path, .vhost = -1};
	_cleanup_free_ char *warning = NULL;
	int r;

	r = vmr_guest_plan(s->cfg, s->o->topo, g, &po, &s->plan, &warning, err);
	if (r < 0)
		return r;
	s->have_plan = true;
	if (warning)
		sup_log(s, VMR_LOG_WARNING, "guest '%s': %s", g->name, warning);
	s->nfds = s->plan.nfds;
	s->fds = xcalloc((size_t)s->nfds, sizeof(int));
	for (int i = 0; i < s->nfds; i++)
		s->fds[i] = -1;
	return 0;
}

/*
 * The files QEMU opens by name and nothing in vmrun makes (kernel,
 * initrd): a missing one is a mistake in the topology, reported before
 * anything changes rather than by QEMU once the host is set up.
 */
static int sup_check_files(struct sup *s, struct vmr_error **err)
{
	const struct {
		const char *what, *path;
	} files[] = {
	    {"kernel", s->g->kernel},
	    {"initrd", s->g->initrd},
	};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *path = NULL;

		if (!files[i].path)
			continue;
		path = vmr_plan_path(&s->plan, files[i].path);
		if (access(path, R_OK) == 0)
			continue;
		/* a usage error prints no errno text: the reason goes in the message */
		return vmr_error_usage(err, "guest '%s': %s '%s': %s", s->g->name, files[i].what,
				       path, strerror(errno));
	}
	return 0;
}

/* Checks that change nothing on the host: invalid input fails here with status 2. */
static int sup_validate(struct sup *s, struct vmr_error **err)
{
	const struct vmr_guest *g = s->g;
	int r;

	r = sup_plan(s, err);
	if (r < 0)
		return r;
	if (g->has_cpuset && vmr_pin_check_available(&g->cpuset, err) < 0) {
		_cleanup_free_ char *cs = vmr_cpuset_format(&g->cpuset);

		return vmr_error_wrap(err, "guest '%s': cpuset '%s'", g->name, cs);
	}
	if (s->cfg->qemu_user) {
		r = vmr_spawn_user_lookup(s->cfg->qemu_user, &s->user, err);
		if (r < 0)
			return vmr_error_wrap(err, "qemu_user");
		s->have_user = true;
	}
	r = vmr_caps_preflight(s->cfg, &s->plan, err);
	if (r < 0)
		return r;
	r = sup_caps_prepare(s, s->plan.facts.accel, err);
	if (r < 0)
		return r;
	return sup_check_files(s, err);
}

static int disk_own(const struct sup *s, const char *path, struct vmr_error **err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return vmr_error_set(err, errno, "stat '%s'", path);
	/* a block device given as a disk stays as the administrator set it up */
	if (!S_ISREG(st.st_mode) || (st.st_uid == s->user.uid && st.st_gid == s->user.gid))
		return 0;
	if (chown(path, s->user.uid, s->user.gid) < 0)
		return vmr_error_set(err, errno, "give disk '%s' to qemu_user '%s' (uid %u gid %u)",
				     path, s->cfg->qemu_user, (unsigned)s->user.uid,
				     (unsigned)s->user.gid);
	return 0;
}

/*
 * With qemu_user, the disks vmrun makes for the guest (the `image:` root
 * overlay, overlays on a `backing:`, blank disks of a `size:`) belong to
 * the user QEMU writes them as, whoever made them (`vmrun image prep` runs
 * as root).  Disks the topology only names, bases, kernels and ISOs are
 * the administrator's: QEMU gets to them through their mode bits
 * (docs/security.md).  The seed needs nothing: 0644 in STATE/GUEST/, which
 * is 0710 with QEMU's group.
 */
static int sup_disks_own(struct sup *s, struct vmr_error **err)
{
	int r;

	if (!s->have_user)
		return 0;
	if (s->plan.root_disk) {
		r = disk_own(s, s->plan.root_disk, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < s->g->ndisks; i++) {
		const struct vmr_disk *d = &s->g->disks[i];
		_cleanup_free_ char *path = NULL;

		if (d->cdrom || (!d->backing && !d->size))
			continue;
		path = vmr_plan_path(&s->plan, d->file);
		r = disk_own(s, path, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Replay what a dead predecessor left, then sweep leftovers that name us. */
static int sup_reclaim(struct sup *s, struct vmr_error **err)
{
	size_t n = 0;
	int r;

	r = vmr_reclaim_locked(s->cfg, s->g, &s->dir, true, &s->journal, &n, err);
	if (r < 0)
		return r;
	if (n > 0)
		sup_log(s, VMR_LOG_INFO,
			"guest '%s': undid %zu host change%s left by a previous run", s->g->name, n,
			n == 1 ? "" : "s");
	/*
	 * Files of a previous run that would mislead a reader; its status
	 * (how it ended) stays as status.json.1 for a `stop` still waiting.
	 */
	sup_unlink(s, "ready");
	{
		_cleanup_free_ char *cur = sup_file(s, "status.json");
		_cleanup_free_ char *prev = sup_file(s, "status.json.1");

		if (rename(cur, prev) < 0 && errno != ENOENT)
			(void)unlink(cur);
	}
	return 0;
}

/*
 * Our end of one of QEMU's listening sockets: bind and listen at path,
 * connect at once (the connection waits in the backlog until QEMU
 * accepts), so there is no race and no retry loop.
 */
static int sup_qemu_socket(struct sup *s, const char *name, int child_fd, int *ret_conn,
			   struct vmr_error **err)
{
	_cleanup_free_ char *path = sup_file(s, name);
	int lfd, cfd;

	lfd = run_socket_listen(path, 1, false, err);
	if (lfd < 0)
		return lfd;
	s->fds[child_fd - 3] = lfd;
	cfd = run_socket_connect(path, err);
	if (cfd < 0)
		return cfd;
	*ret_conn = cfd;
	return 0;
}

static void sup_close_child_fds(struct sup *s)
{
	for (int i = 0; i < s->nfds; i++) {
		if (s->fds[i] >= 0)
			close(s->fds[i]);
		s->fds[i] = -1;
	}
}

static int sup_spawn(struct sup *s, struct vmr_error **err)
{
	struct vmr_strvec argv = VMR_STRVEC_INIT;
	_cleanup_close_ int devnull = -1;
	struct vmr_spawn sp;
	int r;

	r = vmr_argv_build(&s->plan, &argv, err);
	if (r < 0)
		return r;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0) {
		vmr_strvec_clear(&argv);
		return vmr_error_set(err, errno, "open /dev/null");
	}
	sp = (struct vmr_spawn){
	    .argv = argv.v,
	    .envp = s->plan.env.v,
	    .stdin_fd = devnull,
	    /* QEMU's messages go to our stderr; stdout carries only the console */
	    .stdout_fd = STDERR_FILENO,
	    .stderr_fd = STDERR_FILENO,
	    .fds = s->fds,
	    .nfds = (size_t)s->nfds,
	    .caps = s->have_caps ? &s->caps : NULL,
	    .pdeathsig = SIGKILL,
	    .affinity = s->g->has_cpuset ? &s->g->cpuset : NULL,
	};
	r = vmr_spawn(&sp, &s->qemu_pid, err);
	vmr_strvec_clear(&argv);
	if (r < 0)
		return r;
	/* QEMU holds them now; our copies would keep dead links and sockets alive */
	sup_close_child_fds(s);
	return 0;
}

/* After a failed startup step: if QEMU died, say so instead. */
static int sup_startup_failed(struct sup *s, struct vmr_error **err)
{
	uint64_t until = now_ms() + STARTUP_EXIT_WAIT_MS;

	/* a closed monitor means QEMU is exiting: wait for its SIGCHLD */
	sup_reap(s);
	while (!s->qemu_exited && vmr_qmp_closed(s->qmp)) {
		struct pollfd p = {.fd = s->sigfd, .events = POLLIN};
		uint64_t now = now_ms();

		if (now >= until)
			break;
		if (poll(&p, 1, (int)(until - now)) < 0 && errno != EINTR)
			break;
		sup_read_signals(s);
	}
	if (s->qemu_exited) {
		_cleanup_free_ char *how = wstatus_text(s->qemu_wstatus);

		vmr_error_clear(err);
		return vmr_error_set(err, 0, "guest '%s': QEMU %s before the guest was ready",
				     s->g->name, how);
	}
	return vmr_error_wrap(err, "guest '%s'", s->g->name);
}

/*
 * How a startup step that returned r != 0 ends sup_start(): 1 for a stop
 * requested meanwhile, else the failure (QEMU's death, if that was it).
 */
static int sup_start_end(struct sup *s, int r, struct vmr_error **err)
{
	if (r > 0 && !s->qemu_exited)
		return 1;
	return sup_startup_failed(s, err);
}

/*
 * Serve signals and QMP until done(s, arg), so that a SIGTERM or QEMU's
 * death ends a startup wait at once rather than at its deadline (a QEMU
 * whose monitor hangs, or that is stopped, answers nothing).  deadline is
 * a now_ms() value, 0 for none (a command's own deadline completes it).
 * Returns 0 once done, 1 when a stop was requested or QEMU exited, -EPIPE
 * when QMP closed, -ETIMEDOUT at the deadline.
 */
static int sup_start_wait(struct sup *s, bool (*done)(struct sup *s, void *arg), void *arg,
			  uint64_t deadline)
{
	for (;;) {
		struct pollfd p[2] = {
		    {.fd = s->sigfd, .events = POLLIN},
		    {.fd = vmr_qmp_fd(s->qmp), .events = vmr_qmp_poll_events(s->qmp)},
		};
		struct vmr_error *e = NULL;
		int t = vmr_qmp_timeout(s->qmp);
		uint64_t now = now_ms();

		if (done(s, arg))
			return 0;
		if (s->stop_requested || s->qemu_exited)
			return 1;
		if (vmr_qmp_closed(s->qmp))
			return -EPIPE;
		if (deadline) {
			int left;

			if (now >= deadline)
				return -ETIMEDOUT;
			left = (int)(deadline - now);
			if (t < 0 || left < t)
				t = left;
		}
		if (poll(p, 2, t) < 0 && errno != EINTR)
			return -errno;
		if (p[0].revents)
			sup_read_signals(s);
		if (vmr_qmp_process(s->qmp, &e) < 0)
			vmr_error_free(e);
	}
}

static bool qmp_greeted(struct sup *s, _unused_ void *arg)
{
	return vmr_qmp_greeting(s->qmp) != NULL;
}

/* A startup command's completion: on the heap, since a stop may abandon it. */
struct start_call {
	bool done, abandoned;
	int r;
	json_t *ret;
	struct vmr_error *err;
};

static void start_call_done(json_t *ret, int r, _unused_ const char *error_class,
			    struct vmr_error *err, void *userdata)
{
	struct start_call *c = userdata;

	if (c->abandoned) {
		/* from vmr_qmp_free() in teardown: nobody waits any more */
		vmr_error_free(err);
		free(c);
		return;
	}
	c->done = true;
	c->r = r;
	c->ret = json_incref(ret);
	c->err = err;
}

static bool start_call_finished(_unused_ struct sup *s, void *arg)
{
	return ((struct start_call *)arg)->done;
}

/*
 * One QMP command during startup (deadline VMR_SUPERVISOR_START_TIMEOUT_MS),
 * waited for with sup_start_wait().  Returns 0 with a new reference in
 * *ret_return (when not NULL), 1 when a stop came first or QEMU exited,
 * negative with *err.
 */
static int sup_start_call(struct sup *s, const char *cmd, json_t **ret_return,
			  struct vmr_error **err)
{
	struct start_call *c;
	int r;

	/* a stop that came during the previous step: `cont` must not go out */
	sup_read_signals(s);
	if (s->stop_requested || s->qemu_exited)
		return 1;
	c = xcalloc(1, sizeof(*c));
	r = vmr_qmp_send(s->qmp, cmd, NULL, VMR_SUPERVISOR_START_TIMEOUT_MS, start_call_done, c,
			 NULL, err);
	if (r < 0) {
		free(c);
		return r;
	}
	r = sup_start_wait(s, start_call_finished, c, 0);
	if (!c->done) {
		/* still pending: completed (and freed) when teardown frees QMP */
		c->abandoned = true;
		if (r < 0)
			return vmr_error_set(err, -r, "qmp '%s'", cmd);
		return r;
	}
	r = c->r;
	if (r < 0) {
		if (err && !*err)
			*err = TAKE_PTR(c->err);
	} else if (ret_return) {
		*ret_return = TAKE_PTR(c->ret);
	}
	vmr_error_free(c->err);
	json_decref(c->ret);
	free(c);
	return r;
}

/*
 * QMP's greeting and qmp_capabilities, answering signals meanwhile.
 * Returns 0, 1 (stop requested or QEMU exited), or negative with *err.
 */
static int sup_negotiate(struct sup *s, struct vmr_error **err)
{
	_cleanup_free_ char *name = sup_file(s, "qmp.sock");
	int r;

	r = sup_start_wait(s, qmp_greeted, NULL, now_ms() + VMR_SUPERVISOR_START_TIMEOUT_MS);
	if (r == -ETIMEDOUT)
		return vmr_error_set(err, ETIMEDOUT, "qmp '%s': no greeting within %d ms", name,
				     VMR_SUPERVISOR_START_TIMEOUT_MS);
	if (r == -EPIPE)
		return vmr_error_set(err, 0, "qmp '%s': connection closed before the greeting",
				     name);
	if (r < 0)
		return vmr_error_set(err, -r, "qmp '%s': wait for the greeting", name);
	if (r > 0)
		return r;
	r = sup_start_call(s, "qmp_capabilities", NULL, err);
	if (r < 0)
		vmr_error_wrap(err, "handshake with '%s'", name);
	return r;
}

/* Returns 0, 1 (stop requested or QEMU exited), or negative with *err. */
static int sup_pin(struct sup *s, struct vmr_error **err)
{
	_cleanup_free_ struct vmr_pin *pins = NULL;
	json_t *ret = NULL;
	int r;

	r = sup_start_call(s, "query-cpus-fast", &ret, err);
	if (r != 0)
		return r;
	r = vmr_pin_parse(ret, &s->vcpus, &s->nvcpus, err);
	json_decref(ret);
	if (r < 0 || !s->g->has_cpuset)
		return r;
	r = vmr_pin_map(s->vcpus, s->nvcpus, &s->g->cpuset, &pins, err);
	if (r < 0)
		return r;
	r = vmr_pin_apply(s->qemu_pid, pins, s->nvcpus, &s->g->cpuset, err);
	if (r < 0)
		return r;
	s->pinned = true;
	return 0;
}

/*
 * Everything up to a running guest.  Returns 0 when the guest runs, 1 when
 * a stop request came first (nothing more is started), negative on failure.
 */
static int sup_start(struct sup *s, struct vmr_error **err)
{
	const struct vmr_guest *g = s->g;
	_cleanup_free_ char *ready = NULL, *events = NULL, *conlog = NULL;
	_cleanup_free_ char *consock = NULL, *ctlsock = NULL, *qmpsock = NULL;
	int qmp_conn = -1, serial_conn = -1, con_listen = -1;
	int r;

	r = sup_signals(s, err);
	if (r < 0)
		return r;
	r = sup_validate(s, err);
	if (r < 0)
		return r;
	r = vmr_statedir_lock(s->cfg->state_dir, g->name, s->have_user ? s->user.gid : (gid_t)-1,
			      &s->dir, err);
	if (r < 0)
		return r;
	vmr_net_register_undo();
	r = sup_reclaim(s, err);
	if (r < 0)
		return r;
	vmr_fault_point("reclaimed");

	events = sup_file(s, "events.jsonl");
	r = run_caplog_open(&s->events, events, RUN_EVENTS_LOG_CAP, err);
	if (r < 0)
		return r;
	r = vmr_image_prepare(s->cfg, s->o->topo, g, s->dir.path, NULL, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", g->name);
	r = sup_disks_own(s, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", g->name);
	r = vmr_guest_setup(s->cfg, s->journal, &s->plan, s->fds, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", g->name);
	vmr_fault_point("host-setup");

	r = sup_qemu_socket(s, "qmp.sock", s->plan.qmp_fd, &qmp_conn, err);
	if (r < 0)
		return r;
	r = sup_qemu_socket(s, "serial.sock", s->plan.console_fd, &serial_conn, err);
	if (r < 0) {
		close(qmp_conn);
		return r;
	}
	r = vmr_qmp_new(qmp_conn, &s->qmp);
	if (r < 0) {
		close(serial_conn);
		return vmr_error_set(err, -r, "set up the QMP client");
	}
	qmpsock = sup_file(s, "qmp.sock");
	vmr_qmp_set_name(s->qmp, qmpsock);
	vmr_qmp_set_event_handler(s->qmp, sup_on_event, s);
	vmr_qmp_set_diag_handler(s->qmp, sup_on_qmp_diag, s);

	consock = sup_file(s, "console.sock");
	con_listen = run_socket_listen(consock, 8, true, err);
	if (con_listen < 0) {
		close(serial_conn);
		return con_listen;
	}
	conlog = sup_file(s, "console.log");
	r = run_console_init(&s->con, serial_conn, s->o->console_fd, conlog, con_listen, err);
	s->have_console = true; /* owns serial_conn and con_listen now, even on failure */
	if (r < 0)
		return r;
	ctlsock = sup_file(s, "control.sock");
	s->ctl_listen = run_socket_listen(ctlsock, 8, true, err);
	if (s->ctl_listen < 0)
		return s->ctl_listen;

	r = sup_spawn(s, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", g->name);
	vmr_fault_point("spawned");
	r = sup_write_status(s, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", g->name);

	r = sup_negotiate(s, err);
	if (r != 0)
		return sup_start_end(s, r, err);
	vmr_fault_point("greeted");
	r = sup_pin(s, err);
	if (r != 0)
		return sup_start_end(s, r, err);
	vmr_fault_point("pinned");
	/*
	 * Every host change is made and QEMU runs: from here on the
	 * supervisor only talks QMP, copies the console and undoes the
	 * journal.  Before `cont`, so a filter that fails to load stops a
	 * guest that never ran.
	 */
	if (s->cfg->sandbox) {
		r = vmr_sandbox_supervisor(err);
		if (r < 0)
			return vmr_error_wrap(err, "guest '%s'", g->name);
	}
	r = sup_start_call(s, "cont", NULL, err);
	if (r != 0)
		return sup_start_end(s, r, err);

	s->phase = PHASE_RUNNING;
	ready = sup_file(s, "ready");
	/* status.json first: a healthcheck that sees `ready` finds the state in it */
	r = sup_write_status(s, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", g->name);
	r = write_file_atomic(ready, "", 0, 0644);
	if (r < 0)
		return vmr_error_set(err, -r, "guest '%s': create '%s'", g->name, ready);
	if (s->pinned) {
		_cleanup_free_ char *cs = vmr_cpuset_format(&g->cpuset);

		sup_log(s, VMR_LOG_INFO,
			"guest '%s' running (qemu pid %d, vCPUs pinned to CPU%s %s)", g->name,
			(int)s->qemu_pid, g->cpuset.n == 1 ? "" : "s", cs);
	} else {
		sup_log(s, VMR_LOG_INFO, "guest '%s' running (qemu pid %d, vCPUs not pinned)",
			g->name, (int)s->qemu_pid);
	}
	/* `vmrun up` (or systemd) learns it here, with no polling */
	(void)sd_notifyf(0, "READY=1\nSTATUS=running (qemu pid %d)", (int)s->qemu_pid);
	vmr_fault_point("running");
	return 0;
}

/* ---- the loop -------------------------------------------------------- */

static int poll_timeout(struct sup *s)
{
	int t = vmr_qmp_timeout(s->qmp);
	uint64_t now = now_ms();
	uint64_t d = s->deadline;

	if (s->qmp_lost_at && (!d || s->qmp_lost_at + QMP_LOST_GRACE_MS < d))
		d = s->qmp_lost_at + QMP_LOST_GRACE_MS;
	if (d) {
		int left = d > now ? (int)(d - now) : 0;

		if (t < 0 || left < t)
			t = left;
	}
	return t;
}

static void sup_deadlines(struct sup *s)
{
	uint64_t now = now_ms();

	if (s->deadline && now >= s->deadline) {
		s->deadline = 0;
		if (s->phase == PHASE_POWERDOWN) {
			_cleanup_free_ char *why =
			    xasprintf("no poweroff within %u s", s->stop_wait);

			sup_escalate(s, why);
		} else if (s->phase == PHASE_QUIT) {
			sup_escalate(s, "QEMU did not quit");
		}
	}
	if (s->qmp_lost_at && now >= s->qmp_lost_at + QMP_LOST_GRACE_MS &&
	    s->phase != PHASE_KILLED) {
		s->qmp_lost_at = 0;
		sup_escalate(s, "QMP connection lost and QEMU still running");
	}
}

/*
 * QEMU has exited, but its last events (SHUTDOWN, which decides the exit
 * status) may still sit in the socket: read up to EOF, which follows at
 * once since QEMU held the only other end.  The deadline only guards
 * against an end that something else inherited.
 */
static void sup_qmp_drain(struct sup *s)
{
	uint64_t deadline = now_ms() + QMP_DRAIN_MS;

	while (!vmr_qmp_closed(s->qmp)) {
		struct pollfd p = {.fd = vmr_qmp_fd(s->qmp), .events = POLLIN};
		struct vmr_error *e = NULL;
		uint64_t now = now_ms();
		int n;

		if (now >= deadline)
			break;
		n = poll(&p, 1, (int)(deadline - now));
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && vmr_qmp_process(s->qmp, &e) < 0)
			vmr_error_free(e);
	}
}

static void sup_loop(struct sup *s)
{
	enum { MAX_POLL = 3 + RUN_MAX_CLIENTS + 3 + RUN_MAX_CLIENTS };

	while (!s->qemu_exited) {
		struct pollfd pfd[MAX_POLL];
		uint64_t ids[RUN_MAX_CLIENTS];
		size_t n = 0, ctl_base, nctl, con_base, ncon;
		struct vmr_error *e = NULL;

		pfd[n++] = (struct pollfd){.fd = s->sigfd, .events = POLLIN};
		pfd[n++] = (struct pollfd){.fd = vmr_qmp_fd(s->qmp),
					   .events = vmr_qmp_poll_events(s->qmp)};
		pfd[n++] = (struct pollfd){.fd = s->ctl_listen, .events = POLLIN};
		ctl_base = n;
		nctl = s->nctl;
		for (size_t i = 0; i < nctl; i++) {
			struct ctl_client *c = s->ctl[i];

			ids[i] = c->id;
			pfd[n++] = (struct pollfd){
			    .fd = c->fd,
			    .events = (short)((ctl_wants_input(c) ? POLLIN : 0) |
					      (c->out.buf.len ? POLLOUT : 0)),
			};
		}
		con_base = n;
		ncon = run_console_poll(&s->con, pfd + n);
		n += ncon;

		if (poll(pfd, n, poll_timeout(s)) < 0 && errno != EINTR)
			break; /* cannot happen with valid fds; teardown follows */

		if (pfd[0].revents)
			sup_read_signals(s);
		if (!vmr_qmp_closed(s->qmp) && vmr_qmp_process(s->qmp, &e) < 0) {
			vmr_error_free(e);
			e = NULL;
		}
		if (vmr_qmp_closed(s->qmp) && !s->qmp_lost_at && !s->qemu_exited)
			s->qmp_lost_at = now_ms();
		for (size_t k = 0; k < nctl; k++) {
			size_t i;
			struct ctl_client *c = ctl_find(s, ids[k], &i);
			short rev = pfd[ctl_base + k].revents;

			if (!c)
				continue;
			if (rev & POLLOUT &&
			    run_outq_flush(&c->out, c->fd, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
				ctl_drop(s, i);
				continue;
			}
			if (rev & (POLLIN | POLLHUP | POLLERR) && !c->eof)
				ctl_read(s, i);
			/* a reply that came in may let the next request go */
			ctl_process_lines(s, ids[k]);
			c = ctl_find(s, ids[k], &i);
			if (c && c->eof && !c->busy && c->out.buf.len == 0 &&
			    !memchr(c->in.s, '\n', c->in.len))
				ctl_drop(s, i);
		}
		if (pfd[2].revents & POLLIN)
			ctl_accept(s);
		run_console_dispatch(&s->con, pfd + con_base, ncon);
		sup_deadlines(s);
	}
	sup_qmp_drain(s);
}

/* ---- teardown -------------------------------------------------------- */

static int sup_teardown(struct sup *s, struct vmr_error **err)
{
	int r = 0;

	if (s->qemu_pid > 0 && !s->qemu_exited) {
		/* startup did not finish: nothing in the guest to save */
		kill(s->qemu_pid, SIGKILL);
		while (waitpid(s->qemu_pid, &s->qemu_wstatus, 0) < 0 && errno == EINTR)
			;
		s->qemu_exited = true;
	}
	sup_reap(s);
	if (s->have_console) {
		run_console_drain(&s->con, 1000);
		run_console_close(&s->con);
		s->have_console = false;
	}
	/* pending control requests are answered (with an error) from here */
	vmr_qmp_free(s->qmp);
	s->qmp = NULL;
	for (size_t i = 0; i < s->nctl; i++)
		(void)run_outq_flush(&s->ctl[i]->out, s->ctl[i]->fd, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (s->nctl > 0)
		ctl_drop(s, s->nctl - 1);
	if (s->ctl_listen >= 0)
		close(s->ctl_listen);
	s->ctl_listen = -1;
	if (s->fds)
		sup_close_child_fds(s);

	if (s->dir.path) {
		sup_unlink(s, "ready");
		sup_unlink(s, "qmp.sock");
		sup_unlink(s, "serial.sock");
		sup_unlink(s, "console.sock");
		sup_unlink(s, "control.sock");
	}
	vmr_fault_point("teardown");
	if (s->journal && vmr_journal_count(s->journal) > 0) {
		r = vmr_journal_replay(s->journal, (void *)s->cfg, err);
		if (r < 0) {
			vmr_error_wrap(err, "guest '%s': undo host changes", s->g->name);
			s->exit_status = VMR_EXIT_FAILURE;
		}
	}
	s->finished = true;
	/* only with the lock: otherwise status.json is another supervisor's */
	if (s->dir.path)
		(void)sup_write_status(s, NULL);
	vmr_journal_close(s->journal);
	s->journal = NULL;
	run_caplog_close(&s->events);
	/* last: a waiting `vmrun down` returns once the lock is free */
	vmr_statedir_release(&s->dir);
	return r;
}

static void sup_free(struct sup *s)
{
	if (s->have_plan)
		vmr_plan_free(&s->plan);
	free(s->fds);
	free(s->vcpus);
	free(s->shutdown_reason);
	if (s->have_user)
		vmr_spawn_user_free(&s->user);
	if (s->have_caps)
		vmr_caps_drop_free(&s->caps);
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->sigs_blocked)
		sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
}

int vmr_supervisor_run(const struct vmr_supervisor_opts *o, int *ret_status, struct vmr_error **err)
{
	struct sup s = {
	    .o = o,
	    .cfg = o->cfg,
	    .g = o->guest,
	    .dir = {.lock_fd = -1},
	    .sigfd = -1,
	    .ctl_listen = -1,
	    .events = {.fd = -1},
	    .stop_timeout = o->guest->stop_timeout,
	    .started_wall = time(NULL),
	    .started_ms = now_ms(),
	};
	struct vmr_error *terr = NULL;
	int r, tr;

	r = sup_start(&s, err);
	if (r == 0)
		sup_loop(&s);
	if (r == 0)
		s.exit_status = sup_exit_status(&s);
	else if (r == 1)
		s.exit_status = VMR_EXIT_STOPPED;
	else
		s.exit_status = err && *err && (*err)->status ? (*err)->status : VMR_EXIT_FAILURE;
	tr = sup_teardown(&s, &terr);
	if (r >= 0 && s.qemu_exited && r != 1) {
		_cleanup_free_ char *how = wstatus_text(s.qemu_wstatus);

		sup_log(&s, VMR_LOG_INFO, "guest '%s': QEMU %s%s%s%s, exit status %d", s.g->name,
			how, s.shutdown_reason ? " (" : "",
			s.shutdown_reason ? s.shutdown_reason : "", s.shutdown_reason ? ")" : "",
			s.exit_status);
	} else if (r == 1) {
		sup_log(&s, VMR_LOG_INFO, "guest '%s': stopped before it ran, exit status %d",
			s.g->name, s.exit_status);
	}
	sup_free(&s);
	if (r < 0) {
		/* the startup failure is the news; a teardown failure adds to it */
		if (tr < 0) {
			_cleanup_free_ char *t = vmr_error_text(terr);

			vmr_error_hint(err, "also: %s", t);
		}
		vmr_error_free(terr);
		return r;
	}
	if (tr < 0) {
		vmr_error_clear(err);
		if (err)
			*err = terr;
		else
			vmr_error_free(terr);
		return tr;
	}
	*ret_status = s.exit_status;
	return 0;
}
