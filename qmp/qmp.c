/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "lib/base/buf.h"
#include "lib/base/error.h"
#include "lib/base/util.h"
#include "qmp/line.h"
#include "qmp/qmp.h"

/* Consecutive bad messages tolerated before the peer is considered insane. */
#define QMP_MAX_PROTOCOL_ERRORS 8
/* Reads per vmr_qmp_process() call: a flooding peer must not starve the poll loop. */
#define QMP_READS_PER_PROCESS 8
#define QMP_READ_CHUNK 16384

struct qmp_pending {
	struct qmp_pending *next;
	uint64_t id;
	char *command;
	uint64_t deadline; /* now_ms() value, 0 = none */
	int timeout_ms;
	vmr_qmp_reply_fn fn;
	void *userdata;
	bool carries_fd;
};

struct vmr_qmp {
	int fd;
	char *name;
	struct vmr_qmp_lines lines;
	struct vmr_buf out; /* queued output, sent as the socket accepts it */
	/*
	 * fds to send with queued messages, in order: outfds[i].fd goes as
	 * SCM_RIGHTS with the byte at offset outfds[i].at of out (the first
	 * byte of its message), command id
	 */
	struct qmp_outfd {
		size_t at;
		int fd;
		uint64_t id;
	} * outfds;
	size_t noutfds;
	uint64_t next_id;
	struct qmp_pending *pending; /* oldest first */
	json_t *greeting;	     /* the "QMP" member of the greeting */
	bool greeted;
	bool negotiated;

	vmr_qmp_event_fn event_fn;
	void *event_data;
	vmr_qmp_diag_fn diag_fn;
	void *diag_data;

	unsigned dispatching;  /* > 0 while handlers may run */
	bool feeding;	       /* inside vmr_qmp_lines_feed(): keep its buffer */
	unsigned bad_messages; /* consecutive protocol errors */
	int write_errno;       /* a send failed: close once reads are drained */
	char *error_class;     /* of the last failed vmr_qmp_execute() */

	bool closed;
	int close_errno;    /* ECONNRESET or 0 */
	char *close_reason; /* NULL for a plain EOF */
};

static void qmp_diag(struct vmr_qmp *q, const char *fmt, ...) _printf_(2, 3);

static void qmp_diag(struct vmr_qmp *q, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	if (!q->diag_fn || q->closed)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	q->dispatching++;
	q->diag_fn(msg, q->diag_data);
	q->dispatching--;
}

static void pending_free(struct qmp_pending *p)
{
	free(p->command);
	free(p);
}

/* Remove p from the table (it must be there). */
static void pending_unlink(struct vmr_qmp *q, struct qmp_pending *p)
{
	for (struct qmp_pending **pp = &q->pending; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			p->next = NULL;
			return;
		}
	}
}

/* Run p's completion (p is already unlinked) and free it; err is handed over. */
static void pending_complete(struct vmr_qmp *q, struct qmp_pending *p, json_t *ret, int r,
			     const char *error_class, struct vmr_error *err)
{
	if (p->fn) {
		q->dispatching++;
		p->fn(ret, r, error_class, err, p->userdata);
		q->dispatching--;
	} else {
		vmr_error_free(err);
	}
	pending_free(p);
}

static void pending_fail(struct vmr_qmp *q, struct qmp_pending *p, int r, int errnum,
			 const char *error_class, const char *fmt, ...) _printf_(6, 7);

static void pending_fail(struct vmr_qmp *q, struct qmp_pending *p, int r, int errnum,
			 const char *error_class, const char *fmt, ...)
{
	_cleanup_free_ char *what = NULL;
	struct vmr_error *err = NULL;
	va_list ap;

	va_start(ap, fmt);
	what = xvasprintf(fmt, ap);
	va_end(ap);
	vmr_error_set(&err, errnum, "qmp '%s': %s", p->command, what);
	pending_complete(q, p, NULL, r, error_class, err);
}

/* Close the fds not sent yet (the output they went with is gone). */
static void outfds_drop(struct vmr_qmp *q)
{
	for (size_t i = 0; i < q->noutfds; i++)
		close(q->outfds[i].fd);
	free(q->outfds);
	q->outfds = NULL;
	q->noutfds = 0;
}

