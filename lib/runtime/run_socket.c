/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unix socket helpers for the supervisor and its clients. */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "lib/runtime/run.h"
#include "lib/base/unixsock.h"
#include "lib/base/util.h"

static int sockaddr_fill(struct sockaddr_un *sa, const char *path, struct vmr_error **err)
{
	size_t len = strlen(path);

	if (len >= sizeof(sa->sun_path)) {
		vmr_error_set(err, ENAMETOOLONG, "socket path '%s'", path);
		vmr_error_hint(err,
			       "unix socket paths are limited to %zu bytes: use a shorter "
			       "state_dir",
			       sizeof(sa->sun_path) - 1);
		return vmr_error_ret(*err);
	}
	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	memcpy(sa->sun_path, path, len + 1);
	return 0;
}

int run_fd_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int run_socket_listen(const char *path, int backlog, bool nonblock, struct vmr_error **err)
{
	return vmr_unix_listen(path, backlog, nonblock, err);
}

int run_socket_connect(const char *path, struct vmr_error **err)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa;
	int r;

	r = sockaddr_fill(&sa, path, err);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vmr_error_set(err, errno, "create socket for '%s'", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return vmr_error_set(err, errno, "connect to '%s'", path);
	return TAKE_FD(fd);
}
