/* SPDX-License-Identifier: GPL-2.0-or-later */
/* QEMU's private mount namespace (lib/base/mountns.h). */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lib/base/mountns.h"
#include "lib/base/util.h"

/* small: it holds directories and empty files to bind onto */
#define DEV_TMPFS_OPTS "mode=0755,size=64k,nr_inodes=256"

const char *const vmr_mountns_base_nodes[] = {"null", "zero", "full", "random", "urandom", NULL};

static struct vmr_mount *mount_new(struct vmr_mountns *m, enum vmr_mount_kind kind)
{
	struct vmr_mount *e;

	XGROW(m->v, m->alloc, m->n + 1);
	e = &m->v[m->n++];
	*e = (struct vmr_mount){.kind = kind, .fd = -1};
	return e;
}

static bool have_dst(const struct vmr_mountns *m, const char *dst)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].dst && streq(m->v[i].dst, dst))
			return true;
	return false;
}

int vmr_mountns_add_dev(struct vmr_mountns *m, const char *src, const char *dst, bool required,
			struct vmr_error **err)
{
	struct stat st;
	struct vmr_mount *e;

	if (!startswith(dst, "/dev/") || strstr(dst, "/../") || strstr(dst, "/./") ||
	    dst[strlen(dst) - 1] == '/')
		return vmr_error_set(err, EINVAL, "private /dev: bad node path '%s'", dst);
	if (stat(src, &st) < 0) {
		if (errno == ENOENT && !required)
			return 0;
		return vmr_error_set(err, errno, "private /dev: stat '%s'", src);
	}
	if (have_dst(m, dst))
		return 0;
	/* the directories between /dev and the node, outermost first */
	for (const char *p = strchr(dst + strlen("/dev/"), '/'); p; p = strchr(p + 1, '/')) {
		_cleanup_free_ char *dir = xstrndup(dst, (size_t)(p - dst));

		if (!have_dst(m, dir))
			mount_new(m, VMR_MOUNT_MKDIR)->dst = TAKE_PTR(dir);
	}
	e = mount_new(m, S_ISDIR(st.st_mode) ? VMR_MOUNT_TREE : VMR_MOUNT_NODE);
	e->src = xstrdup(src);
	e->dst = xstrdup(dst);
	return 0;
}

int vmr_mountns_add_ro(struct vmr_mountns *m, const char *path, struct vmr_error **err)
{
	struct stat st;
	struct vmr_mount *e;

	if (path[0] != '/')
		return vmr_error_set(err, EINVAL, "read-only mount: '%s' is not absolute", path);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || have_dst(m, path))
		return 0;
	e = mount_new(m, VMR_MOUNT_RO);
	e->src = xstrdup(path);
	e->dst = xstrdup(path);
	return 0;
}

/* "/proc/self/fd/N" into e->fdpath, without stdio (async-signal-safe) */
static void fd_path(struct vmr_mount *e)
{
	static const char pre[] = "/proc/self/fd/";
	char digits[12];
	int n = 0, v = e->fd;
	size_t i = sizeof(pre) - 1;

	memcpy(e->fdpath, pre, i);
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && n < (int)sizeof(digits));
	while (n > 0)
		e->fdpath[i++] = digits[--n];
	e->fdpath[i] = '\0';
}

static int fail(int step, int index, int *ret_step, int *ret_index)
{
	int e = errno;

	*ret_step = step;
	*ret_index = index;
	return -e;
}