static const char *qmp_close_text(const struct vmr_qmp *q, char *tmp, size_t n)
{
	if (!q->close_reason)
		return "QMP connection closed";
	snprintf(tmp, n, "QMP connection closed (%s)", q->close_reason);
	return tmp;
}

/*
 * Enter the closed state: close the fd, then fail every pending command.
 * reason is NULL for an orderly EOF or reset.  Idempotent.
 */
static void qmp_close(struct vmr_qmp *q, int errnum, const char *reason, bool report)
{
	struct qmp_pending *list;
	char tmp[256];

	if (q->closed)
		return;
	if (report) {
		if (reason)
			qmp_diag(q, "qmp '%s': %s, disconnecting", q->name, reason);
		else if (errnum)
			qmp_diag(q, "qmp '%s': QMP connection closed: %s", q->name,
				 strerror(errnum));
		else
			qmp_diag(q, "qmp '%s': QMP connection closed", q->name);
	}
	q->closed = true;
	q->close_errno = errnum;
	q->close_reason = xstrdup(reason);
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	vmr_buf_free(&q->out);
	outfds_drop(q);
	if (!q->feeding)
		vmr_qmp_lines_free(&q->lines);

	list = TAKE_PTR(q->pending);
	while (list) {
		struct qmp_pending *p = list;

		list = p->next;
		p->next = NULL;
		pending_fail(q, p, -EPIPE, errnum, NULL, "%s", qmp_close_text(q, tmp, sizeof(tmp)));
	}
}

static int qmp_closed_error(struct vmr_qmp *q, const char *subject, struct vmr_error **err)
{
	char tmp[256];

	vmr_error_set(err, q->close_errno, "qmp '%s': %s", subject,
		      qmp_close_text(q, tmp, sizeof(tmp)));
	return -EPIPE;
}

static int qmp_busy_error(struct vmr_qmp *q, struct vmr_error **err)
{
	vmr_error_set(err, EBUSY, "qmp '%s': called from a QMP handler", q->name);
	return -EBUSY;
}

/* A message the client cannot use; too many in a row end the connection. */
static int qmp_protocol_error(struct vmr_qmp *q)
{
	if (++q->bad_messages < QMP_MAX_PROTOCOL_ERRORS)
		return 0;
	qmp_close(q, 0, "too many QMP protocol errors", true);
	return -EPIPE;
}

static struct qmp_pending *pending_find(struct vmr_qmp *q, json_t *id)
{
	uint64_t v;

	if (json_is_integer(id)) {
		if (json_integer_value(id) < 0)
			return NULL;
		v = (uint64_t)json_integer_value(id);
	} else if (json_is_real(id)) {
		/* only after the JSON_DECODE_INT_AS_REAL fallback */
		double d = json_real_value(id);

		if (!(d >= 0 && d < 9007199254740992.0) || d != (double)(uint64_t)d)
			return NULL;
		v = (uint64_t)d;
	} else {
		return NULL;
	}
	for (struct qmp_pending *p = q->pending; p; p = p->next)
		if (p->id == v)
			return p;
	return NULL;
}

/* QEMU's answer to p: a return, an error, or something malformed. */
static void qmp_on_reply(struct vmr_qmp *q, struct qmp_pending *p, json_t *msg)
{
	json_t *ret = json_object_get(msg, "return");
	json_t *error = json_object_get(msg, "error");
	const char *cls, *desc;

	pending_unlink(q, p);
	if (ret) {
		pending_complete(q, p, ret, 0, NULL, NULL);
		return;
	}
	cls = json_string_value(json_object_get(error, "class"));
	desc = json_string_value(json_object_get(error, "desc"));
	if (!cls) {
		pending_fail(q, p, -EPROTO, 0, NULL, "malformed reply");
		return;
	}
	if (desc)
		pending_fail(q, p, -EREMOTEIO, 0, cls, "%s: %s", cls, desc);
	else
		pending_fail(q, p, -EREMOTEIO, 0, cls, "%s", cls);
}

