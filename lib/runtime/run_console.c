/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest console fan-out: QEMU's serial port to stdout, console.log and
 * console clients; one client's input back to the guest.  Nothing here
 * waits for a reader: a reader that does not keep up loses output.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "lib/runtime/run.h"
#include "lib/base/util.h"

#define READ_CHUNK 65536

int run_caplog_open(struct run_caplog *l, const char *path, size_t cap, struct vmr_error **err)
{
	struct stat st;

	if (stat(path, &st) == 0 && st.st_size > 0) {
		_cleanup_free_ char *old = xasprintf("%s.1", path);

		/* keep the previous run's log for a post-mortem */
		if (rename(path, old) < 0)
			return vmr_error_set(err, errno, "rotate '%s'", path);
	}
	l->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (l->fd < 0)
		return vmr_error_set(err, errno, "create '%s'", path);
	l->path = xstrdup(path);
	l->size = 0;
	l->cap = cap;
	return 0;
}

void run_caplog_write(struct run_caplog *l, const void *data, size_t n)
{
	if (l->fd < 0 || n == 0)
		return;
	if (l->size > 0 && l->size + n > l->cap) {
		_cleanup_free_ char *old = xasprintf("%s.1", l->path);
		int fd;

		if (rename(l->path, old) == 0) {
			fd = open(l->path,
				  O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
				  0600);
			if (fd >= 0) {
				close(l->fd);
				l->fd = fd;
				l->size = 0;
			}
		}
	}
	/* a full disk must not stop the guest: the log is best effort */
	if (write_all(l->fd, data, n) == 0)
		l->size += n;
}

void run_caplog_close(struct run_caplog *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	free(l->path);
	l->path = NULL;
}

void run_outq_add(struct run_outq *q, const void *data, size_t n)
{
	size_t room = q->cap > q->buf.len ? q->cap - q->buf.len : 0;

	if (n > room) {
		q->dropped += n - room;
		n = room;
	}
	if (n)
		vmr_buf_add(&q->buf, data, n);
}

