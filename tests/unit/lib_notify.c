/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/base/notify.c: sd_notify(3)'s protocol without libsystemd */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "lib/base/notify.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

/* A receiving socket as `vmrun up` and systemd make one: datagrams, SO_PASSCRED. */
static int receiver(const char *name, bool abstract)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	int one = 1, fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memcpy(sa.sun_path + abstract, name, strlen(name));
	len += 1; /* the abstract name's leading NUL, or the path's trailing one */
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The next datagram on fd, NUL-terminated, and the sender's pid from its credentials. */
static ssize_t receive(int fd, char *buf, size_t size, pid_t *pid)
{
	char ctl[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

	*pid = 0;
	if (n < 0)
		return n;
	buf[n] = '\0';
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
			*pid = ((const struct ucred *)(void *)CMSG_DATA(c))->pid;
	return n;
}

int main(void)
{
	char dir[] = "/tmp/vmrt-notify.XXXXXX", buf[256], name[64], longpath[200];
	_cleanup_free_ char *path = NULL, *env = NULL;
	pid_t pid;
	int fd;

	unsetenv("NOTIFY_SOCKET");
	is_int(vmr_notify("READY=1"), 0, "no NOTIFY_SOCKET: nothing sent, 0");
	setenv("NOTIFY_SOCKET", "", 1);
	is_int(vmr_notify("READY=1"), 0, "an empty NOTIFY_SOCKET: 0");
	setenv("NOTIFY_SOCKET", "relative/sock", 1);
	is_int(vmr_notify("READY=1"), -EINVAL, "a relative path: -EINVAL");
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longpath, 1);
	is_int(vmr_notify("READY=1"), -EINVAL, "a path longer than sun_path: -EINVAL");

	/* an abstract name, as `vmrun up` gives its supervisors */
	snprintf(name, sizeof(name), "vmrt-notify/%d", (int)getpid());
	fd = receiver(name, true);
	ok(fd >= 0, "abstract receiver");
	env = xasprintf("@%s", name);
	setenv("NOTIFY_SOCKET", env, 1);
	is_int(vmr_notifyf("READY=1\nSTATUS=running (qemu pid %d)", 42), 1, "abstract: sent");
	ok(receive(fd, buf, sizeof(buf), &pid) > 0, "abstract: received");
	is_str(buf, "READY=1\nSTATUS=running (qemu pid 42)",
	       "abstract: the whole message, one datagram");
	is_int(pid, getpid(), "abstract: the receiver knows the sender's pid");
	close(fd);
	is_int(vmr_notify("STOPPING=1"), -ECONNREFUSED,
	       "abstract: nobody listening: -ECONNREFUSED");

	/* a path, as systemd gives its Type=notify services */
	ok(mkdtemp(dir) != NULL, "temporary directory");
	path = xasprintf("%s/notify", dir);
	fd = receiver(path, false);
	ok(fd >= 0, "path receiver");
	setenv("NOTIFY_SOCKET", path, 1);
	is_int(vmr_notify("STOPPING=1"), 1, "path: sent");
	ok(receive(fd, buf, sizeof(buf), &pid) > 0, "path: received");
	is_str(buf, "STOPPING=1", "path: the message");
	is_int(pid, getpid(), "path: the sender's pid");
	close(fd);
	unlink(path);
	is_int(vmr_notify("STOPPING=1"), -ENOENT, "path: no socket: -ENOENT");
	rmdir(dir);
	return tap_done();
}