static void qmp_on_event(struct vmr_qmp *q, json_t *msg)
{
	const char *event = json_string_value(json_object_get(msg, "event"));

	if (!q->event_fn || q->closed)
		return;
	q->dispatching++;
	q->event_fn(event, json_object_get(msg, "data"), json_object_get(msg, "timestamp"),
		    q->event_data);
	q->dispatching--;
}

/*
 * Something unusable arrived: it fails the oldest pending command (the
 * one QEMU was answering when it got confused), or is only reported.
 */
static int qmp_on_garbage(struct vmr_qmp *q, const char *what)
{
	struct qmp_pending *p = q->pending;

	if (p) {
		pending_unlink(q, p);
		pending_fail(q, p, -EPROTO, 0, NULL, "malformed reply: %s", what);
	} else {
		qmp_diag(q, "qmp '%s': protocol error: %s", q->name, what);
	}
	return qmp_protocol_error(q);
}

static int qmp_on_line(const char *line, size_t len, void *userdata)
{
	struct vmr_qmp *q = userdata;
	json_t *msg, *id, *error;
	json_error_t je;
	int r = 0;

	if (q->closed)
		return -EPIPE;

	msg = json_loadb(line, len, 0, &je);
	/*
	 * jansson rejects a whole message for one integer above INT64_MAX;
	 * only then parse again with every integer as a double, so normal
	 * messages keep exact integers (thread ids, sizes) and odd ones still
	 * arrive.
	 */
	if (!msg && json_error_code(&je) == json_error_numeric_overflow)
		msg = json_loadb(line, len, JSON_DECODE_INT_AS_REAL, &je);
	if (!msg) {
		char what[JSON_ERROR_TEXT_LENGTH + 32];

		snprintf(what, sizeof(what), "invalid JSON: %s", je.text);
		return qmp_on_garbage(q, what);
	}
	if (!json_is_object(msg)) {
		json_decref(msg);
		return qmp_on_garbage(q, "not a JSON object");
	}

	id = json_object_get(msg, "id");
	error = json_object_get(msg, "error");
	if (json_is_string(json_object_get(msg, "event"))) {
		q->bad_messages = 0;
		qmp_on_event(q, msg);
	} else if (json_is_object(json_object_get(msg, "QMP"))) {
		if (q->greeting) {
			qmp_diag(q, "qmp '%s': dropped a second greeting", q->name);
			r = qmp_protocol_error(q);
		} else {
			q->bad_messages = 0;
			q->greeting = json_incref(json_object_get(msg, "QMP"));
			q->greeted = true;
		}
	} else if (id) {
		struct qmp_pending *p = pending_find(q, id);

		if (p) {
			q->bad_messages = 0;
			qmp_on_reply(q, p, msg);
		} else {
			/* a late reply after a timeout lands here: not a protocol error */
			_cleanup_free_ char *s = json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY);

			qmp_diag(q, "qmp '%s': dropped reply with unknown id %.64s", q->name,
				 s ? s : "?");
		}
	} else if (json_is_object(error) && q->pending) {
		/* errors raised before QEMU read the id carry none */
		qmp_on_reply(q, q->pending, msg);
		r = qmp_protocol_error(q);
	} else if (json_is_object(error)) {
		const char *desc = json_string_value(json_object_get(error, "desc"));

		qmp_diag(q, "qmp '%s': protocol error: error without id: %.200s", q->name,
			 desc ? desc : "?");
		r = qmp_protocol_error(q);
	} else {
		r = qmp_on_garbage(q, "unexpected message");
	}
	json_decref(msg);
	return r < 0 ? r : 0;
}

static void qmp_feed_bytes(struct vmr_qmp *q, const void *data, size_t n)
{
	int r;

	q->dispatching++;
	q->feeding = true;
	r = vmr_qmp_lines_feed(&q->lines, data, n, qmp_on_line, q);
	q->feeding = false;
	q->dispatching--;
	if (r == -EMSGSIZE) {
		char what[64];

		if (q->lines.cap == VMR_QMP_MAX_LINE)
			snprintf(what, sizeof(what), "QMP message exceeds %zu MiB",
				 VMR_QMP_MAX_LINE >> 20);
		else
			snprintf(what, sizeof(what), "QMP message exceeds %zu bytes", q->lines.cap);
		qmp_close(q, 0, what, true);
	}
	if (q->closed)
		vmr_qmp_lines_free(&q->lines);
}

