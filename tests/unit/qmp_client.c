/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The QMP client against a scripted fake server: a forked child on a
 * socketpair (or a listening unix socket) that replays a script of lines,
 * checks the commands it receives and echoes their ids.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/base/buf.h"
#include "lib/base/util.h"
#include "qmp/qmp.h"
#include "tests/lib/tap.h"

/* ---- the fake server ---- */

enum fop {
	F_END,
	F_SEND,	     /* a line, "$ID"/"$PREV" replaced, CRLF appended */
	F_LF,	     /* same with a bare LF */
	F_RAW,	     /* bytes as they are, no line end */
	F_BYTES,     /* a line written one byte per write */
	F_EXPECT,    /* read one command; its "execute" must equal s; capture its id */
	F_RESET,     /* wait until the client sent something, close without reading it */
	F_FLOOD,     /* n bytes without a newline, until the client hangs up */
	F_DRAIN,     /* read until the client closes */
	F_EXPECT_FD, /* F_EXPECT for a command that came with an fd: write n (a byte) to it */
	F_SKIP,	     /* read and drop one line of any length */
	F_NOFD,	     /* wait n ms: no fd may arrive meanwhile */
	F_PAUSE,     /* sleep n ms without reading */
};

struct fstep {
	enum fop op;
	const char *s;
	long n;
};

#define GREETING                                                                                   \
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, "         \
	"\"package\": \"\"}, \"capabilities\": [\"oob\"]}}"
#define NEGOTIATE                                                                                  \
	{F_SEND, GREETING, 0}, {F_EXPECT, "qmp_capabilities", 0},                                  \
	{                                                                                          \
		F_SEND, "{\"return\": {}, \"id\": $ID}", 0                                         \
	}
#define TS "\"timestamp\": {\"seconds\": 1795301561, \"microseconds\": 178863}"

struct fserver {
	int fd;
	char rbuf[65536];
	size_t rlen;
	char id[64], prev[64];
	int pend_fd;	   /* received, not taken by a command yet; -1: none */
	bool fd_misplaced; /* a second fd came before the first was taken */
};

/*
 * recvmsg() into the buffer.  Like QEMU's chardev, an fd that came with a
 * read is kept until a command takes it; a second one arriving before
 * that would replace it in QEMU: an error here.
 */
static ssize_t srv_recv(struct fserver *s, int flags)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = s->rbuf + s->rlen, .iov_len = sizeof(s->rbuf) - s->rlen};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	ssize_t n = recvmsg(s->fd, &mh, MSG_CMSG_CLOEXEC | flags);

	if (n <= 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		if (c->cmsg_len != CMSG_LEN(sizeof(int)) || s->pend_fd >= 0)
			s->fd_misplaced = true;
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
		if (s->pend_fd >= 0)
			close(s->pend_fd);
		s->pend_fd = fd;
	}
	s->rlen += (size_t)n;
	return n;
}