int run_outq_flush(struct run_outq *q, int fd, int send_flags)
{
	while (q->buf.len > 0) {
		ssize_t w = send_flags ? send(fd, q->buf.s, q->buf.len, send_flags)
				       : write(fd, q->buf.s, q->buf.len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		vmr_buf_consume(&q->buf, (size_t)w);
	}
	return 0;
}

/*
 * A descriptor for our stdout that never blocks us: pipes and terminals are
 * reopened through /proc so O_NONBLOCK applies to our description only
 * (not to the shell or container runtime that shares fd 1); sockets get
 * MSG_DONTWAIT; regular files never block.
 */
static int out_open(int fd, int *ret_send_flags)
{
	struct stat st;
	int nfd;

	*ret_send_flags = 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	if (S_ISSOCK(st.st_mode)) {
		*ret_send_flags = MSG_DONTWAIT | MSG_NOSIGNAL;
		return fcntl(fd, F_DUPFD_CLOEXEC, 3);
	}
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		_cleanup_free_ char *p = xasprintf("/proc/self/fd/%d", fd);

		nfd = open(p, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (nfd >= 0)
			return nfd;
	}
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

int run_console_init(struct run_console *c, int serial_fd, int out_fd, const char *log_path,
		     int listen_fd, struct vmr_error **err)
{
	int r;

	*c = (struct run_console){
	    .serial_fd = serial_fd,
	    .to_guest.cap = RUN_TO_GUEST_CAP,
	    .out_fd = -1,
	    .out.cap = RUN_CLIENT_OUT_CAP,
	    .log.fd = -1,
	    .listen_fd = listen_fd,
	    .next_id = 1,
	};
	r = run_fd_nonblock(serial_fd);
	if (r < 0)
		return vmr_error_set(err, -r, "make the serial connection non-blocking");
	c->out_fd = out_open(out_fd, &c->out_send_flags);
	return run_caplog_open(&c->log, log_path, RUN_CONSOLE_LOG_CAP, err);
}

static void client_drop(struct run_console *c, size_t i)
{
	close(c->clients[i]->fd);
	vmr_buf_free(&c->clients[i]->out.buf);
	free(c->clients[i]);
	/* keep connection order: the oldest client is the writer */
	memmove(&c->clients[i], &c->clients[i + 1], (c->nclients - i - 1) * sizeof(c->clients[0]));
	c->nclients--;
}

static void console_accept(struct run_console *c)
{
	for (;;) {
		struct run_console_client *cl;
		int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return;
		if (c->nclients == RUN_MAX_CLIENTS) {
			static const char full[] = "vmrun: too many console clients\r\n";

			(void)!send(fd, full, sizeof(full) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		cl = xcalloc(1, sizeof(*cl));
		cl->fd = fd;
		cl->id = c->next_id++;
		cl->out.cap = RUN_CLIENT_OUT_CAP;
		c->clients[c->nclients++] = cl;
	}
}

/* Guest output: to every reader, never waiting for one. */
static void console_output(struct run_console *c, const char *data, size_t n)
{
	run_caplog_write(&c->log, data, n);
	if (c->on_output)
		c->on_output(data, n, c->on_output_userdata);
	if (c->out_fd >= 0) {
		run_outq_add(&c->out, data, n);
		if (run_outq_flush(&c->out, c->out_fd, c->out_send_flags) < 0) {
			/* stdout is gone (reader closed): keep the log going */
			close(c->out_fd);
			c->out_fd = -1;
			vmr_buf_free(&c->out.buf);
		}
	}
	for (size_t i = 0; i < c->nclients;) {
		struct run_console_client *cl = c->clients[i];

		run_outq_add(&cl->out, data, n);
		if (run_outq_flush(&cl->out, cl->fd, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			client_drop(c, i);
			continue;
		}
		i++;
	}
}

/* Returns 1 after reading data, 0 when nothing is there now, -1 once closed. */
static int serial_read(struct run_console *c)
{
	char buf[READ_CHUNK];
	ssize_t n;

	n = read(c->serial_fd, buf, sizeof(buf));
	if (n > 0) {
		console_output(c, buf, (size_t)n);
		return 1;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	/* EOF or error: QEMU is going away; the supervisor sees it exit */
	close(c->serial_fd);
	c->serial_fd = -1;
	return -1;
}

static void client_read(struct run_console *c, size_t i)
{
	struct run_console_client *cl = c->clients[i];
	char buf[4096];
	ssize_t n = read(cl->fd, buf, sizeof(buf));

	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		client_drop(c, i);
		return;
	}
	/* only the oldest client types into the guest; the others watch */
	if (n > 0 && i == 0 && c->serial_fd >= 0) {
		run_outq_add(&c->to_guest, buf, (size_t)n);
		if (run_outq_flush(&c->to_guest, c->serial_fd, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			vmr_buf_reset(&c->to_guest.buf);
	}
}

size_t run_console_poll(const struct run_console *c, struct pollfd *pfd)
{
	size_t n = 0;

	pfd[n++] = (struct pollfd){.fd = c->serial_fd,
				   .events = (short)(POLLIN | (c->to_guest.buf.len ? POLLOUT : 0))};
	pfd[n++] = (struct pollfd){.fd = c->out.buf.len ? c->out_fd : -1, .events = POLLOUT};
	pfd[n++] = (struct pollfd){.fd = c->listen_fd, .events = POLLIN};
	for (size_t i = 0; i < c->nclients; i++)
		pfd[n++] = (struct pollfd){
		    .fd = c->clients[i]->fd,
		    .events = (short)(POLLIN | (c->clients[i]->out.buf.len ? POLLOUT : 0)),
		};
	return n;
}

void run_console_dispatch(struct run_console *c, const struct pollfd *pfd, size_t n)
{
	uint64_t ids[RUN_MAX_CLIENTS];
	size_t nids = n > 3 ? n - 3 : 0;

	/*
	 * pfd[3 + k] belongs to the k-th client at poll time; the guest's
	 * output below may drop clients, so remember who each slot was first.
	 */
	if (nids > c->nclients)
		nids = c->nclients;
	for (size_t k = 0; k < nids; k++)
		ids[k] = c->clients[k]->id;
	if (pfd[0].fd >= 0 && pfd[0].fd == c->serial_fd) {
		if (pfd[0].revents & POLLOUT &&
		    run_outq_flush(&c->to_guest, c->serial_fd, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			vmr_buf_reset(&c->to_guest.buf);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			(void)serial_read(c);
	}
	if (pfd[1].fd >= 0 && pfd[1].fd == c->out_fd && pfd[1].revents &&
	    run_outq_flush(&c->out, c->out_fd, c->out_send_flags) < 0) {
		close(c->out_fd);
		c->out_fd = -1;
		vmr_buf_free(&c->out.buf);
	}
	/* clients may come and go below: find each by id, not by slot */
	for (size_t k = 0; k < nids; k++) {
		short rev = pfd[3 + k].revents;
		size_t i;

		for (i = 0; i < c->nclients && c->clients[i]->id != ids[k]; i++)
			;
		if (i == c->nclients || !rev)
			continue;
		if (rev & POLLOUT && run_outq_flush(&c->clients[i]->out, c->clients[i]->fd,
						    MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			client_drop(c, i);
			continue;
		}
		if (rev & (POLLIN | POLLHUP | POLLERR))
			client_read(c, i);
	}
	if (pfd[2].fd >= 0 && pfd[2].revents & POLLIN)
		console_accept(c);
}

void run_console_drain(struct run_console *c, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	/* QEMU is gone: what the socket holds is the last of the output */
	while (c->serial_fd >= 0 && serial_read(c) > 0)
		;
	while (c->out_fd >= 0 && c->out.buf.len > 0) {
		struct pollfd p = {.fd = c->out_fd, .events = POLLOUT};
		uint64_t now = now_ms();

		if (now >= deadline)
			break;
		if (poll(&p, 1, (int)(deadline - now)) <= 0)
			break;
		if (run_outq_flush(&c->out, c->out_fd, c->out_send_flags) < 0)
			break;
	}
	for (size_t i = 0; i < c->nclients; i++)
		(void)run_outq_flush(&c->clients[i]->out, c->clients[i]->fd,
				     MSG_DONTWAIT | MSG_NOSIGNAL);
}

void run_console_close(struct run_console *c)
{
	while (c->nclients > 0)
		client_drop(c, c->nclients - 1);
	if (c->serial_fd >= 0)
		close(c->serial_fd);
	c->serial_fd = -1;
	if (c->out_fd >= 0)
		close(c->out_fd);
	c->out_fd = -1;
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	c->listen_fd = -1;
	vmr_buf_free(&c->out.buf);
	vmr_buf_free(&c->to_guest.buf);
	run_caplog_close(&c->log);
}