int vmr_qmp_new(int fd, struct vmr_qmp **ret)
{
	_cleanup_close_ int owned = fd;
	struct vmr_qmp *q;
	int flags;

	if (fd < 0)
		return -EBADF;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	flags = fcntl(fd, F_GETFD);
	if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
		return -errno;

	q = xcalloc(1, sizeof(*q));
	q->fd = TAKE_FD(owned);
	q->name = xasprintf("fd %d", fd);
	q->next_id = 1;
	vmr_qmp_lines_init(&q->lines, 0);
	*ret = q;
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int vmr_qmp_connect_path(const char *path, int timeout_ms, struct vmr_qmp **ret,
			 struct vmr_error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint64_t deadline = timeout_ms < 0 ? 0 : now_ms() + (uint64_t)timeout_ms;
	struct vmr_qmp *q;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return vmr_error_set(err, ENAMETOOLONG, "connect qmp socket '%s'", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);

	for (;;) {
		_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return vmr_error_set(err, errno, "connect qmp socket '%s': socket", path);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			r = vmr_qmp_new(TAKE_FD(fd), &q);
			if (r < 0)
				return vmr_error_set(err, -r, "connect qmp socket '%s'", path);
			vmr_qmp_set_name(q, path);
			*ret = q;
			return 0;
		}
		r = errno;
		/* QEMU may not have created or started listening on it yet */
		if (r != ENOENT && r != ECONNREFUSED && r != EAGAIN && r != EINTR)
			return vmr_error_set(err, r, "connect qmp socket '%s'", path);
		if (deadline && now_ms() >= deadline)
			return vmr_error_set(err, r,
					     "connect qmp socket '%s' (gave up after %d ms)", path,
					     timeout_ms);
		sleep_ms(10);
	}
}

void vmr_qmp_set_name(struct vmr_qmp *q, const char *name)
{
	free(q->name);
	q->name = xstrdup(name ? name : "?");
}

void vmr_qmp_set_event_handler(struct vmr_qmp *q, vmr_qmp_event_fn fn, void *userdata)
{
	q->event_fn = fn;
	q->event_data = userdata;
}

void vmr_qmp_set_diag_handler(struct vmr_qmp *q, vmr_qmp_diag_fn fn, void *userdata)
{
	q->diag_fn = fn;
	q->diag_data = userdata;
}

void vmr_qmp_set_max_line(struct vmr_qmp *q, size_t cap)
{
	q->lines.cap = cap ? cap : VMR_QMP_MAX_LINE;
}

json_t *vmr_qmp_greeting(const struct vmr_qmp *q)
{
	return q->greeting;
}

int vmr_qmp_fd(const struct vmr_qmp *q)
{
	return q->closed ? -1 : q->fd;
}

static bool qmp_fd_gated(const struct vmr_qmp *q);

short vmr_qmp_poll_events(const struct vmr_qmp *q)
{
	return q->out.len > 0 && !qmp_fd_gated(q) ? POLLIN | POLLOUT : POLLIN;
}

bool vmr_qmp_closed(const struct vmr_qmp *q)
{
	return q->closed;
}

size_t vmr_qmp_pending_count(const struct vmr_qmp *q)
{
	size_t n = 0;

	for (const struct qmp_pending *p = q->pending; p; p = p->next)
		n++;
	return n;
}

size_t vmr_qmp_buffered(const struct vmr_qmp *q)
{
	return vmr_qmp_lines_pending(&q->lines);
}

const char *vmr_qmp_error_class(const struct vmr_qmp *q)
{
	return q->error_class;
}

int vmr_qmp_timeout(const struct vmr_qmp *q)
{
	uint64_t now, first = 0;

	if (q->closed)
		return -1;
	if (q->write_errno)
		return 0;
	for (const struct qmp_pending *p = q->pending; p; p = p->next)
		if (p->deadline && (!first || p->deadline < first))
			first = p->deadline;
	if (!first)
		return -1;
	now = now_ms();
	if (first <= now)
		return 0;
	return first - now > INT32_MAX ? INT32_MAX : (int)(first - now);
}

