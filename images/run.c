/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Running qemu-img and friends: no shell, captured output, a clean environment. */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "images/internal.h"
#include "lib/base/spawn.h"
#include "lib/base/util.h"

/* Program stderr kept for the error message; the tail is what matters. */
#define STDERR_KEEP 4096

static void kill_and_reap(pid_t pid, int *status)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

/* The last non-empty line of s, trimmed, or NULL. */
static char *last_line(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
		len--;
	if (len == 0)
		return NULL;
	size_t start = len;
	while (start > 0 && s[start - 1] != '\n' && s[start - 1] != '\r')
		start--;
	return xstrndup(s + start, len - start);
}

int images_run(const struct images_run *r, int *ret_status, struct vmr_error **err)
{
	static char *const envp[] = {"LC_ALL=C", NULL};
	_cleanup_close_ int devnull = -1, out_rd = -1, out_wr = -1, err_rd = -1, err_wr = -1;
	struct vmr_buf errbuf = VMR_BUF_INIT;
	const char *prog = r->argv[0];
	struct pollfd pfd[2];
	int status = 0, fds[2], ret = 0;
	pid_t pid;
	char chunk[4096];

	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0)
		return vmr_error_set(err, errno, "open '/dev/null'");
	if (pipe2(fds, O_CLOEXEC) < 0)
		return vmr_error_set(err, errno, "run '%s': pipe", prog);
	out_rd = fds[0], out_wr = fds[1];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return vmr_error_set(err, errno, "run '%s': pipe", prog);
	err_rd = fds[0], err_wr = fds[1];

	struct vmr_spawn s = {
	    .argv = r->argv,
	    .envp = envp,
	    .stdin_fd = devnull,
	    .stdout_fd = out_wr,
	    .stderr_fd = err_wr,
	    .pdeathsig = SIGKILL,
	};
	if (vmr_spawn(&s, &pid, err) < 0)
		return -1;
	closep(&out_wr);
	out_wr = -1;
	closep(&err_wr);
	err_wr = -1;

	pfd[0] = (struct pollfd){.fd = out_rd, .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = err_rd, .events = POLLIN};
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (r->cancel && *r->cancel) {
			kill_and_reap(pid, &status);
			vmr_buf_free(&errbuf);
			return vmr_error_set(err, ECANCELED, "run '%s'", prog);
		}
		if (poll(pfd, 2, 200) < 0) {
			if (errno == EINTR)
				continue;
			ret = vmr_error_set(err, errno, "run '%s': poll", prog);
			kill_and_reap(pid, &status);
			vmr_buf_free(&errbuf);
			return ret;
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(pfd[i].fd, chunk, sizeof(chunk));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				pfd[i].fd = -1;
				continue;
			}
			if (i == 1) {
				vmr_buf_add(&errbuf, chunk, (size_t)n);
				if (errbuf.len > 2 * STDERR_KEEP)
					vmr_buf_consume(&errbuf, errbuf.len - STDERR_KEEP);
			} else if (r->on_output) {
				r->on_output(chunk, (size_t)n, r->userdata);
			} else if (r->out) {
				vmr_buf_add(r->out, chunk, (size_t)n);
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			vmr_buf_free(&errbuf);
			return vmr_error_set(err, errno, "run '%s': waitpid", prog);
		}
	}

	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (ret_status)
		*ret_status = code;
	if (code != 0) {
		_cleanup_free_ char *line = last_line(errbuf.s ? errbuf.s : "", errbuf.len);
		const char *base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;

		if (line)
			ret = vmr_error_set(err, 0, "%s", line);
		else if (WIFSIGNALED(status))
			ret = vmr_error_set(err, 0, "%s: killed by signal %d", base,
					    WTERMSIG(status));
		else
			ret = vmr_error_set(err, 0, "%s: exit status %d", base, code);
	}
	vmr_buf_free(&errbuf);
	return ret;
}

char *images_path_join(const char *dir, const char *path)
{
	if (path[0] == '/' || !dir || !*dir)
		return xstrdup(path);
	while (startswith(path, "./"))
		path += 2;
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return xasprintf("%.*s/%s", (int)n, dir, path);
}

int images_tmp_create(const char *path, char **ret, struct vmr_error **err)
{
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *tmp =
	    slash ? xasprintf("%.*s/.%s.tmp-XXXXXX", (int)(slash - path), path, slash + 1)
		  : xasprintf(".%s.tmp-XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);

	if (fd < 0)
		return vmr_error_set(err, errno, "create a temporary file next to '%s'", path);
	close(fd);
	*ret = TAKE_PTR(tmp);
	return 0;
}

/* The process umask (read without changing it for longer than a moment). */
static mode_t process_umask(void)
{
	mode_t m = umask(022);

	umask(m);
	return m;
}

int images_tmp_commit(const char *tmp, const char *path, bool noreplace, struct vmr_error **err)
{
	if (chmod(tmp, 0666 & ~process_umask()) < 0)
		return vmr_error_set(err, errno, "chmod '%s'", tmp);
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, noreplace ? RENAME_NOREPLACE : 0) < 0)
		return vmr_error_set(err, errno, "rename '%s' to '%s'", tmp, path);
	return 0;
}