static int srv_send(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static char *srv_subst(struct fserver *s, const char *in)
{
	struct vmr_buf b = VMR_BUF_INIT;

	while (*in) {
		if (startswith(in, "$ID")) {
			vmr_buf_adds(&b, s->id);
			in += 3;
		} else if (startswith(in, "$PREV")) {
			vmr_buf_adds(&b, s->prev);
			in += 5;
		} else {
			vmr_buf_addc(&b, *in++);
		}
	}
	return vmr_buf_detach(&b);
}

/* One line from the client, or NULL on EOF. */
static char *srv_readline(struct fserver *s)
{
	for (;;) {
		char *nl = memchr(s->rbuf, '\n', s->rlen);
		ssize_t n;

		if (nl) {
			char *line = xstrndup(s->rbuf, (size_t)(nl - s->rbuf));

			s->rlen -= (size_t)(nl + 1 - s->rbuf);
			memmove(s->rbuf, nl + 1, s->rlen);
			return line;
		}
		if (s->rlen == sizeof(s->rbuf))
			return NULL;
		n = srv_recv(s, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
	}
}

static int srv_expect(struct fserver *s, const char *command, bool with_fd)
{
	_cleanup_free_ char *line = srv_readline(s);
	_cleanup_free_ char *id = NULL;
	json_t *msg;
	int r = 0;

	if (!line)
		return -1;
	if ((with_fd && s->pend_fd < 0) || s->fd_misplaced) {
		fprintf(stderr, "fake server: '%s' %s\n", command,
			s->fd_misplaced ? "came after a second fd replaced the first"
					: "came without an fd");
		return -1;
	}
	msg = json_loads(line, 0, NULL);
	if (!streq(json_string_value(json_object_get(msg, "execute")), command) ||
	    !json_object_get(msg, "id")) {
		fprintf(stderr, "fake server: expected '%s', got %s\n", command, line);
		r = -1;
	} else {
		id = json_dumps(json_object_get(msg, "id"), JSON_ENCODE_ANY);
		snprintf(s->prev, sizeof(s->prev), "%s", s->id);
		snprintf(s->id, sizeof(s->id), "%s", id);
	}
	json_decref(msg);
	return r;
}

/*
 * The client hung up while we were writing.  QEMU drops such a client
 * without complaint, and so does the fake: the script still passes when
 * nothing more was to come from the client.
 */
static bool srv_peer_gone_ok(const struct fstep *rest)
{
	for (; rest->op != F_END; rest++)
		if (rest->op == F_EXPECT || rest->op == F_EXPECT_FD || rest->op == F_SKIP ||
		    rest->op == F_RESET)
			return false;
	return true;
}

static int srv_run(int fd, const struct fstep *script)
{
	_cleanup_free_ struct fserver *s = xcalloc(1, sizeof(*s));

	s->fd = fd;
	s->pend_fd = -1;
	snprintf(s->id, sizeof(s->id), "null");
	snprintf(s->prev, sizeof(s->prev), "null");
	for (int i = 0; script[i].op != F_END; i++) {
		const struct fstep *st = &script[i];
		_cleanup_free_ char *text = st->s ? srv_subst(s, st->s) : NULL;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		char chunk[65536];
		long sent;
		int r = 0;

		switch (st->op) {
		case F_SEND:
		case F_LF:
			r = srv_send(fd, text, strlen(text));
			if (r == 0)
				r = srv_send(fd, st->op == F_SEND ? "\r\n" : "\n",
					     st->op == F_SEND ? 2 : 1);
			break;
		case F_RAW:
			r = srv_send(fd, text, strlen(text));
			break;
		case F_BYTES:
			for (size_t k = 0; text[k] && r == 0; k++) {
				struct timespec ts = {0, 200000};

				r = srv_send(fd, text + k, 1);
				nanosleep(&ts, NULL);
			}
			if (r == 0)
				r = srv_send(fd, "\r\n", 2);
			break;
		case F_EXPECT:
			r = srv_expect(s, st->s, false);
			break;
		case F_EXPECT_FD:
			r = srv_expect(s, st->s, true);
			if (r == 0) {
				char c = (char)st->n;

				r = write(s->pend_fd, &c, 1) == 1 ? 0 : -1;
				close(s->pend_fd);
				s->pend_fd = -1;
			}
			break;
		case F_PAUSE: {
			struct timespec ts = {st->n / 1000, (st->n % 1000) * 1000000L};

			nanosleep(&ts, NULL);
			break;
		}
		case F_SKIP:
			/* a line longer than rbuf: consume up to its newline */
			for (;;) {
				char *nl = memchr(s->rbuf, '\n', s->rlen);

				if (nl) {
					s->rlen -= (size_t)(nl + 1 - s->rbuf);
					memmove(s->rbuf, nl + 1, s->rlen);
					break;
				}
				s->rlen = 0;
				if (srv_recv(s, 0) <= 0) {
					r = -1;
					break;
				}
			}
			break;
		case F_NOFD:
			/* whatever arrives within n ms brings no fd */
			if (poll(&pfd, 1, (int)st->n) == 1 && s->rlen < sizeof(s->rbuf))
				(void)srv_recv(s, MSG_DONTWAIT);
			if (s->pend_fd >= 0) {
				fprintf(stderr,
					"fake server: an fd came before the last was answered\n");
				r = -1;
			}
			break;
		case F_RESET:
			/* returning closes the socket with the client's command unread: ECONNRESET
			 */
			return poll(&pfd, 1, 10000) == 1 ? 0 : 100 + i;
		case F_FLOOD:
			memset(chunk, 'x', sizeof(chunk));
			r = srv_send(fd, "{\"return\": \"", 12);
			for (sent = 0; sent < st->n && r == 0; sent += (long)sizeof(chunk))
				r = srv_send(fd, chunk, sizeof(chunk));
			/* the client is expected to hang up before the end */
			if (r == -EPIPE || r == -ECONNRESET)
				r = 0;
			else
				r = -1;
			break;
		case F_DRAIN:
			for (char *line; (line = srv_readline(s)); free(line))
				;
			break;
		case F_END:
			break;
		}
		if (r == -EPIPE || r == -ECONNRESET)
			return srv_peer_gone_ok(st + 1) ? 0 : 100 + i;
		if (r < 0)
			return 100 + i;
	}
	return 0;
}

struct fake {
	pid_t pid;
};

static pid_t fake_fork(int fd_child, int fd_close, const struct fstep *script)
{
	pid_t pid = fork();

	if (pid < 0)
		abort();
	if (pid == 0) {
		/* a broken test must not hang the suite */
		alarm(30);
		close(fd_close);
		_exit(srv_run(fd_child, script));
	}
	return pid;
}

/* Start a server on a socketpair; the client gets the other end. */
static pid_t fake_start(const struct fstep *script, struct vmr_qmp **ret)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	pid = fake_fork(sv[1], sv[0], script);
	close(sv[1]);
	if (vmr_qmp_new(sv[0], ret) < 0)
		abort();
	return pid;
}

/* The server's exit status: 0 when the whole script ran as expected. */
static int fake_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFSIGNALED(status))
		return 1000 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* ---- recording handlers ---- */

struct rec {
	struct vmr_qmp *q;
	struct vmr_buf events; /* "NAME[(reason)] " per event */
	struct vmr_buf diags;  /* one per line */
	int nevents, ndiags;
	int after_close;   /* handler calls after the client closed */
	int done_at_event; /* value of `done` when the last event arrived */
	int done;	   /* executes completed, maintained by the test */
	bool ts_ok;
	int reentry; /* vmr_qmp_execute() result from inside a handler */
	bool try_reentry;
};

static void rec_event(const char *event, json_t *data, json_t *timestamp, void *userdata)
{
	struct rec *r = userdata;
	const char *reason = json_string_value(json_object_get(data, "reason"));

	if (vmr_qmp_closed(r->q))
		r->after_close++;
	vmr_buf_adds(&r->events, event);
	if (reason)
		vmr_buf_addf(&r->events, "(%s)", reason);
	vmr_buf_addc(&r->events, ' ');
	r->nevents++;
	r->done_at_event = r->done;
	r->ts_ok = json_is_integer(json_object_get(timestamp, "seconds"));
	if (r->try_reentry) {
		struct vmr_error *err = NULL;

		r->reentry = vmr_qmp_execute(r->q, "query-status", NULL, 100, NULL, &err);
		vmr_error_free(err);
	}
}

static void rec_diag(const char *msg, void *userdata)
{
	struct rec *r = userdata;

	if (vmr_qmp_closed(r->q))
		r->after_close++;
	vmr_buf_adds(&r->diags, msg);
	vmr_buf_addc(&r->diags, '\n');
	r->ndiags++;
}

static void rec_init(struct rec *r, struct vmr_qmp *q)
{
	*r = (struct rec){.q = q};
	vmr_qmp_set_event_handler(q, rec_event, r);
	vmr_qmp_set_diag_handler(q, rec_diag, r);
}