/* send() n bytes at p with fd as SCM_RIGHTS ancillary data */
static ssize_t send_with_fd(int sock, const void *p, size_t n, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)p, .iov_len = n};
	struct msghdr mh = {
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = u.buf,
	    .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;

	memset(&u, 0, sizeof(u));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/*
 * Whether the next message to send carries an fd while an earlier command
 * that carried one still awaits its reply.  QEMU keeps the fds of its
 * latest read and hands them to the next command that takes one (getfd),
 * and a read may hold the end of one message and the start of the next:
 * so at most one fd is in flight, and the next waits for that reply.
 */
static bool qmp_fd_gated(const struct vmr_qmp *q)
{
	if (q->noutfds == 0 || q->outfds[0].at != 0)
		return false;
	for (const struct qmp_pending *p = q->pending; p; p = p->next)
		if (p->carries_fd && p->id < q->outfds[0].id)
			return true;
	return false;
}

/*
 * Send what the socket takes now; a failure is acted on after reads
 * drain.  A message carrying an fd starts a sendmsg() of its own (the
 * kernel attaches the fd to its first byte) and waits for the previous
 * fd's command to be answered (qmp_fd_gated()).
 */
static void qmp_flush(struct vmr_qmp *q)
{
	while (q->out.len > 0 && !q->write_errno && !qmp_fd_gated(q)) {
		size_t len = q->out.len;
		int fd = -1;
		ssize_t n;

		if (q->noutfds > 0) {
			if (q->outfds[0].at == 0) {
				fd = q->outfds[0].fd;
				if (q->noutfds > 1)
					len = q->outfds[1].at;
			} else {
				len = q->outfds[0].at;
			}
		}
		if (fd >= 0)
			n = send_with_fd(q->fd, q->out.s, len, fd);
		else
			n = send(q->fd, q->out.s, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			q->write_errno = errno;
			vmr_buf_reset(&q->out);
			outfds_drop(q);
			return;
		}
		if (fd >= 0) {
			/* it went with the first byte: the peer has its own copy */
			close(fd);
			q->noutfds--;
			memmove(q->outfds, q->outfds + 1, q->noutfds * sizeof(*q->outfds));
		}
		vmr_buf_consume(&q->out, (size_t)n);
		for (size_t i = 0; i < q->noutfds; i++)
			q->outfds[i].at -= (size_t)n;
	}
}

static int qmp_send(struct vmr_qmp *q, const char *command, json_t *args, int fd, int timeout_ms,
		    vmr_qmp_reply_fn fn, void *userdata, uint64_t *ret_id, struct vmr_error **err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int copy = -1;
	struct qmp_pending *p, **tail;
	json_t *msg;

	if (!command)
		return vmr_error_set(err, EINVAL, "qmp '%s': no command", q->name);
	if (q->closed)
		return qmp_closed_error(q, command, err);
	if (fd >= 0) {
		/* ours until sent: the caller may close its fd at once */
		copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (copy < 0)
			return vmr_error_set(err, errno, "qmp '%s': duplicate the fd to pass",
					     command);
	}

	msg = json_pack("{s:s, s:I}", "execute", command, "id", (json_int_t)q->next_id);
	if (!msg)
		abort();
	if (args && json_object_set(msg, "arguments", args) < 0)
		abort();
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!text)
		return vmr_error_set(err, EINVAL, "qmp '%s': cannot encode the arguments", command);

	p = xcalloc(1, sizeof(*p));
	p->id = q->next_id++;
	p->command = xstrdup(command);
	p->fn = fn;
	p->userdata = userdata;
	p->timeout_ms = timeout_ms;
	p->carries_fd = copy >= 0;
	if (timeout_ms >= 0)
		p->deadline = now_ms() + (uint64_t)timeout_ms + (timeout_ms == 0);
	for (tail = &q->pending; *tail; tail = &(*tail)->next)
		;
	*tail = p;

	if (copy >= 0) {
		q->outfds = xrealloc(q->outfds, (q->noutfds + 1) * sizeof(*q->outfds));
		q->outfds[q->noutfds++] =
		    (struct qmp_outfd){.at = q->out.len, .fd = TAKE_FD(copy), .id = p->id};
	}
	vmr_buf_adds(&q->out, text);
	vmr_buf_addc(&q->out, '\n');
	qmp_flush(q);
	if (ret_id)
		*ret_id = p->id;
	return 0;
}

