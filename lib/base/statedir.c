/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest state directory and its lock (lib/statedir.h). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/base/fsutil.h"
#include "lib/base/statedir.h"
#include "lib/base/util.h"

char *vmr_statedir_path(const char *state_root, const char *guest, const char *name)
{
	return name ? xasprintf("%s/%s/%s", state_root, guest, name)
		    : xasprintf("%s/%s", state_root, guest);
}

char *vmr_statedir_file(const struct vmr_statedir *d, const char *name)
{
	return xasprintf("%s/%s", d->path, name);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static pid_t read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	unsigned long long v;
	char *nl;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	if (parse_uint(buf, INT32_MAX, &v) < 0)
		return 0;
	return (pid_t)v;
}

/*
 * For a state directory this user may not write: the default /run/vmrun
 * is root's, so say how to choose another.  Returns r.
 */
static int hint_state_dir(int r, struct vmr_error **err)
{
	if (r == -EACCES || r == -EPERM || r == -EROFS)
		vmr_error_hint(err, "choose a state directory this user can write: "
				    "--state-dir DIR or VMRUN_STATE_DIR");
	return r;
}

int vmr_lockfile_take(const char *path, unsigned retries, int *ret_fd, pid_t *ret_holder)
{
	_cleanup_close_ int fd = -1;
	char pidline[32];
	int n;

	*ret_holder = 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	/* a `ps` probing the lock holds it shared for an instant: retry briefly */
	for (unsigned i = 0;; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK)
			return -errno;
		if (i >= retries) {
			*ret_holder = read_pid(fd);
			return -EBUSY;
		}
		sleep_ms(10);
	}
	/* write, then cut: a reader never sees the file empty while it is held
	 * (a restarted container's PID 1 rewrites the same "1\n") */
	n = snprintf(pidline, sizeof(pidline), "%d\n", (int)getpid());
	if (pwrite(fd, pidline, (size_t)n, 0) != n || ftruncate(fd, n) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int vmr_statedir_lock(const char *state_root, const char *guest, struct vmr_statedir *ret,
		      struct vmr_error **err)
{
	_cleanup_free_ char *dir = vmr_statedir_path(state_root, guest, NULL);
	_cleanup_free_ char *lockpath = NULL;
	_cleanup_close_ int dfd = -1, fd = -1;
	const mode_t mode = 0700;
	struct stat st;
	pid_t pid = 0;
	int r;

	/* the state root may be /run/vmrun or a test's tmpdir: make its parents */
	r = vmr_mkdir_p(state_root, 0755);
	if (r < 0)
		return hint_state_dir(
		    vmr_error_set(err, -r, "create state directory '%s'", state_root), err);
	if (mkdir(dir, mode) < 0 && errno != EEXIST)
		return hint_state_dir(vmr_error_set(err, errno, "create state directory '%s'", dir),
				      err);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return hint_state_dir(vmr_error_set(err, errno, "open state directory '%s'", dir),
				      err);
	if (fstat(dfd, &st) < 0)
		return vmr_error_set(err, errno, "stat state directory '%s'", dir);
	/* an existing directory may have been made by hand, or by an older vmrun: enforce ours */
	if ((st.st_mode & 07777) != mode && fchmod(dfd, mode) < 0)
		return hint_state_dir(vmr_error_set(err, errno, "chmod state directory '%s'", dir),
				      err);

	lockpath = xasprintf("%s/lock", dir);
	r = vmr_lockfile_take(lockpath, 20, &fd, &pid);
	if (r == -EBUSY) {
		if (pid > 0)
			return vmr_error_set(err, EBUSY,
					     "guest '%s' is already running (supervisor pid %d)",
					     guest, (int)pid);
		return vmr_error_set(err, EBUSY, "guest '%s' is already running", guest);
	}
	if (r < 0)
		return hint_state_dir(vmr_error_set(err, -r, "lock '%s'", lockpath), err);

	ret->path = TAKE_PTR(dir);
	ret->lock_fd = TAKE_FD(fd);
	return 0;
}

void vmr_statedir_release(struct vmr_statedir *d)
{
	if (!d)
		return;
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	d->lock_fd = -1;
	free(d->path);
	d->path = NULL;
}

int vmr_statedir_probe(const char *state_root, const char *guest, pid_t *ret_pid,
		       struct vmr_error **err)
{
	_cleanup_free_ char *path = vmr_statedir_path(state_root, guest, "lock");
	_cleanup_close_ int fd = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return vmr_error_set(err, errno, "open lock '%s'", path);
	}
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		return 0; /* closing the fd releases it */
	if (errno != EWOULDBLOCK)
		return vmr_error_set(err, errno, "probe lock '%s'", path);
	if (ret_pid)
		*ret_pid = read_pid(fd);
	return 1;
}

int vmr_statedir_wait(const char *state_root, const char *guest, int timeout_ms,
		      struct vmr_error **err)
{
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);

	for (;;) {
		int r = vmr_statedir_probe(state_root, guest, NULL, err);

		if (r <= 0)
			return r;
		if (timeout_ms >= 0 && now_ms() >= deadline)
			return vmr_error_set(err, ETIMEDOUT, "guest '%s' still running after %d ms",
					     guest, timeout_ms);
		sleep_ms(20);
	}
}
