/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The client side of a supervisor's control socket (for vmrun ps/stop/kill/qmp). */
#include <poll.h>
#include <sys/socket.h>

#include "lib/buf.h"
#include "lib/run.h"
#include "lib/statedir.h"
#include "lib/supervisor.h"
#include "lib/util.h"

/* a status or QMP reply; anything longer is not from our supervisor */
#define REPLY_MAX (16u << 20)

static int wait_fd(int fd, short events, uint64_t deadline, bool forever)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do {
		uint64_t now = now_ms();
		int t = forever ? -1 : now >= deadline ? 0 : (int)(deadline - now);

		r = poll(&p, 1, t);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

int vmr_supervisor_request(const char *state_dir, const char *guest, json_t *request,
			   int timeout_ms, json_t **ret_reply, struct vmr_error **err)
{
	_cleanup_free_ char *path = vmr_statedir_path(state_dir, guest, "control.sock");
	_cleanup_free_ char *line = NULL;
	_cleanup_close_ int fd = -1;
	struct vmr_buf in = VMR_BUF_INIT;
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	bool forever = timeout_ms < 0;
	struct vmr_error *cerr = NULL;
	json_error_t jerr;
	char *text, *nl;
	size_t off = 0;
	int r;

	fd = run_socket_connect(path, &cerr);
	if (fd < 0) {
		r = fd;
		if (cerr && (cerr->errnum == ENOENT || cerr->errnum == ECONNREFUSED)) {
			vmr_error_free(cerr);
			return vmr_error_set(err, -r, "guest '%s' is not running", guest);
		}
		vmr_error_clear(err);
		if (err)
			*err = cerr;
		else
			vmr_error_free(cerr);
		return r;
	}
	r = run_fd_nonblock(fd);
	if (r < 0)
		return vmr_error_set(err, -r, "control socket '%s'", path);
	text = json_dumps(request, JSON_COMPACT);
	if (!text)
		return vmr_error_set(err, EINVAL, "request for guest '%s' is not valid JSON", guest);
	line = xasprintf("%s\n", text);
	free(text);

	while (line[off]) {
		ssize_t w = send(fd, line + off, strlen(line + off), MSG_NOSIGNAL);

		if (w >= 0) {
			off += (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return vmr_error_set(err, errno, "send to '%s'", path);
		r = wait_fd(fd, POLLOUT, deadline, forever);
		if (r < 0)
			return vmr_error_set(err, -r, "send to '%s'", path);
	}
	for (;;) {
		char buf[65536];
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n > 0) {
			vmr_buf_add(&in, buf, (size_t)n);
			if (memchr(buf, '\n', (size_t)n))
				break;
			if (in.len > REPLY_MAX) {
				vmr_buf_free(&in);
				return vmr_error_set(err, EMSGSIZE, "reply from '%s' too long", path);
			}
			continue;
		}
		if (n == 0) {
			vmr_buf_free(&in);
			return vmr_error_set(err, ECONNRESET,
					     "guest '%s': supervisor closed the control socket", guest);
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			r = -errno;
			vmr_buf_free(&in);
			return vmr_error_set(err, -r, "read from '%s'", path);
		}
		r = wait_fd(fd, POLLIN, deadline, forever);
		if (r < 0) {
			vmr_buf_free(&in);
			if (r == -ETIMEDOUT)
				return vmr_error_set(err, ETIMEDOUT,
						     "guest '%s': no reply within %d ms", guest,
						     timeout_ms);
			return vmr_error_set(err, -r, "read from '%s'", path);
		}
	}
	nl = memchr(in.s, '\n', in.len);
	*ret_reply = json_loadb(in.s, (size_t)(nl - in.s), 0, &jerr);
	vmr_buf_free(&in);
	if (!*ret_reply)
		return vmr_error_set(err, EPROTO, "reply from '%s': %s", path, jerr.text);
	return 0;
}
