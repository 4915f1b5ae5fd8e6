/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private listening unix sockets (lib/base/unixsock.h). */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "lib/base/unixsock.h"
#include "lib/base/util.h"

int vmr_unix_listen(const char *path, int backlog, bool nonblock, struct vmr_error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	size_t len = strlen(path);
	struct stat st;
	mode_t old;
	int r;

	if (len >= sizeof(sa.sun_path)) {
		vmr_error_set(err, ENAMETOOLONG, "socket path '%s'", path);
		vmr_error_hint(err,
			       "unix socket paths are limited to %zu bytes: use a shorter "
			       "state_dir",
			       sizeof(sa.sun_path) - 1);
		return vmr_error_ret(*err);
	}
	memcpy(sa.sun_path, path, len + 1);
	/* only a socket is ever replaced: a regular file there is a mistake */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return vmr_error_set(err, EEXIST, "create socket '%s': not a socket", path);
		if (unlink(path) < 0)
			return vmr_error_set(err, errno, "remove stale socket '%s'", path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return vmr_error_set(err, errno, "create socket '%s'", path);
	if (fchmod(fd, VMR_SOCKET_MODE) < 0)
		return vmr_error_set(err, errno, "create socket '%s': fchmod", path);
	old = umask(0777 & ~VMR_SOCKET_MODE);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r < 0)
		r = -errno;
	umask(old);
	if (r < 0)
		return vmr_error_set(err, -r, "bind socket '%s'", path);
	if (listen(fd, backlog) < 0)
		return vmr_error_set(err, errno, "listen on socket '%s'", path);
	return TAKE_FD(fd);
}
