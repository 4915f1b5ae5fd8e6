/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's readiness (`ready_when:`), its guest agent connection and
 * `vmrun reboot`, all driven by the loop: the console hook matches lines,
 * a non-blocking connect() tries the guest's TCP port, guest-ping goes to
 * the agent; the loop polls the two fds this file adds and calls its timer.
 * STATE/GUEST/healthy exists while the guest runs, is ready and is not
 * paused (docs/state-dir.md).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lib/runtime/supervisor_internal.h"

static void health_set_last(struct sup *s, const char *fmt, ...) _printf_(2, 3);

static void health_set_last(struct sup *s, const char *fmt, ...)
{
	va_list ap;

	free(s->health.last);
	va_start(ap, fmt);
	s->health.last = xvasprintf(fmt, ap);
	va_end(ap);
}

/* Healthy: running (no stop began, QEMU alive), ready and not paused. */
static bool health_now(const struct sup *s)
{
	return s->phase == PHASE_RUNNING && !s->qemu_exited && s->health.healthy &&
	       !s->health.paused;
}

/* STATE/GUEST/healthy follows health_now(). */
static void health_file(struct sup *s)
{
	_cleanup_free_ char *path = NULL;
	bool want = health_now(s);

	if (!s->dir.path)
		return; /* startup failed before the lock: nothing was written */
	path = sup_file(s, "healthy");
	if (want)
		(void)write_file_atomic(path, "", 0, 0644);
	else
		(void)unlink(path);
}

static json_t *health_reply(struct sup *s)
{
	return json_pack("{s:o}", "return", sup_health_json(s));
}

/* Answer the clients waiting for readiness (it came, or it cannot come any more). */
static void health_notify(struct sup *s)
{
	for (size_t i = 0; i < s->health.nwaiters; i++)
		sup_ctl_reply(s, s->health.waiters[i], health_reply(s));
	free(s->health.waiters);
	s->health.waiters = NULL;
	s->health.nwaiters = 0;
}

static void tcp_close(struct sup *s)
{
	if (s->health.tcp_fd >= 0)
		close(s->health.tcp_fd);
	s->health.tcp_fd = -1;
}

/* What a change of health does: the log line, the healthy file, status.json, waiters */
static void health_changed(struct sup *s, bool write_status)
{
	if (s->health.healthy) {
		_cleanup_free_ char *when = vmr_ready_text(&s->g->ready);

		tcp_close(s);
		sup_log(s, VMR_LOG_INFO, "guest '%s' is ready (ready_when %s)", s->g->name, when);
	}
	health_file(s);
	if (write_status)
		(void)sup_write_status(s, NULL);
	if (s->health.healthy)
		health_notify(s);
}

static void health_set(struct sup *s, bool healthy)
{
	if (s->health.healthy == healthy)
		return;
	s->health.healthy = healthy;
	if (healthy)
		s->health.since = time(NULL);
	health_changed(s, true);
}

void sup_health_mark_running(struct sup *s)
{
	if (s->g->ready.kind != VMR_READY_RUNNING || s->health.healthy)
		return;
	s->health.healthy = true;
	s->health.since = time(NULL);
	s->health.marked = true;
}

void sup_health_init(struct sup *s)
{
	s->health.tcp_fd = -1;
	s->agent.fd = -1;
	s->agent.out.cap = SUP_AGENT_OUT_MAX;
	s->agent.next_id = 1;
}

/* The guest runs: start checking (called once, right after `cont`). */
void sup_health_start(struct sup *s)
{
	const struct vmr_ready *r = &s->g->ready;
	struct vmr_error *e = NULL;

	s->health.started = true;
	/* the model compiled the same regex: this cannot fail */
	if (vmr_ready_lines_init(&s->health.lines, r->regex, &e) < 0) {
		sup_log(s, VMR_LOG_WARNING, "guest '%s': ready_when: %s", s->g->name, e->msg);
		vmr_error_free(e);
	}
	s->health.tcp_next = now_ms();
	s->agent.next_ping = now_ms();
	if (r->kind == VMR_READY_RUNNING && s->health.marked)
		health_changed(s, false); /* status.json said it with "running" */
	else if (r->kind == VMR_READY_RUNNING)
		health_set(s, true);
	else
		health_file(s);
	s->health.marked = false;
}

