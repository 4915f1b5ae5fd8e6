/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest state directory: creation, mode, the lock and its probe. */
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lib/base/statedir.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

int main(void)
{
	char tmp[] = "/tmp/vmrt-statedir-XXXXXX";
	_cleanup_free_ char *root = NULL, *want = NULL;
	struct vmr_statedir d = {.lock_fd = -1};
	struct vmr_error *err = NULL;
	struct stat st;
	pid_t pid = 0;
	int pipefd[2];
	char msg[256] = "";
	pid_t child;
	ssize_t n;

	if (!mkdtemp(tmp))
		return 1;
	root = xasprintf("%s/nested/state", tmp);

	is_int(vmr_statedir_probe(root, "a", &pid, &err), 0, "probe before anything exists");
	ok(vmr_statedir_lock(root, "a", &d, &err) == 0, "lock creates the directories");
	ok(stat(d.path, &st) == 0 && (st.st_mode & 07777) == 0700, "guest directory is 0700");
	is_int(vmr_statedir_probe(root, "a", &pid, &err), 1, "probe sees the lock held");
	is_int(pid, getpid(), "probe reads the supervisor pid");
	is_int(vmr_statedir_probe(root, "b", NULL, &err), 0, "other guest not running");

	/* a second supervisor (another process) fails clearly */
	if (pipe(pipefd) < 0)
		return 1;
	child = fork();
	if (child == 0) {
		struct vmr_statedir d2 = {.lock_fd = -1};
		struct vmr_error *e2 = NULL;

		close(pipefd[0]);
		int code;

		if (vmr_statedir_lock(root, "a", &d2, &e2) == 0)
			_exit(0);
		write_all(pipefd[1], e2->msg, strlen(e2->msg));
		code = e2->errnum == EBUSY ? 3 : 4;
		/* free what the child owns, so valgrind's leak check of it stays clean */
		vmr_error_free(e2);
		free(root);
		_exit(code);
	}
	close(pipefd[1]);
	n = read(pipefd[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	{
		int status = 0;

		waitpid(child, &status, 0);
		is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 3,
		       "second lock fails with EBUSY");
	}
	want = xasprintf("guest 'a' is already running (supervisor pid %d)", (int)getpid());
	is_str(msg, want, "message names the guest and the running supervisor");

	/* a lock whose holder is gone is free: the kernel drops it */
	vmr_statedir_release(&d);
	is_int(vmr_statedir_probe(root, "a", &pid, &err), 0, "released lock is free");
	ok(vmr_statedir_wait(root, "a", 1000, &err) == 0, "wait returns at once when free");

	/* a hand-made directory with a loose mode is tightened */
	{
		_cleanup_free_ char *dir = xasprintf("%s/c", root);

		mkdir(dir, 0777);
		chmod(dir, 0777);
		ok(vmr_statedir_lock(root, "c", &d, &err) == 0, "lock existing directory");
		ok(stat(dir, &st) == 0 && (st.st_mode & 07777) == 0700, "mode tightened to 0700");
		ok(vmr_statedir_wait(root, "c", 50, &err) < 0 && err && err->errnum == ETIMEDOUT,
		   "wait times out while held");
		vmr_error_clear(&err);
		vmr_statedir_release(&d);
	}
	{
		char *const argv[] = {"rm", "-rf", tmp, NULL};
		pid_t rm = fork();

		if (rm == 0) {
			execv("/bin/rm", argv);
			_exit(127);
		}
		waitpid(rm, NULL, 0);
	}
	return tap_done();
}