int vmr_qmp_send(struct vmr_qmp *q, const char *command, json_t *args, int timeout_ms,
		 vmr_qmp_reply_fn fn, void *userdata, uint64_t *ret_id, struct vmr_error **err)
{
	return qmp_send(q, command, args, -1, timeout_ms, fn, userdata, ret_id, err);
}

int vmr_qmp_send_fd(struct vmr_qmp *q, const char *command, json_t *args, int fd, int timeout_ms,
		    vmr_qmp_reply_fn fn, void *userdata, uint64_t *ret_id, struct vmr_error **err)
{
	if (fd < 0)
		return vmr_error_set(err, EBADF, "qmp '%s': no fd to pass",
				     command ? command : "?");
	return qmp_send(q, command, args, fd, timeout_ms, fn, userdata, ret_id, err);
}

/* Fail the commands whose deadline has passed. */
static void qmp_expire(struct vmr_qmp *q)
{
	uint64_t now = now_ms();
	struct qmp_pending *p;

again:
	for (p = q->pending; p; p = p->next) {
		if (p->deadline && p->deadline <= now) {
			pending_unlink(q, p);
			pending_fail(q, p, -ETIMEDOUT, ETIMEDOUT, NULL, "no reply within %d ms",
				     p->timeout_ms);
			/* the completion may have queued more: rescan */
			goto again;
		}
	}
}

static void qmp_process_now(struct vmr_qmp *q)
{
	char buf[QMP_READ_CHUNK];

	if (q->closed)
		return;
	qmp_flush(q);
	for (int i = 0; i < QMP_READS_PER_PROCESS && !q->closed; i++) {
		ssize_t n = recv(q->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			qmp_feed_bytes(q, buf, (size_t)n);
			continue;
		}
		if (n == 0) {
			qmp_close(q, 0, NULL, true);
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			/* replies queued before the peer went away have been read */
			if (q->write_errno)
				qmp_close(q, q->write_errno, NULL, true);
			break;
		}
		/* ECONNRESET: QEMU exited with our last command unread; same as EOF */
		qmp_close(q, errno, NULL, true);
	}
	if (!q->closed)
		qmp_expire(q);
	/* a reply may have let a message with an fd go */
	if (!q->closed)
		qmp_flush(q);
}

int vmr_qmp_process(struct vmr_qmp *q, struct vmr_error **err)
{
	if (q->dispatching)
		return qmp_busy_error(q, err);
	qmp_process_now(q);
	if (q->closed)
		return qmp_closed_error(q, q->name, err);
	return 0;
}

int vmr_qmp_feed(struct vmr_qmp *q, const void *data, size_t n)
{
	if (q->dispatching)
		return -EBUSY;
	if (!q->closed) {
		if (n == 0)
			qmp_close(q, 0, NULL, true);
		else
			qmp_feed_bytes(q, data, n);
	}
	return q->closed ? -EPIPE : 0;
}

/*
 * Poll and process until *done, the connection closes (-EPIPE), or the
 * deadline (0 = none) passes (-ETIMEDOUT).  Pending deadlines are enforced
 * on the way, so a command's own timeout ends the wait through *done.
 */
static int qmp_wait(struct vmr_qmp *q, const bool *done, uint64_t deadline, struct vmr_error **err)
{
	while (!*done) {
		struct pollfd pfd;
		int t;

		if (q->closed)
			return -EPIPE;
		t = vmr_qmp_timeout(q);
		if (deadline) {
			uint64_t now = now_ms();
			int rem;

			if (now >= deadline)
				return -ETIMEDOUT;
			rem = deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now);
			if (t < 0 || rem < t)
				t = rem;
		}
		pfd = (struct pollfd){.fd = q->fd, .events = vmr_qmp_poll_events(q)};
		if (poll(&pfd, 1, t) < 0 && errno != EINTR)
			return vmr_error_set(err, errno, "qmp '%s': poll", q->name);
		qmp_process_now(q);
	}
	return 0;
}