void sup_health_console(const char *data, size_t n, void *userdata)
{
	struct sup *s = userdata;
	enum vmr_ready_kind k = s->g->ready.kind;

	if (!vmr_ready_lines_feed(&s->health.lines, data, n))
		return;
	if (s->health.started && (k == VMR_READY_CONSOLE || k == VMR_READY_CLOUD_INIT))
		health_set(s, true);
}

/* ---- ready_when tcp ---- */

static void tcp_start(struct sup *s)
{
	const struct vmr_ready *r = &s->g->ready;
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd;

	s->health.tcp_next = now_ms() + SUP_TCP_RETRY_MS;
	if (strchr(r->address, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)r->port);
		inet_pton(AF_INET6, r->address, &a->sin6_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)r->port);
		inet_pton(AF_INET, r->address, &a->sin_addr);
		len = sizeof(*a);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		health_set_last(s, "socket: %s", strerror(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
		close(fd);
		health_set(s, true);
		return;
	}
	if (errno != EINPROGRESS) {
		health_set_last(s, "connect %s:%u: %s", r->address, r->port, strerror(errno));
		close(fd);
		return;
	}
	s->health.tcp_fd = fd;
	s->health.tcp_deadline = now_ms() + SUP_TCP_CONNECT_MS;
}

static void tcp_done(struct sup *s)
{
	const struct vmr_ready *r = &s->g->ready;
	int e = 0;
	socklen_t el = sizeof(e);

	if (getsockopt(s->health.tcp_fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
		e = errno;
	tcp_close(s);
	if (e == 0) {
		health_set_last(s, "connected to %s:%u", r->address, r->port);
		health_set(s, true);
		return;
	}
	health_set_last(s, "connect %s:%u: %s", r->address, r->port, strerror(e));
}

/* ---- the guest agent ---- */

int sup_agent_connect(struct sup *s, struct vmr_error **err)
{
	_cleanup_free_ char *path = NULL;
	int fd, r;

	if (!vmr_guest_has_agent(s->g))
		return 0;
	path = sup_file(s, "agent.sock");
	/* bound by the agent device's setup; QEMU accepts once it runs */
	fd = run_socket_connect(path, err);
	if (fd < 0)
		return fd;
	r = run_fd_nonblock(fd);
	if (r < 0) {
		close(fd);
		return vmr_error_set(err, -r, "make '%s' non-blocking", path);
	}
	s->agent.fd = fd;
	return 0;
}

static void agent_close(struct sup *s, const char *why)
{
	if (s->agent.fd >= 0)
		close(s->agent.fd);
	s->agent.fd = -1;
	vmr_buf_free(&s->agent.in);
	vmr_buf_free(&s->agent.out.buf);
	for (size_t i = 0; i < s->agent.nreqs; i++)
		sup_ctl_reply(s, s->agent.reqs[i].client, sup_ctl_error("guest agent: %s", why));
	free(s->agent.reqs);
	s->agent.reqs = NULL;
	s->agent.nreqs = 0;
}

static uint64_t agent_send(struct sup *s, const char *cmd, json_t *args)
{
	uint64_t id = s->agent.next_id++;
	_cleanup_free_ char *line = vmr_agent_request(cmd, args, id);

	/*
	 * The guest reads the channel only while its agent runs: what it
	 * does not read waits, capped; a request that does not fit is lost
	 * and times out like an unanswered one.
	 */
	if (s->agent.out.buf.len + strlen(line) <= s->agent.out.cap)
		run_outq_add(&s->agent.out, line, strlen(line));
	if (run_outq_flush(&s->agent.out, s->agent.fd, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		agent_close(s, "connection lost");
	return id;
}

void sup_agent_call(struct sup *s, uint64_t client, const char *cmd, json_t *args)
{
	uint64_t id;

	if (s->agent.fd < 0) {
		sup_ctl_reply(
		    s, client,
		    sup_ctl_error(vmr_guest_has_agent(s->g)
				      ? "guest agent: connection lost"
				      : "guest '%s' has no guest agent channel (agent: true)",
				  s->g->name));
		return;
	}
	id = agent_send(s, cmd, args);
	if (s->agent.fd < 0) {
		/* agent_close() answered the others; this one was not listed yet */
		sup_ctl_reply(s, client, sup_ctl_error("guest agent: connection lost"));
		return;
	}
	s->agent.reqs = xrealloc(s->agent.reqs, (s->agent.nreqs + 1) * sizeof(*s->agent.reqs));
	s->agent.reqs[s->agent.nreqs++] = (struct sup_agent_req){
	    .id = id, .client = client, .deadline = now_ms() + SUP_AGENT_TIMEOUT_MS};
}

static void agent_line(struct sup *s, const char *line, size_t len)
{
	json_t *ret = NULL;
	char *error = NULL;
	uint64_t id = 0;

	if (vmr_agent_reply_parse(line, len, &id, &ret, &error) <= 0)
		return;
	if (id && id == s->agent.ping_id) {
		s->agent.ping_id = 0;
		if (ret) {
			health_set_last(s, "guest-ping answered");
			if (s->g->ready.kind == VMR_READY_AGENT)
				health_set(s, true);
		} else {
			health_set_last(s, "guest-ping: %s", error);
		}
	}
	for (size_t i = 0; id && i < s->agent.nreqs; i++) {
		struct sup_agent_req q = s->agent.reqs[i];

		if (q.id != id)
			continue;
		memmove(&s->agent.reqs[i], &s->agent.reqs[i + 1],
			(s->agent.nreqs - i - 1) * sizeof(q));
		s->agent.nreqs--;
		if (ret)
			sup_ctl_reply(s, q.client, json_pack("{s:O}", "return", ret));
		else
			sup_ctl_reply(s, q.client, sup_ctl_error("guest agent: %s", error));
		break;
	}
	json_decref(ret);
	free(error);
}

static void agent_read(struct sup *s)
{
	char buf[4096];
	ssize_t n = recv(s->agent.fd, buf, sizeof(buf), MSG_DONTWAIT);
	char *nl;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		agent_close(s, "connection lost");
		return;
	}
	vmr_buf_add(&s->agent.in, buf, (size_t)n);
	while (s->agent.fd >= 0 && s->agent.in.len &&
	       (nl = memchr(s->agent.in.s, '\n', s->agent.in.len))) {
		size_t len = (size_t)(nl - s->agent.in.s);
		_cleanup_free_ char *line = xstrndup(s->agent.in.s, len);

		vmr_buf_consume(&s->agent.in, len + 1);
		agent_line(s, line, len);
	}
	if (s->agent.in.len > SUP_AGENT_LINE_MAX)
		vmr_buf_reset(&s->agent.in); /* not a reply: drop it */
}

static void agent_tick(struct sup *s, uint64_t now)
{
	for (size_t i = 0; i < s->agent.nreqs;) {
		struct sup_agent_req q = s->agent.reqs[i];

		if (now < q.deadline) {
			i++;
			continue;
		}
		memmove(&s->agent.reqs[i], &s->agent.reqs[i + 1],
			(s->agent.nreqs - i - 1) * sizeof(q));
		s->agent.nreqs--;
		sup_ctl_reply(s, q.client,
			      sup_ctl_error("guest agent: no answer within %d s (is qemu-ga "
					    "running in the guest?)",
					    SUP_AGENT_TIMEOUT_MS / 1000));
	}
	if (s->g->ready.kind != VMR_READY_AGENT || s->health.healthy || s->agent.fd < 0 ||
	    now < s->agent.next_ping)
		return;
	if (s->agent.ping_id)
		health_set_last(s, "guest-ping: no answer yet");
	s->agent.next_ping = now + SUP_AGENT_PING_MS;
	s->agent.ping_id = agent_send(s, "guest-ping", NULL);
}

/* ---- reboot ---- */

static void reboot_done(struct sup *s, const char *how)
{
	struct vmr_error *e = NULL;
	json_t *args = json_pack("{s:s}", "shutdown", "poweroff");

	/* what a guest poweroff does again; the supervisor's stop relies on it */
	if (vmr_qmp_send(s->qmp, "set-action", args, 5000, NULL, NULL, NULL, &e) < 0)
		vmr_error_free(e);
	json_decref(args);
	s->reboot.active = false;
	sup_log(s, VMR_LOG_INFO, "guest '%s' rebooted (%s)", s->g->name, how);
	sup_ctl_reply(s, s->reboot.client, json_pack("{s:{s:s}}", "return", "how", how));
}

static void reboot_reset(struct sup *s)
{
	struct vmr_error *e = NULL;

	s->reboot.reset_sent = true;
	s->reboot.deadline = 0;
	if (vmr_qmp_send(s->qmp, "system_reset", NULL, 5000, NULL, NULL, NULL, &e) < 0) {
		_cleanup_free_ char *t = vmr_error_text(e);

		vmr_error_free(e);
		s->reboot.active = false;
		sup_ctl_reply(s, s->reboot.client, sup_ctl_error("reboot: %s", t));
	}
}

static void reboot_powerdown_sent(json_t *ret, int r, const char *error_class,
				  struct vmr_error *err, void *userdata)
{
	struct sup *s = userdata;

	if (r < 0 && s->reboot.active && !s->reboot.reset_sent) {
		/* no ACPI: go straight to the reset */
		sup_log(s, VMR_LOG_INFO, "guest '%s': system_powerdown failed: resetting",
			s->g->name);
		reboot_reset(s);
	}
	vmr_error_free(err);
}

static void reboot_action_set(json_t *ret, int r, const char *error_class, struct vmr_error *err,
			      void *userdata)
{
	struct sup *s = userdata;
	struct vmr_error *e = NULL;

	if (!s->reboot.active) {
		vmr_error_free(err);
		return;
	}
	if (r < 0) {
		_cleanup_free_ char *t = vmr_error_text(err);

		vmr_error_free(err);
		s->reboot.active = false;
		sup_ctl_reply(s, s->reboot.client, sup_ctl_error("reboot: %s", t));
		return;
	}
	if (vmr_qmp_send(s->qmp, "system_powerdown", NULL, 5000, reboot_powerdown_sent, s, NULL,
			 &e) < 0)
		vmr_error_free(e);
}

void sup_reboot_start(struct sup *s, uint64_t client, unsigned timeout_s)
{
	struct vmr_error *e = NULL;
	json_t *args;

	if (s->phase != PHASE_RUNNING) {
		sup_ctl_reply(s, client,
			      sup_ctl_error("guest '%s' is stopping: no reboot", s->g->name));
		return;
	}
	if (s->reboot.active) {
		sup_ctl_reply(s, client,
			      sup_ctl_error("guest '%s': a reboot is in progress", s->g->name));
		return;
	}
	s->reboot = (struct sup_reboot){
	    .active = true,
	    .client = client,
	    .deadline = now_ms() + (uint64_t)timeout_s * 1000u,
	};
	sup_log(s, VMR_LOG_INFO,
		"guest '%s': reboot: pressing the ACPI power button, resetting after %u s",
		s->g->name, timeout_s);
	/*
	 * As libvirt's ACPI reboot: the guest's poweroff pauses QEMU instead
	 * of ending it, and the supervisor resets and resumes it.
	 */
	args = json_pack("{s:s}", "shutdown", "pause");
	if (vmr_qmp_send(s->qmp, "set-action", args, 5000, reboot_action_set, s, NULL, &e) < 0) {
		_cleanup_free_ char *t = vmr_error_text(e);

		vmr_error_free(e);
		s->reboot.active = false;
		sup_ctl_reply(s, client, sup_ctl_error("reboot: %s", t));
	}
	json_decref(args);
}

static void reboot_cont_done(json_t *ret, int r, const char *error_class, struct vmr_error *err,
			     void *userdata)
{
	struct sup *s = userdata;

	if (r < 0 && s->reboot.active) {
		_cleanup_free_ char *t = vmr_error_text(err);

		s->reboot.active = false;
		sup_ctl_reply(s, s->reboot.client, sup_ctl_error("reboot: cont: %s", t));
	} else if (s->reboot.active) {
		reboot_done(s, "acpi");
	}
	vmr_error_free(err);
}

static void reboot_event(struct sup *s, const char *event, json_t *data)
{
	struct vmr_error *e = NULL;

	if (!s->reboot.active)
		return;
	if (streq(event, "SHUTDOWN") && !s->reboot.reset_sent) {
		/* the guest powered off: QEMU paused (set-action); this is no exit */
		s->shutdown_seen = s->shutdown_guest = false;
		free(s->shutdown_reason);
		s->shutdown_reason = NULL;
		s->reboot.acpi = true;
		reboot_reset(s);
		return;
	}
	if (streq(event, "RESET") && s->reboot.reset_sent) {
		if (!s->reboot.acpi) {
			reboot_done(s, "reset");
			return;
		}
		/* from the shutdown state a reset leaves QEMU paused: resume it */
		if (vmr_qmp_send(s->qmp, "cont", NULL, 5000, reboot_cont_done, s, NULL, &e) < 0) {
			vmr_error_free(e);
			s->reboot.active = false;
			sup_ctl_reply(s, s->reboot.client, sup_ctl_error("reboot: cont failed"));
		}
	}
}

/* ---- the loop's side ---- */

void sup_health_event(struct sup *s, const char *event, json_t *data)
{
	if (streq(event, "RESET") && s->health.started) {
		/* the guest boots again: it is not ready until it says so again */
		vmr_ready_lines_rearm(&s->health.lines);
		s->agent.ping_id = 0;
		if (s->g->ready.kind != VMR_READY_RUNNING)
			health_set(s, false);
	} else if (streq(event, "STOP") || streq(event, "RESUME")) {
		s->health.paused = streq(event, "STOP");
		health_file(s);
	}
	/* after the readiness changed: a reboot's reply finds it not ready */
	reboot_event(s, event, data);
}

void sup_health_poll(struct sup *s, struct pollfd *pfd)
{
	pfd[0] = (struct pollfd){.fd = s->health.tcp_fd, .events = POLLOUT};
	pfd[1] = (struct pollfd){
	    .fd = s->agent.fd,
	    .events = (short)(POLLIN | (s->agent.out.buf.len ? POLLOUT : 0)),
	};
}

void sup_health_dispatch(struct sup *s, const struct pollfd *pfd)
{
	if (pfd[0].fd >= 0 && pfd[0].fd == s->health.tcp_fd && pfd[0].revents)
		tcp_done(s);
	if (pfd[1].fd >= 0 && pfd[1].fd == s->agent.fd && pfd[1].revents) {
		if (pfd[1].revents & POLLOUT &&
		    run_outq_flush(&s->agent.out, s->agent.fd, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			agent_close(s, "connection lost");
		if (s->agent.fd >= 0 && pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
			agent_read(s);
	}
}

static void timeout_min(uint64_t now, uint64_t at, int *t)
{
	int left;

	if (!at)
		return;
	left = at > now ? (int)(at - now) : 0;
	if (*t < 0 || left < *t)
		*t = left;
}

int sup_health_timeout(struct sup *s)
{
	uint64_t now = now_ms();
	int t = -1;

	if (!s->health.started || s->phase != PHASE_RUNNING)
		return -1;
	if (s->g->ready.kind == VMR_READY_TCP && !s->health.healthy)
		timeout_min(
		    now, s->health.tcp_fd >= 0 ? s->health.tcp_deadline : s->health.tcp_next, &t);
	if (s->g->ready.kind == VMR_READY_AGENT && !s->health.healthy && s->agent.fd >= 0)
		timeout_min(now, s->agent.next_ping, &t);
	for (size_t i = 0; i < s->agent.nreqs; i++)
		timeout_min(now, s->agent.reqs[i].deadline, &t);
	if (s->reboot.active)
		timeout_min(now, s->reboot.deadline, &t);
	return t;
}

void sup_health_tick(struct sup *s)
{
	uint64_t now = now_ms();

	if (!s->health.started || s->phase != PHASE_RUNNING)
		return;
	if (s->reboot.active && s->reboot.deadline && now >= s->reboot.deadline) {
		sup_log(s, VMR_LOG_INFO, "guest '%s': reboot: no poweroff in time: system_reset",
			s->g->name);
		reboot_reset(s);
	}
	if (s->g->ready.kind == VMR_READY_TCP && !s->health.healthy) {
		if (s->health.tcp_fd >= 0 && now >= s->health.tcp_deadline) {
			tcp_close(s);
			health_set_last(s, "connect %s:%u: no answer within %d s",
					s->g->ready.address, s->g->ready.port,
					SUP_TCP_CONNECT_MS / 1000);
		}
		if (s->health.tcp_fd < 0 && now >= s->health.tcp_next)
			tcp_start(s);
	}
	agent_tick(s, now);
}

json_t *sup_health_json(struct sup *s)
{
	_cleanup_free_ char *when = vmr_ready_text(&s->g->ready);
	enum vmr_ready_kind k = s->g->ready.kind;
	const char *last = k == VMR_READY_CONSOLE || k == VMR_READY_CLOUD_INIT
			       ? s->health.lines.last
			       : s->health.last;
	json_t *o = json_object();

	json_object_set_new(o, "ready_when", json_string(when));
	json_object_set_new(o, "healthy", json_boolean(health_now(s)));
	json_object_set_new(o, "ready", json_boolean(s->health.healthy));
	json_object_set_new(o, "paused", json_boolean(s->health.paused));
	json_object_set_new(o, "since",
			    s->health.healthy ? json_integer((json_int_t)s->health.since)
					      : json_null());
	json_object_set_new(o, "last", last ? json_string(last) : json_null());
	json_object_set_new(o, "console_last",
			    s->health.lines.last ? json_string(s->health.lines.last) : json_null());
	return o;
}

void sup_health_wait(struct sup *s, uint64_t client)
{
	if (s->health.healthy || s->phase != PHASE_RUNNING || s->qemu_exited) {
		sup_ctl_reply(s, client, health_reply(s));
		return;
	}
	s->health.waiters =
	    xrealloc(s->health.waiters, (s->health.nwaiters + 1) * sizeof(*s->health.waiters));
	s->health.waiters[s->health.nwaiters++] = client;
}

/* A stop began, or the guest is gone: nobody waits for readiness any more. */
void sup_health_end(struct sup *s)
{
	health_file(s);
	health_notify(s);
	tcp_close(s);
	if (s->reboot.active) {
		s->reboot.active = false;
		sup_ctl_reply(
		    s, s->reboot.client,
		    sup_ctl_error("guest '%s' is stopping: reboot abandoned", s->g->name));
	}
}

void sup_health_free(struct sup *s)
{
	tcp_close(s);
	agent_close(s, "the supervisor is ending");
	vmr_ready_lines_free(&s->health.lines);
	free(s->health.last);
	s->health.last = NULL;
	free(s->health.waiters);
	s->health.waiters = NULL;
	s->health.nwaiters = 0;
}