static void rec_free(struct rec *r)
{
	vmr_buf_free(&r->events);
	vmr_buf_free(&r->diags);
}

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

static char *err_text(const struct vmr_error *err)
{
	return err ? vmr_error_text(err) : xstrdup("(no error)");
}

/* Poll and process until *flag >= want, the client closes, or ms pass. */
static void pump(struct vmr_qmp *q, const int *flag, int want, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	while (*flag < want && !vmr_qmp_closed(q) && now_ms() < end) {
		struct pollfd pfd = {.fd = vmr_qmp_fd(q), .events = vmr_qmp_poll_events(q)};
		int t = vmr_qmp_timeout(q);

		poll(&pfd, 1, t < 0 || t > 100 ? 100 : t);
		vmr_qmp_process(q, NULL);
	}
}

/* ---- tests ---- */

static void test_session(void)
{
	static const struct fstep script[] = {
	    NEGOTIATE,
	    {F_EXPECT, "query-status", 0},
	    {F_SEND, "{" TS ", \"event\": \"STOP\"}", 0},
	    {F_SEND, "{\"return\": {\"status\": \"paused\", \"running\": false}, \"id\": $ID}", 0},
	    {F_EXPECT, "cont", 0},
	    {F_SEND, "{" TS ", \"event\": \"RESUME\"}", 0},
	    {F_SEND, "{\"return\": {}, \"id\": $ID}", 0},
	    {F_EXPECT, "quit", 0},
	    {F_SEND,
	     "{" TS ", \"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, "
	     "\"reason\": \"host-qmp-quit\"}}",
	     0},
	    {F_SEND, "{\"return\": {}, \"id\": $ID}", 0},
	    {F_END, NULL, 0},
	};
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *msg = NULL;
	json_t *ret = NULL;
	struct rec rec;
	pid_t pid = fake_start(script, &q);
	int r;

	rec_init(&rec, q);
	is_int(vmr_qmp_handshake(q, 5000, &err), 0, "handshake");
	is_int(
	    json_integer_value(json_object_get(
		json_object_get(json_object_get(vmr_qmp_greeting(q), "version"), "qemu"), "major")),
	    7, "greeting version kept");
	is_int(vmr_qmp_execute(q, "query-status", NULL, 5000, &ret, &err), 0, "query-status");
	is_str(json_string_value(json_object_get(ret, "status")), "paused", "its return value");
	json_decref(ret);
	rec.done++;
	is_int(vmr_qmp_execute(q, "cont", NULL, 5000, NULL, &err), 0, "cont");
	rec.done++;
	is_int(rec.done_at_event, 1, "RESUME dispatched before cont returned");
	ok(rec.ts_ok, "event timestamp passed");
	is_int(vmr_qmp_execute(q, "quit", NULL, 5000, NULL, &err), 0, "quit returns");
	is_str(vmr_buf_str(&rec.events), "STOP RESUME SHUTDOWN(host-qmp-quit) ",
	       "events in order, SHUTDOWN before quit's return");

	/* the server exits: EOF */
	for (int i = 0; i < 100; i++) {
		struct pollfd pfd = {.fd = vmr_qmp_fd(q), .events = POLLIN};

		r = vmr_qmp_process(q, &err);
		if (r < 0)
			break;
		poll(&pfd, 1, 100);
	}
	is_int(r, -EPIPE, "process returns -EPIPE");
	ok(vmr_qmp_closed(q), "closed after EOF");
	msg = err_text(err);
	ok(startswith(msg, "qmp 'fd ") && has(msg, "': QMP connection closed"),
	   "process reports the close: %s", msg);
	vmr_error_clear(&err);
	is_int(vmr_qmp_fd(q), -1, "no fd once closed");
	is_int(vmr_qmp_execute(q, "query-status", NULL, 5000, NULL, &err), -EPIPE,
	       "later execute fails at once");
	free(msg);
	msg = err_text(err);
	is_str(msg, "qmp 'query-status': QMP connection closed", "with a clear message");
	vmr_error_clear(&err);
	is_int(vmr_qmp_handshake(q, 100, &err), 0, "handshake already done is a no-op");
	is_int(rec.after_close, 0, "no handler call after close");
	ok(has(vmr_buf_str(&rec.diags), "QMP connection closed"), "close reported as diagnostic");
	vmr_qmp_free(q);
	is_int(fake_wait(pid), 0, "server script completed");
	rec_free(&rec);
}

static void test_unknown_ids_and_timeout(void)
{
	static const struct fstep script[] = {
	    NEGOTIATE,
	    {F_EXPECT, "query-status", 0},
	    /* no reply until the client gave up and sent the next command */
	    {F_EXPECT, "query-name", 0},
	    {F_SEND, "{\"return\": {\"status\": \"late\"}, \"id\": $PREV}", 0},
	    {F_SEND, "{\"return\": {}, \"id\": 999}", 0},
	    {F_SEND, "{\"return\": {}, \"id\": \"__qmp#1\"}", 0},
	    {F_SEND, "{\"return\": {\"name\": \"g\"}, \"id\": $ID}", 0},
	    {F_DRAIN, NULL, 0},
	    {F_END, NULL, 0},
	};
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *msg = NULL;
	json_t *ret = NULL;
	struct rec rec;
	pid_t pid = fake_start(script, &q);

	rec_init(&rec, q);
	is_int(vmr_qmp_handshake(q, 5000, &err), 0, "handshake");
	is_int(vmr_qmp_execute(q, "query-status", NULL, 100, NULL, &err), -ETIMEDOUT,
	       "no reply: timeout");
	msg = err_text(err);
	is_str(msg, "qmp 'query-status': no reply within 100 ms: Connection timed out",
	       "timeout message");
	vmr_error_clear(&err);
	is_int(vmr_qmp_pending_count(q), 0, "timed out command left the table");
	is_int(vmr_qmp_execute(q, "query-name", NULL, 5000, &ret, &err), 0,
	       "next command works after unknown ids");
	is_str(json_string_value(json_object_get(ret, "name")), "g", "and gets its own reply");
	json_decref(ret);
	ok(has(vmr_buf_str(&rec.diags), "dropped reply with unknown id 2"),
	   "late reply dropped and reported");
	ok(has(vmr_buf_str(&rec.diags), "dropped reply with unknown id 999"),
	   "unknown numeric id dropped and reported");
	ok(has(vmr_buf_str(&rec.diags), "dropped reply with unknown id \"__qmp#1\""),
	   "string id dropped and reported");
	ok(!vmr_qmp_closed(q), "connection still open");
	vmr_qmp_free(q);
	is_int(fake_wait(pid), 0, "server script completed");
	rec_free(&rec);
}