/* Forget the command completing into userdata, without completing it. */
static void pending_drop(struct vmr_qmp *q, void *userdata)
{
	for (struct qmp_pending *p = q->pending; p; p = p->next) {
		if (p->userdata == userdata) {
			pending_unlink(q, p);
			pending_free(p);
			return;
		}
	}
}

struct qmp_sync {
	bool done;
	int r;
	json_t *ret;
	char *error_class;
	struct vmr_error *err;
};

static void qmp_sync_done(json_t *ret, int r, const char *error_class, struct vmr_error *err,
			  void *userdata)
{
	struct qmp_sync *s = userdata;

	s->done = true;
	s->r = r;
	s->ret = json_incref(ret);
	s->error_class = xstrdup(error_class);
	s->err = err;
}

static int qmp_execute(struct vmr_qmp *q, const char *command, json_t *args, int fd, int timeout_ms,
		       json_t **ret_return, struct vmr_error **err)
{
	struct qmp_sync s = {0};
	int r;

	if (q->dispatching)
		return qmp_busy_error(q, err);
	free(q->error_class);
	q->error_class = NULL;

	r = qmp_send(q, command, args, fd, timeout_ms, qmp_sync_done, &s, NULL, err);
	if (r < 0)
		return r;
	r = qmp_wait(q, &s.done, 0, err);
	if (r < 0 && !s.done) {
		/* poll failed: the entry must not outlive s */
		pending_drop(q, &s);
		return r;
	}
	if (s.r < 0) {
		q->error_class = TAKE_PTR(s.error_class);
		if (err) {
			vmr_error_free(*err);
			*err = TAKE_PTR(s.err);
		}
		vmr_error_free(s.err);
		return s.r;
	}
	if (ret_return)
		*ret_return = TAKE_PTR(s.ret);
	json_decref(s.ret);
	return 0;
}

int vmr_qmp_execute(struct vmr_qmp *q, const char *command, json_t *args, int timeout_ms,
		    json_t **ret_return, struct vmr_error **err)
{
	return qmp_execute(q, command, args, -1, timeout_ms, ret_return, err);
}

int vmr_qmp_execute_fd(struct vmr_qmp *q, const char *command, json_t *args, int fd, int timeout_ms,
		       json_t **ret_return, struct vmr_error **err)
{
	if (fd < 0)
		return vmr_error_set(err, EBADF, "qmp '%s': no fd to pass",
				     command ? command : "?");
	return qmp_execute(q, command, args, fd, timeout_ms, ret_return, err);
}

int vmr_qmp_handshake(struct vmr_qmp *q, int timeout_ms, struct vmr_error **err)
{
	uint64_t deadline = timeout_ms < 0 ? 0 : now_ms() + (uint64_t)timeout_ms + 1;
	int r, rem = -1;

	if (q->dispatching)
		return qmp_busy_error(q, err);
	if (q->negotiated)
		return 0;
	if (q->closed)
		return qmp_closed_error(q, q->name, err);

	if (!q->greeted) {
		r = qmp_wait(q, &q->greeted, deadline, err);
		if (r == -ETIMEDOUT) {
			vmr_error_set(err, ETIMEDOUT, "qmp '%s': no greeting within %d ms", q->name,
				      timeout_ms);
			return r;
		}
		if (r == -EPIPE) {
			char tmp[256];

			vmr_error_set(err, q->close_errno, "qmp '%s': %s before the greeting",
				      q->name, qmp_close_text(q, tmp, sizeof(tmp)));
			return r;
		}
		if (r < 0)
			return r;
	}
	if (deadline) {
		uint64_t now = now_ms();

		rem = now >= deadline ? 0 : (int)(deadline - now);
	}
	r = vmr_qmp_execute(q, "qmp_capabilities", NULL, rem, NULL, err);
	if (r < 0) {
		vmr_error_wrap(err, "handshake with '%s'", q->name);
		return r;
	}
	q->negotiated = true;
	return 0;
}

void vmr_qmp_free(struct vmr_qmp *q)
{
	if (!q)
		return;
	qmp_close(q, 0, NULL, false);
	vmr_qmp_lines_free(&q->lines);
	json_decref(q->greeting);
	free(q->error_class);
	free(q->close_reason);
	free(q->name);
	free(q);
}