int vmr_mountns_apply(struct vmr_mountns *m, int *ret_step, int *ret_index)
{
	bool dev = false;
	int fd;

	if (unshare(CLONE_NEWNS) < 0)
		return fail(VMR_MOUNTNS_UNSHARE, -1, ret_step, ret_index);
	/* nothing mounted below may reach the host's namespace */
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail(VMR_MOUNTNS_PRIVATE, -1, ret_step, ret_index);
	/* the host's nodes, before the tmpfs hides them */
	for (size_t i = 0; i < m->n; i++) {
		struct vmr_mount *e = &m->v[i];

		if (e->kind == VMR_MOUNT_RO)
			continue;
		dev = true;
		if (e->kind == VMR_MOUNT_MKDIR)
			continue;
		e->fd = open(e->src, O_PATH | O_CLOEXEC);
		if (e->fd < 0)
			return fail(VMR_MOUNTNS_OPEN, (int)i, ret_step, ret_index);
		fd_path(e);
	}
	if (dev) {
		if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, DEV_TMPFS_OPTS) < 0)
			return fail(VMR_MOUNTNS_TMPFS, -1, ret_step, ret_index);
		for (size_t i = 0; i < m->n; i++) {
			struct vmr_mount *e = &m->v[i];

			switch (e->kind) {
			case VMR_MOUNT_MKDIR:
			case VMR_MOUNT_TREE:
				if (mkdir(e->dst, 0755) < 0)
					return fail(VMR_MOUNTNS_MKDIR, (int)i, ret_step, ret_index);
				break;
			case VMR_MOUNT_NODE:
				fd = open(e->dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
				if (fd < 0)
					return fail(VMR_MOUNTNS_MKNODE, (int)i, ret_step,
						    ret_index);
				close(fd);
				break;
			case VMR_MOUNT_RO:
				continue;
			}
			if (e->kind == VMR_MOUNT_MKDIR)
				continue;
			/* the same inode: the host node's owner and mode */
			if (mount(e->fdpath, e->dst, NULL, MS_BIND | MS_REC, NULL) < 0)
				return fail(VMR_MOUNTNS_BIND, (int)i, ret_step, ret_index);
			close(e->fd);
			e->fd = -1;
		}
		/* the binds are mounts of their own and stay writable */
		if (mount("tmpfs", "/dev", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
			  DEV_TMPFS_OPTS) < 0)
			return fail(VMR_MOUNTNS_DEV_RO, -1, ret_step, ret_index);
	}
	for (size_t i = 0; i < m->n; i++) {
		struct vmr_mount *e = &m->v[i];

		if (e->kind != VMR_MOUNT_RO)
			continue;
		if (mount(e->src, e->dst, NULL, MS_BIND, NULL) < 0)
			return fail(VMR_MOUNTNS_BIND, (int)i, ret_step, ret_index);
		/* only adds restrictions: allowed where the source's flags are locked */
		if (mount(NULL, e->dst, NULL,
			  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL) < 0)
			return fail(VMR_MOUNTNS_REMOUNT_RO, (int)i, ret_step, ret_index);
	}
	return 0;
}

char *vmr_mountns_step_text(const struct vmr_mountns *m, int step, int index)
{
	const struct vmr_mount *e =
	    index >= 0 && (size_t)index < m->n ? &m->v[index] : &(struct vmr_mount){0};
	const char *src = e->src ? e->src : "?", *dst = e->dst ? e->dst : "?";

	switch (step) {
	case VMR_MOUNTNS_UNSHARE:
		return xstrdup("unshare(CLONE_NEWNS)");
	case VMR_MOUNTNS_PRIVATE:
		return xstrdup("make '/' private (MS_REC|MS_PRIVATE)");
	case VMR_MOUNTNS_OPEN:
		return xasprintf("open '%s'", src);
	case VMR_MOUNTNS_TMPFS:
		return xstrdup("mount a tmpfs on '/dev'");
	case VMR_MOUNTNS_MKDIR:
		return xasprintf("mkdir '%s' in the private /dev", dst);
	case VMR_MOUNTNS_MKNODE:
		return xasprintf("create '%s' in the private /dev", dst);
	case VMR_MOUNTNS_BIND:
		return xasprintf("bind '%s' on '%s'", src, dst);
	case VMR_MOUNTNS_DEV_RO:
		return xstrdup("remount the private /dev read-only");
	case VMR_MOUNTNS_REMOUNT_RO:
		return xasprintf("remount '%s' read-only", dst);
	}
	return xstrdup("private mounts");
}

int vmr_mountns_probe(struct vmr_error **err)
{
	static const char *const what[] = {"unshare(CLONE_NEWNS)", "make '/' private",
					   "mount a tmpfs on '/dev'"};
	int pipefd[2], rep[2] = {0, 0}, st;
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return vmr_error_set(err, errno, "private mounts: pipe");
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(pipefd[0]);
		close(pipefd[1]);
		return vmr_error_set(err, e, "private mounts: fork");
	}
	if (pid == 0) {
		/* only this child's namespace changes: it dies with it */
		int step = 0;

		if (unshare(CLONE_NEWNS) < 0 ||
		    (step = 1, mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) ||
		    (step = 2,
		     mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, DEV_TMPFS_OPTS) < 0)) {
			int r[2] = {step, errno};

			(void)!write(pipefd[1], r, sizeof(r));
			_exit(1);
		}
		_exit(0);
	}
	close(pipefd[1]);
	do
		n = read(pipefd[0], rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(rep) && rep[0] >= 0 && rep[0] < (int)ARRAY_SIZE(what))
		return vmr_error_set(err, rep[1], "private mounts: %s", what[rep[0]]);
	if (n != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return vmr_error_set(err, 0, "private mounts: the probe failed (status %d)", st);
	return 0;
}

void vmr_mountns_free(struct vmr_mountns *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].src);
		free(m->v[i].dst);
	}
	free(m->v);
	*m = (struct vmr_mountns){0};
}