static void test_idless_errors(void)
{
	static const struct fstep script[] = {
	    NEGOTIATE,
	    {F_SEND,
	     "{\"error\": {\"class\": \"GenericError\", \"desc\": "
	     "\"JSON parse error, stray '\\u0001'\"}}",
	     0},
	    {F_EXPECT, "query-status", 0},
	    {F_SEND,
	     "{\"error\": {\"class\": \"GenericError\", \"desc\": "
	     "\"JSON parse error, expecting value\"}}",
	     0},
	    {F_SEND, "{\"return\": {\"status\": \"running\"}, \"id\": $ID}", 0},
	    {F_EXPECT, "query-name", 0},
	    {F_SEND, "{\"return\": {}, \"id\": $ID}", 0},
	    {F_DRAIN, NULL, 0},
	    {F_END, NULL, 0},
	};
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *msg = NULL;
	struct rec rec;
	pid_t pid = fake_start(script, &q);

	rec_init(&rec, q);
	is_int(vmr_qmp_handshake(q, 5000, &err), 0, "handshake");
	pump(q, &rec.ndiags, 1, 5000);
	ok(has(vmr_buf_str(&rec.diags), "protocol error: error without id: JSON parse error, "
					"stray"),
	   "id-less error with nothing pending reported");
	ok(!vmr_qmp_closed(q), "and not fatal");
	is_int(vmr_qmp_execute(q, "query-status", NULL, 5000, NULL, &err), -EREMOTEIO,
	       "id-less error while pending fails that command");
	msg = err_text(err);
	is_str(msg, "qmp 'query-status': GenericError: JSON parse error, expecting value",
	       "with QEMU's class and desc");
	is_int(err ? err->errnum : -1, 0, "no errno for a QEMU error");
	is_str(vmr_qmp_error_class(q), "GenericError", "class available");
	vmr_error_clear(&err);
	is_int(vmr_qmp_execute(q, "query-name", NULL, 5000, NULL, &err), 0, "next command works");
	ok(vmr_qmp_error_class(q) == NULL, "class cleared by a successful execute");
	ok(has(vmr_buf_str(&rec.diags), "unknown id 2"), "its real reply dropped as unknown");
	vmr_qmp_free(q);
	is_int(fake_wait(pid), 0, "server script completed");
	rec_free(&rec);
}

static void test_repeated_protocol_errors(void)
{
	static const struct fstep script[] = {
	    NEGOTIATE,
	    {F_SEND, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"e1\"}}", 0},
	    {F_SEND, "[1, 2]", 0},
	    {F_SEND, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"e3\"}}", 0},
	    {F_SEND, "not json", 0},
	    {F_SEND, "{\"surprise\": 1}", 0},
	    {F_SEND, GREETING, 0},
	    {F_SEND, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"e7\"}}", 0},
	    {F_SEND, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"e8\"}}", 0},
	    {F_SEND, "{" TS ", \"event\": \"NEVER\"}", 0},
	    {F_DRAIN, NULL, 0},
	    {F_END, NULL, 0},
	};
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *msg = NULL;
	struct rec rec;
	pid_t pid = fake_start(script, &q);
	int never = 0;

	rec_init(&rec, q);
	is_int(vmr_qmp_handshake(q, 5000, &err), 0, "handshake");
	pump(q, &never, 1, 5000);
	ok(vmr_qmp_closed(q), "8 protocol errors in a row close the connection");
	is_int(vmr_qmp_process(q, &err), -EPIPE, "process reports closed");
	msg = err_text(err);
	ok(has(msg, "too many QMP protocol errors"), "with the reason (%s)", msg);
	vmr_error_clear(&err);
	ok(has(vmr_buf_str(&rec.diags), "not a JSON object"), "non-object reported");
	ok(has(vmr_buf_str(&rec.diags), "invalid JSON"), "invalid JSON reported");
	ok(has(vmr_buf_str(&rec.diags), "unexpected message"), "unknown message reported");
	ok(has(vmr_buf_str(&rec.diags), "second greeting"), "second greeting reported");
	is_int(rec.nevents, 0, "no event dispatched after the close");
	is_int(rec.after_close, 0, "no handler call after close");
	vmr_qmp_free(q);
	is_int(fake_wait(pid), 0, "server script completed");
	rec_free(&rec);
}

static void test_malformed_reply(void)
{
	static const struct fstep script[] = {
	    NEGOTIATE,
	    {F_EXPECT, "query-status", 0},
	    {F_SEND, "{\"return\": {\"sta", 0},
	    {F_EXPECT, "query-name", 0},
	    {F_SEND, "{\"id\": $ID}", 0},
	    {F_EXPECT, "query-kvm", 0},
	    {F_SEND, "{\"return\": {\"enabled\": false}, \"id\": $ID}", 0},
	    {F_DRAIN, NULL, 0},
	    {F_END, NULL, 0},
	};
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *msg = NULL;
	pid_t pid = fake_start(script, &q);

	is_int(vmr_qmp_handshake(q, 5000, &err), 0, "handshake");
	is_int(vmr_qmp_execute(q, "query-status", NULL, 5000, NULL, &err), -EPROTO,
	       "unparsable reply fails its command");
	msg = err_text(err);
	ok(startswith(msg, "qmp 'query-status': malformed reply: invalid JSON: "), "message: %s",
	   msg);
	vmr_error_clear(&err);
	is_int(vmr_qmp_execute(q, "query-name", NULL, 5000, NULL, &err), -EPROTO,
	       "reply with neither return nor error fails its command");
	free(msg);
	msg = err_text(err);
	is_str(msg, "qmp 'query-name': malformed reply", "message");
	vmr_error_clear(&err);
	is_int(vmr_qmp_execute(q, "query-kvm", NULL, 5000, NULL, &err), 0,
	       "the connection survives");
	vmr_qmp_free(q);
	is_int(fake_wait(pid), 0, "server script completed");
}

