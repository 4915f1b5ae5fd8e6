/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_SPAWN_H
#define VMR_SPAWN_H

/*
 * Start a program the careful way (after git's run-command.c and the
 * jailers in docs/supervisor.md): everything is prepared before the child
 * starts; vmr_spawn()'s child shares the parent's memory until its exec, as
 * posix_spawn(3)'s does (CLONE_VM | CLONE_VFORK), and makes only
 * async-signal-safe system calls, writing nothing the parent uses but its own
 * context; vmr_spawn_fork()'s is a fork(2); a failure in the child
 * (including exec) comes back to the parent through a close-on-exec pipe,
 * so vmr_spawn() either returns a running program or an error naming the
 * step that failed.
 *
 * The child, in this order: starts a new session (so a terminal's Ctrl-C
 * reaches only the supervisor); resets every signal disposition to the
 * default; joins its cgroup (writes "0" to the cgroup.procs fd opened
 * before fork); makes its private mount namespace (lib/base/mountns.h:
 * unshare, a tmpfs /dev, read-only binds), while still privileged; places stdin/stdout/stderr and
 * the passed fds (fds[i] becomes fd 3+i) and marks every other fd close-on-exec; sets the CPU
 * affinity; applies the privilege drop prepared by lib/caps.h (bounding set, groups, uid/gid,
 * capabilities, ambient set, PR_SET_NO_NEW_PRIVS) or, without one, only sets PR_SET_NO_NEW_PRIVS;
 * unblocks all signals; sets PR_SET_PDEATHSIG last, because a uid change clears it, and then checks
 * that the parent is still the one that forked it; execve.
 *
 * Every program started here runs with NoNewPrivs: nothing vmrun starts
 * (QEMU, qemu-img, a detached supervisor) needs to gain privileges through
 * a setuid binary or file capabilities, and NoNewPrivs keeps a dropped
 * QEMU from getting back what the drop took.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/base/caps.h"
#include "lib/base/cgroup.h"
#include "lib/base/cpuset.h"
#include "lib/base/mountns.h"
#include "lib/base/error.h"

#define VMR_SPAWN_MAX_FDS 256

/* A user to run as, resolved before fork. */
struct vmr_spawn_user {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups (owned) */
	size_t ngroups;
};

struct vmr_spawn {
	char *const *argv; /* argv[0] is executed as given: no PATH search */
	char *const *envp; /* NULL: an empty environment */
	int stdin_fd;	   /* -1: inherit */
	int stdout_fd;	   /* -1: inherit */
	int stderr_fd;	   /* -1: inherit */
	const int *fds;	   /* fds[i] becomes fd 3+i in the child */
	size_t nfds;	   /* at most VMR_SPAWN_MAX_FDS */
	/*
	 * Prepared with vmr_caps_drop_prepare() (the caller keeps it and frees
	 * it after vmr_spawn() returns).  NULL: the program keeps this
	 * process's ids and capabilities (still with NoNewPrivs).
	 */
	const struct vmr_caps_drop *caps;
	int pdeathsig;			   /* 0: none; else e.g. SIGKILL */
	const struct vmr_cpuset *affinity; /* NULL: inherit */
	/* made with vmr_cgroup_create(): the child joins it; NULL: stays in ours */
	const struct vmr_cgroup *cgroup;
	/* prepared with vmr_mountns_add_*(): the child's namespace; NULL: ours */
	const struct vmr_mountns *mounts;
};

/*
 * Start the program described by s.  On success returns 0 with the child's
 * pid in *ret_pid; the caller must reap it.  On failure the child (if one
 * was forked) has been reaped and the error names the step: "exec
 * '/usr/bin/qemu-system-x86_64': No such file or directory",
 * "start '/x': setresuid: Operation not permitted" (the steps of the
 * privilege drop are named by vmr_caps_step_name(), those of the mount
 * namespace by vmr_mountns_step_text(): "start '/x': private mounts:
 * bind '/dev/kvm' on '/dev/kvm': No such file or directory").
 */
int vmr_spawn(const struct vmr_spawn *s, pid_t *ret_pid, struct vmr_error **err);

/*
 * A child that runs a function of this process instead of executing a
 * program: for a detached supervisor started by `vmrun up`, which has the
 * topology and the configuration in memory already, so that executing
 * vmrun again (its dynamic linking, parsing the topology again) costs
 * nothing.  The child is prepared as vmr_spawn() prepares one before exec,
 * so it keeps nothing of this process that it should not: a new session,
 * stdin/stdout/stderr as given and every other fd closed (not just
 * close-on-exec), every signal disposition default and none blocked,
 * PR_SET_NO_NEW_PRIVS, the environment envp, and /proc/PID/cmdline set to
 * title when it can be (so `ps` shows what the child is).  Then it calls
 * fn(arg) and exits with its return value through exit(3).  Buffered stdio output is flushed before
 * the fork, so the child writes none of it again.
 */
struct vmr_spawn_fork {
	int stdin_fd, stdout_fd, stderr_fd; /* -1: inherit */
	char *const *envp;		    /* NULL: keep this process's */
	char *const *title;		    /* NULL: keep the command line */
	int (*fn)(void *arg);
	void *arg;
};

/*
 * Start the child described by s.  Returns 0 with its pid in *ret_pid
 * once its preparation is done (the caller must reap it); on a failure the
 * child has been reaped and the error names the step ("setsid", "set up
 * fds", ...).
 */
int vmr_spawn_fork(const struct vmr_spawn_fork *s, pid_t *ret_pid, struct vmr_error **err);

/*
 * Set this process's /proc/PID/cmdline to argv: a new NUL-separated copy
 * registered with PR_SET_MM_ARG_START/END, which needs CAP_SYS_RESOURCE.
 * The original area is left as it is (pointers into argv and the
 * environment stay valid).  Returns 0 or a negative errno (-EPERM without
 * the capability; the command line is then unchanged).
 */
int vmr_proc_set_cmdline(char *const *argv);

/*
 * Resolve "NAME", "UID" or "UID:GID" into *ret (supplementary groups from
 * the group database for a name, none for numbers), for
 * struct vmr_caps_drop_opts.  Unknown names are an
 * error with usage status.  Free with vmr_spawn_user_free().
 */
int vmr_spawn_user_lookup(const char *spec, struct vmr_spawn_user *ret, struct vmr_error **err);
void vmr_spawn_user_free(struct vmr_spawn_user *u);

/*
 * The user NAME as NSS's "files" source gives it: its uid and gid from the
 * passwd file, its groups (the primary one first) from the group file, read
 * with fgetpwent(3)/fgetgrent(3).  vmr_spawn_user_lookup() and
 * vmr_user_exists() try it first, so the common case (vmrun, nobody, users
 * of /etc/passwd) loads no NSS module: glibc keeps a loaded module, and
 * libnss_systemd, for one, would cost every supervisor a dlopen and 320 KiB
 * for the guest's life.  Returns 0, -ENOENT when NAME is not in the file,
 * or another negative errno.
 */
int vmr_user_from_files(const char *passwd, const char *group, const char *name,
			struct vmr_spawn_user *ret);

/* true when the user NAME exists: the passwd file first, then NSS */
bool vmr_user_exists(const char *name);

#endif