static void test_cut_reply(void)
{
	static const struct fstep script[] = {
	    NEGOTIATE,
	    {F_EXPECT, "query-status", 0},
	    {F_RAW, "{\"return\": {\"sta", 0},
	    {F_END, NULL, 0},
	};
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *msg = NULL;
	int called = 0;
	pid_t pid = fake_start(script, &q);

	is_int(vmr_qmp_handshake(q, 5000, &err), 0, "handshake");
	is_int(vmr_qmp_execute(q, "query-status", NULL, 5000, NULL, &err), -EPIPE,
	       "reply cut by EOF fails the command");
	msg = err_text(err);
	is_str(msg, "qmp 'query-status': QMP connection closed", "as connection closed");
	vmr_error_clear(&err);
	ok(vmr_qmp_closed(q), "client closed");
	is_int(vmr_qmp_pending_count(q), 0, "pending table empty");
	is_int(vmr_qmp_buffered(q), 0, "partial message dropped");
	is_int(vmr_qmp_send(q, "cont", NULL, -1, NULL, &called, NULL, &err), -EPIPE,
	       "send fails at once");
	vmr_error_clear(&err);
	vmr_qmp_free(q);
	is_int(fake_wait(pid), 0, "server script completed");
}

static long vm_hwm_kib(void)
{
	_cleanup_free_ char *s = NULL;
	const char *p;

	if (read_file("/proc/self/status", 65536, &s, NULL) < 0)
		return -1;
	p = strstr(s, "VmHWM:");
	return p ? strtol(p + 6, NULL, 10) : -1;
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static void test_endless_line(void)
{
	static const struct fstep script[] = {
	    NEGOTIATE,
	    {F_EXPECT, "query-status", 0},
	    {F_FLOOD, NULL, 32L << 20},
	    {F_END, NULL, 0},
	};
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *msg = NULL;
	struct rec rec;
	pid_t pid = fake_start(script, &q);
	long before, after;

	rec_init(&rec, q);
	is_int(vmr_qmp_handshake(q, 5000, &err), 0, "handshake");
	before = vm_hwm_kib();
	is_int(vmr_qmp_execute(q, "query-status", NULL, 60000, NULL, &err), -EPIPE,
	       "32 MiB without newline fails the command");
	after = vm_hwm_kib();
	msg = err_text(err);
	is_str(msg, "qmp 'query-status': QMP connection closed (QMP message exceeds 10 MiB)",
	       "naming the cap");
	vmr_error_clear(&err);
	ok(has(vmr_buf_str(&rec.diags), "QMP message exceeds 10 MiB, disconnecting"),
	   "diagnostic says so");
	ok(vmr_qmp_closed(q), "disconnected");
	is_int(vmr_qmp_buffered(q), 0, "buffer released");
#ifdef UNDER_ASAN
	(void)before;
	(void)after;
	tap_skip("ASan's allocator copies on realloc and keeps quarantine", "peak memory bounded");
#else
	ok(before > 0 && after - before < 24 * 1024, "peak memory grew by %ld KiB (< 24 MiB)",
	   after - before);
#endif
	vmr_qmp_free(q);
	is_int(fake_wait(pid), 0, "server saw the hang-up");
	rec_free(&rec);
}

static void test_no_greeting(void)
{
	static const struct fstep script[] = {
	    {F_DRAIN, NULL, 0},
	    {F_END, NULL, 0},
	};
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *msg = NULL;
	pid_t pid = fake_start(script, &q);

	is_int(vmr_qmp_handshake(q, 200, &err), -ETIMEDOUT, "no greeting: timeout");
	msg = err_text(err);
	ok(startswith(msg, "qmp 'fd ") &&
	       has(msg, "': no greeting within 200 ms: Connection timed out"),
	   "names the fd: %s", msg);
	vmr_error_clear(&err);
	vmr_qmp_set_name(q, "/run/vmrun/g/qmp.sock");
	is_int(vmr_qmp_handshake(q, 100, &err), -ETIMEDOUT, "again with a name");
	free(msg);
	msg = err_text(err);
	is_str(msg, "qmp '/run/vmrun/g/qmp.sock': no greeting within 100 ms: Connection timed out",
	       "names the socket");
	vmr_error_clear(&err);
	vmr_qmp_free(q);
	is_int(fake_wait(pid), 0, "server saw the client go");
}

static void test_command_not_found(void)
{
	static const struct fstep script[] = {
	    {F_SEND, GREETING, 0},
	    {F_EXPECT, "query-status", 0},
	    {F_SEND,
	     "{\"id\": $ID, \"error\": {\"class\": \"CommandNotFound\", \"desc\": "
	     "\"Expecting capabilities negotiation with 'qmp_capabilities'\"}}",
	     0},
	    {F_EXPECT, "qmp_capabilities", 0},
	    {F_SEND, "{\"return\": {}, \"id\": $ID}", 0},
	    {F_DRAIN, NULL, 0},
	    {F_END, NULL, 0},
	};
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *msg = NULL;
	pid_t pid = fake_start(script, &q);

	is_int(vmr_qmp_execute(q, "query-status", NULL, 5000, NULL, &err), -EREMOTEIO,
	       "command before negotiation fails");
	is_str(vmr_qmp_error_class(q), "CommandNotFound", "class CommandNotFound");
	msg = err_text(err);
	is_str(msg,
	       "qmp 'query-status': CommandNotFound: Expecting capabilities negotiation "
	       "with 'qmp_capabilities'",
	       "message");
	vmr_error_clear(&err);
	ok(vmr_qmp_greeting(q) != NULL, "greeting kept meanwhile");
	is_int(vmr_qmp_handshake(q, 5000, &err), 0, "handshake afterwards");
	vmr_qmp_free(q);
	is_int(fake_wait(pid), 0, "server script completed");
}

static void test_split_writes(void)
{
	static const struct fstep script[] = {
	    {F_BYTES, GREETING, 0},
	    {F_EXPECT, "qmp_capabilities", 0},
	    {F_BYTES, "{\"return\": {}, \"id\": $ID}", 0},
	    {F_EXPECT, "query-status", 0},
	    {F_BYTES, "{" TS ", \"event\": \"RESUME\"}", 0},
	    {F_LF, "{" TS ", \"event\": \"STOP\"}", 0},
	    {F_BYTES, "{\"return\": {\"status\": \"running\"}, \"id\": $ID}", 0},
	    {F_DRAIN, NULL, 0},
	    {F_END, NULL, 0},
	};
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	json_t *ret = NULL;
	struct rec rec;
	pid_t pid = fake_start(script, &q);

	rec_init(&rec, q);
	is_int(vmr_qmp_handshake(q, 10000, &err), 0, "handshake one byte at a time");
	is_int(vmr_qmp_execute(q, "query-status", NULL, 10000, &ret, &err), 0,
	       "reply one byte at a time");
	is_str(json_string_value(json_object_get(ret, "status")), "running", "reassembled");
	json_decref(ret);
	is_str(vmr_buf_str(&rec.events), "RESUME STOP ", "CRLF and LF events both dispatched");
	vmr_qmp_free(q);
	is_int(fake_wait(pid), 0, "server script completed");
	rec_free(&rec);
}

static void test_connection_reset(void)
{
	static const struct fstep script[] = {
	    NEGOTIATE,
	    {F_RESET, NULL, 0},
	    {F_END, NULL, 0},
	};
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *msg = NULL;
	pid_t pid = fake_start(script, &q);

	is_int(vmr_qmp_handshake(q, 5000, &err), 0, "handshake");
	is_int(vmr_qmp_execute(q, "quit", NULL, 5000, NULL, &err), -EPIPE,
	       "peer closed with our command unread");
	is_int(err ? err->errnum : 0, ECONNRESET, "errno ECONNRESET kept");
	msg = err_text(err);
	is_str(msg, "qmp 'quit': QMP connection closed: Connection reset by peer", "message");
	vmr_error_clear(&err);
	ok(vmr_qmp_closed(q), "closed");
	vmr_qmp_free(q);
	is_int(fake_wait(pid), 0, "server script completed");
}

struct async_rec {
	struct vmr_buf order;
	int done;
	int rs[8];
	char *texts[8];
};

static void async_done(json_t *ret, int r, const char *error_class, struct vmr_error *err,
		       void *userdata)
{
	struct async_rec *a = userdata;
	_cleanup_free_ char *s =
	    ret ? json_dumps(ret, JSON_COMPACT | JSON_ENCODE_ANY) : vmr_error_text(err);

	vmr_buf_addf(&a->order, "%s;", s);
	a->rs[a->done] = r;
	a->texts[a->done] = TAKE_PTR(s);
	a->done++;
	vmr_error_free(err);
}

static void test_async(void)
{
	static const struct fstep script[] = {
	    NEGOTIATE,
	    {F_EXPECT, "query-a", 0},
	    {F_EXPECT, "query-b", 0},
	    {F_SEND, "{\"return\": \"b\", \"id\": $ID}", 0},
	    {F_SEND, "{\"return\": \"a\", \"id\": $PREV}", 0},
	    {F_EXPECT, "query-c", 0},
	    {F_EXPECT, "query-d", 0},
	    {F_DRAIN, NULL, 0},
	    {F_END, NULL, 0},
	};
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	struct async_rec a = {0};
	uint64_t id_a = 0, id_b = 0;
	pid_t pid = fake_start(script, &q);

	is_int(vmr_qmp_handshake(q, 5000, &err), 0, "handshake");
	is_int(vmr_qmp_timeout(q), -1, "no deadline pending");
	is_int(vmr_qmp_send(q, "query-a", NULL, 5000, async_done, &a, &id_a, &err), 0, "send a");
	is_int(vmr_qmp_send(q, "query-b", NULL, -1, async_done, &a, &id_b, &err), 0, "send b");
	ok(id_b == id_a + 1, "numeric ids in order (%llu, %llu)", (unsigned long long)id_a,
	   (unsigned long long)id_b);
	is_int(vmr_qmp_pending_count(q), 2, "two pending");
	ok(vmr_qmp_timeout(q) > 0 && vmr_qmp_timeout(q) <= 5000, "a's deadline reported");
	pump(q, &a.done, 2, 5000);
	is_str(vmr_buf_str(&a.order), "\"b\";\"a\";", "replies out of order matched by id");
	is_int(vmr_qmp_pending_count(q), 0, "table empty");

	is_int(vmr_qmp_send(q, "query-c", NULL, 50, async_done, &a, NULL, &err), 0, "send c");
	pump(q, &a.done, 3, 5000);
	is_int(a.rs[2], -ETIMEDOUT, "c timed out through process()");
	is_str(a.texts[2], "qmp 'query-c': no reply within 50 ms: Connection timed out", "message");
	is_int(vmr_qmp_send(q, "query-d", NULL, -1, async_done, &a, NULL, &err), 0, "send d");
	vmr_qmp_free(q);
	is_int(a.done, 4, "free completes the pending command");
	is_int(a.rs[3], -EPIPE, "as closed");
	is_str(a.texts[3], "qmp 'query-d': QMP connection closed", "message");
	is_int(fake_wait(pid), 0, "server script completed");
	for (int i = 0; i < a.done; i++)
		free(a.texts[i]);
	vmr_buf_free(&a.order);
}

/* The byte the fake server wrote into the fd it received, then EOF: no copy of it is left. */
static void check_passed(int rfd, char want, const char *what)
{
	char buf[2] = {0, 0};
	struct pollfd pfd = {.fd = rfd, .events = POLLIN};
	ssize_t n;

	poll(&pfd, 1, 5000);
	n = read(rfd, buf, 1);
	ok(n == 1 && buf[0] == want, "%s: the server wrote '%c' through it", what, want);
	poll(&pfd, 1, 5000);
	is_int((int)read(rfd, buf, 1), 0, "%s: then EOF (the client closed its duplicate)", what);
}

static void test_pass_fd(void)
{
	static const struct fstep script[] = {
	    NEGOTIATE,
	    {F_EXPECT_FD, "getfd", 'a'},
	    {F_SEND, "{\"return\": {}, \"id\": $ID}", 0},
	    {F_EXPECT, "query-status", 0},
	    {F_SEND, "{\"return\": {}, \"id\": $ID}", 0},
	    /* queued behind a message larger than the socket's buffer */
	    {F_PAUSE, NULL, 500},
	    {F_SKIP, NULL, 0},
	    {F_EXPECT_FD, "getfd", 'b'},
	    {F_EXPECT, "query-x", 0},
	    /* the next fd waits for getfd's reply */
	    {F_NOFD, NULL, 300},
	    {F_SEND, "{\"return\": {}, \"id\": $PREV}", 0},
	    {F_EXPECT_FD, "add-fd", 'c'},
	    {F_SEND, "{\"return\": {}, \"id\": $ID}", 0},
	    {F_DRAIN, NULL, 0},
	    {F_END, NULL, 0},
	};
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	struct async_rec a = {0};
	int p1[2], p2[2], p3[2];
	json_t *args, *big;
	pid_t pid = fake_start(script, &q);
	/* after the fork: the server's copy would be reported lost */
	_cleanup_free_ char *pad = xmalloc(1 << 20);

	if (pipe2(p1, O_CLOEXEC) < 0 || pipe2(p2, O_CLOEXEC) < 0 || pipe2(p3, O_CLOEXEC) < 0)
		abort();
	is_int(vmr_qmp_handshake(q, 5000, &err), 0, "handshake");
	args = json_pack("{s:s}", "fdname", "vnc-client");
	is_int(vmr_qmp_execute_fd(q, "getfd", args, p1[1], 5000, NULL, &err), 0,
	       "execute with an fd");
	close(p1[1]);
	check_passed(p1[0], 'a', "execute_fd");
	is_int(vmr_qmp_execute(q, "query-status", NULL, 5000, NULL, &err), 0,
	       "the next command goes without one");

	memset(pad, 'x', (1 << 20) - 1);
	pad[(1 << 20) - 1] = '\0';
	big = json_pack("{s:s}", "pad", pad);
	is_int(vmr_qmp_send(q, "query-big", big, -1, NULL, NULL, NULL, &err), 0, "send 1 MiB");
	json_decref(big);
	ok(vmr_qmp_poll_events(q) & POLLOUT, "output queued");
	is_int(vmr_qmp_send_fd(q, "getfd", args, p2[1], 5000, async_done, &a, NULL, &err), 0,
	       "queue a command with an fd");
	is_int(vmr_qmp_send(q, "query-x", NULL, -1, NULL, NULL, NULL, &err), 0,
	       "queue one without");
	is_int(vmr_qmp_send_fd(q, "add-fd", NULL, p3[1], 5000, async_done, &a, NULL, &err), 0,
	       "queue another with an fd");
	close(p2[1]);
	close(p3[1]);
	pump(q, &a.done, 2, 5000);
	is_str(vmr_buf_str(&a.order), "{};{};", "both answered");
	check_passed(p2[0], 'b', "first queued");
	check_passed(p3[0], 'c', "second queued");
	is_int(vmr_qmp_send_fd(q, "getfd", args, -1, 5000, NULL, NULL, NULL, &err), -EBADF,
	       "no fd: EBADF");
	vmr_error_free(TAKE_PTR(err));
	vmr_qmp_free(q);
	is_int(fake_wait(pid), 0, "server got each fd with its own command");
	json_decref(args);
	for (int i = 0; i < a.done; i++)
		free(a.texts[i]);
	vmr_buf_free(&a.order);
	close(p1[0]);
	close(p2[0]);
	close(p3[0]);
}

/* A duplicate held back (the previous fd's command unanswered) is closed with the client. */
static void test_pass_fd_closed(void)
{
	static const struct fstep script[] = {
	    NEGOTIATE,	      {F_EXPECT_FD, "getfd", 'a'}, {F_NOFD, NULL, 300}, {F_DRAIN, NULL, 0},
	    {F_END, NULL, 0},
	};
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	struct async_rec a = {0};
	int p1[2], p2[2];
	char c;
	pid_t pid = fake_start(script, &q);

	if (pipe2(p1, O_CLOEXEC) < 0 || pipe2(p2, O_CLOEXEC) < 0)
		abort();
	is_int(vmr_qmp_handshake(q, 5000, &err), 0, "handshake");
	is_int(vmr_qmp_send_fd(q, "getfd", NULL, p1[1], -1, async_done, &a, NULL, &err), 0,
	       "an fd sent");
	is_int(vmr_qmp_send_fd(q, "getfd", NULL, p2[1], -1, async_done, &a, NULL, &err), 0,
	       "a second one queued");
	close(p1[1]);
	close(p2[1]);
	ok(!(vmr_qmp_poll_events(q) & POLLOUT), "held back: no POLLOUT asked while it waits");
	check_passed(p1[0], 'a', "the first");
	vmr_qmp_free(q);
	is_int(a.done, 2, "both complete on free");
	is_int((int)read(p2[0], &c, 1), 0, "the held-back duplicate is closed, never sent");
	is_int(fake_wait(pid), 0, "the server never got the second fd");
	for (int i = 0; i < a.done; i++)
		free(a.texts[i]);
	vmr_buf_free(&a.order);
	close(p1[0]);
	close(p2[0]);
}

static void test_big_integers(void)
{
	static const struct fstep script[] = {
	    NEGOTIATE,
	    {F_EXPECT, "query-x", 0},
	    {F_SEND, "{\"return\": {\"big\": 18446744073709551615, \"small\": 7}, \"id\": $ID}", 0},
	    {F_EXPECT, "query-cpus-fast", 0},
	    {F_SEND, "{\"return\": [{\"thread-id\": 9223372036854775807}], \"id\": $ID}", 0},
	    {F_DRAIN, NULL, 0},
	    {F_END, NULL, 0},
	};
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	json_t *ret = NULL;
	pid_t pid = fake_start(script, &q);

	is_int(vmr_qmp_handshake(q, 5000, &err), 0, "handshake");
	is_int(vmr_qmp_execute(q, "query-x", NULL, 5000, &ret, &err), 0,
	       "integer above INT64_MAX does not fail the reply");
	ok(json_is_real(json_object_get(ret, "big")) &&
	       json_real_value(json_object_get(ret, "big")) > 1.8e19,
	   "it arrives as a double");
	json_decref(ret);
	ret = NULL;
	is_int(vmr_qmp_execute(q, "query-cpus-fast", NULL, 5000, &ret, &err), 0, "normal reply");
	ok(json_is_integer(json_object_get(json_array_get(ret, 0), "thread-id")) &&
	       json_integer_value(json_object_get(json_array_get(ret, 0), "thread-id")) ==
		   INT64_MAX,
	   "ordinary integers stay exact");
	json_decref(ret);
	vmr_qmp_free(q);
	is_int(fake_wait(pid), 0, "server script completed");
}

static void test_connect_path(void)
{
	static const struct fstep script[] = {
	    NEGOTIATE,
	    {F_EXPECT, "query-status", 0},
	    {F_SEND, "{\"return\": {\"status\": \"prelaunch\"}, \"id\": $ID}", 0},
	    {F_DRAIN, NULL, 0},
	    {F_END, NULL, 0},
	};
	char dir[] = "/tmp/vmrt-qmp-XXXXXX";
	/* on the stack: the forked server must not inherit heap it never frees */
	char path[sizeof(dir) + 16], *msg;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vmr_qmp *q = NULL;
	struct vmr_error *err = NULL;
	int lfd, cfd;
	pid_t pid;

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/qmp.sock", dir);
	is_int(vmr_qmp_connect_path(path, 50, &q, &err), -ENOENT,
	       "no socket: fails after the timeout");
	msg = err_text(err);
	ok(has(msg, path) && has(msg, "No such file or directory"), "names the path: %s", msg);
	free(msg);
	vmr_error_clear(&err);

	memcpy(sa.sun_path, path, strlen(path) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0)
		abort();
	is_int(vmr_qmp_connect_path(path, 5000, &q, &err), 0, "connect");
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	close(lfd);
	/* the child must not keep the client's end open, or it never sees EOF */
	pid = fake_fork(cfd, vmr_qmp_fd(q), script);
	close(cfd);
	is_int(vmr_qmp_handshake(q, 5000, &err), 0, "handshake over the path");
	is_int(vmr_qmp_execute(q, "query-status", NULL, 5000, NULL, &err), 0, "query-status");
	vmr_qmp_free(q);
	is_int(fake_wait(pid), 0, "server script completed");
	unlink(path);
	rmdir(dir);
}

/* Bytes fed directly: no handler after close, handlers cannot re-enter. */
static void test_feed_close(void)
{
	const char *greeting = GREETING "\n";
	const char *ev = "{" TS ", \"event\": \"A\"}\n";
	struct vmr_buf in = VMR_BUF_INIT;
	struct vmr_qmp *q;
	struct vmr_error *err = NULL;
	struct rec rec;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    vmr_qmp_new(sv[0], &q) < 0)
		abort();
	rec_init(&rec, q);
	vmr_qmp_set_max_line(q, 256);
	rec.try_reentry = true;
	is_int(vmr_qmp_feed(q, greeting, strlen(greeting)), 0, "greeting fed");
	vmr_buf_adds(&in, ev);
	for (int i = 0; i < 300; i++)
		vmr_buf_addc(&in, 'x');
	vmr_buf_addc(&in, '\n');
	vmr_buf_adds(&in, ev);
	is_int(vmr_qmp_feed(q, in.s, in.len), -EPIPE, "overlong line closes");
	is_int(rec.nevents, 1, "event before it dispatched, event after it not");
	is_int(rec.reentry, -EBUSY, "execute from a handler refused");
	is_int(rec.after_close, 0, "no handler call after close");
	ok(has(vmr_buf_str(&rec.diags), "QMP message exceeds 256 bytes"), "cap in diagnostic");
	is_int(vmr_qmp_feed(q, ev, strlen(ev)), -EPIPE, "feeding after close fails");
	is_int(rec.nevents, 1, "and dispatches nothing");
	is_int(vmr_qmp_handshake(q, 100, &err), -EPIPE, "handshake after close fails");
	vmr_error_clear(&err);
	vmr_qmp_free(q);
	close(sv[1]);
	vmr_buf_free(&in);
	rec_free(&rec);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_session();
	test_unknown_ids_and_timeout();
	test_idless_errors();
	test_repeated_protocol_errors();
	test_malformed_reply();
	test_cut_reply();
	test_endless_line();
	test_no_greeting();
	test_command_not_found();
	test_split_writes();
	test_connection_reset();
	test_async();
	test_pass_fd();
	test_pass_fd_closed();
	test_big_integers();
	test_connect_path();
	test_feed_close();
	return tap_done();
}
