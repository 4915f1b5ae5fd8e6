/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Process spawning: see lib/spawn.h for the order of steps in the child. */
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lib/base/fault.h"
#include "lib/base/fsutil.h"
#include "lib/base/spawn.h"
#include "lib/base/util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* What the child reports when a step fails: the step and its errno. */
enum child_step {
	STEP_SETSID,
	STEP_SIGNALS,
	STEP_CGROUP,
	STEP_MOUNTS, /* the sub-step is child_report.caps_step, the entry .index */
	STEP_FDS,
	STEP_AFFINITY,
	STEP_CAPS, /* the sub-step is child_report.caps_step */
	STEP_NO_NEW_PRIVS,
	STEP_PDEATHSIG,
	STEP_PARENT_DIED,
	STEP_EXEC,
};

static const char *const step_names[] = {
    [STEP_SETSID] = "setsid",
    [STEP_SIGNALS] = "reset signals",
    [STEP_CGROUP] = "join the cgroup",
    [STEP_MOUNTS] = "private mounts",
    [STEP_FDS] = "set up fds",
    [STEP_AFFINITY] = "sched_setaffinity",
    [STEP_CAPS] = "drop privileges",
    [STEP_NO_NEW_PRIVS] = "PR_SET_NO_NEW_PRIVS",
    [STEP_PDEATHSIG] = "PR_SET_PDEATHSIG",
    [STEP_PARENT_DIED] = "parent died before exec",
    [STEP_EXEC] = "exec",
};

struct child_report {
	int step;
	int errnum;
	int caps_step; /* enum vmr_caps_step, with STEP_CAPS; vmr_mountns_step, STEP_MOUNTS */
	int index;     /* the mount entry, with STEP_MOUNTS */
};

/* Everything the child needs, computed before fork. */
struct child_ctx {
	const struct vmr_spawn *s;
	char *const *envp;
	int src[3 + VMR_SPAWN_MAX_FDS]; /* source fd per target fd, -1: leave */
	int tmp[3 + VMR_SPAWN_MAX_FDS];
	int ntargets;
	int errfd;
	pid_t parent;
	cpu_set_t *cpus; /* NULL or cpus_buf */
	size_t cpus_size;
	/* in the context, not malloc'ed: a failing child leaks nothing */
	unsigned long cpus_buf[(VMR_CPU_MAX + 1) / (8 * sizeof(unsigned long)) + 1];
	int maxfd; /* fallback when close_range is missing */
	/* the child's copy of s->mounts, entries included (its own array, freed
	 * by the parent): it writes its fds there, in the parent's memory */
	struct vmr_mountns mounts;
};

static void __attribute__((noreturn))
child_fail_sub(const struct child_ctx *c, int step, int errnum, int sub, int index)
{
	struct child_report rep = {step, errnum, sub, index};

	/* nothing to do if the parent is gone; its read sees EOF or this */
	(void)!write(c->errfd, &rep, sizeof(rep));
	_exit(127);
}

static void __attribute__((noreturn))
child_fail_caps(const struct child_ctx *c, int step, int errnum, int caps_step)
{
	child_fail_sub(c, step, errnum, caps_step, -1);
}

static void __attribute__((noreturn)) child_fail(const struct child_ctx *c, int step, int errnum)
{
	child_fail_caps(c, step, errnum, -1);
}

/*
 * glibc refuses sigaction() on the signals it reserves for itself (32 and
 * 33: thread cancellation, set*id broadcast) with EINVAL, yet an "ignored"
 * inherited from our parent (GNU make leaves them so) would survive exec
 * too and break the program's threads.  The kernel call takes them; an
 * all-zero struct is SIG_DFL with no flags and an empty mask on every
 * architecture's layout.
 */
static int child_signal_default(int sig)
{
	unsigned long ksa[8] = {0};

	if (sigaction(sig, &(struct sigaction){.sa_handler = SIG_DFL}, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	if (syscall(SYS_rt_sigaction, sig, ksa, NULL, (size_t)(NSIG - 1) / 8) == 0)
		return 0;
	/* EINVAL again: a number beyond the kernel's signals */
	return errno == EINVAL ? 0 : -1;
}

static void child_fds(struct child_ctx *c)
{
	int base = c->ntargets;
	int fd;

	/* move the report pipe and every source above all targets first, so
	 * no dup2 below can clobber a source that is still needed */
	fd = fcntl(c->errfd, F_DUPFD_CLOEXEC, base);
	if (fd < 0)
		child_fail(c, STEP_FDS, errno);
	c->errfd = fd;
	for (int i = 0; i < c->ntargets; i++) {
		c->tmp[i] = -1;
		if (c->src[i] < 0)
			continue;
		c->tmp[i] = fcntl(c->src[i], F_DUPFD_CLOEXEC, base);
		if (c->tmp[i] < 0)
			child_fail(c, STEP_FDS, errno);
	}
	for (int i = 0; i < c->ntargets; i++) {
		if (c->tmp[i] < 0)
			continue;
		/* dup2 leaves the new fd without FD_CLOEXEC: it is passed */
		if (dup2(c->tmp[i], i) < 0)
			child_fail(c, STEP_FDS, errno);
	}
	/* everything else goes at exec (the report pipe must live until then) */
	if (close_range((unsigned)base, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		for (fd = base; fd < c->maxfd; fd++)
			if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF)
				child_fail(c, STEP_FDS, errno);
	}
}

static void __attribute__((noreturn)) child_run(struct child_ctx *c)
{
	const struct vmr_spawn *s = c->s;
	sigset_t none;
	int step = -1, r;

	if (setsid() < 0)
		child_fail(c, STEP_SETSID, errno);
	/* handlers do not survive exec but "ignored" does: reset all */
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (child_signal_default(sig) < 0)
			child_fail(c, STEP_SIGNALS, errno);
	}
	/* before the namespace and the drop: all of QEMU's life is accounted */
	for (int i = 0; s->cgroup && i < s->cgroup->nfds; i++)
		if (write(s->cgroup->procs_fd[i], "0", 1) != 1)
			child_fail(c, STEP_CGROUP, errno);
	/* needs CAP_SYS_ADMIN: before the drop; its fds are closed again here */
	if (s->mounts) {
		int index = -1;

		r = vmr_mountns_apply(&c->mounts, &step, &index);
		if (r < 0)
			child_fail_sub(c, STEP_MOUNTS, -r, step, index);
		step = -1;
	}
	child_fds(c);
	if (c->cpus && sched_setaffinity(0, c->cpus_size, c->cpus) < 0)
		child_fail(c, STEP_AFFINITY, errno);
	if (s->caps) {
		/* ends with PR_SET_NO_NEW_PRIVS */
		r = vmr_caps_drop_apply(s->caps, &step);
		if (r < 0)
			child_fail_caps(c, STEP_CAPS, -r, step);
	} else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		child_fail(c, STEP_NO_NEW_PRIVS, errno);
	}
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail(c, STEP_SIGNALS, errno);
	if (s->pdeathsig) {
		/* after the uid change, which would clear it */
		if (prctl(PR_SET_PDEATHSIG, s->pdeathsig, 0, 0, 0) < 0)
			child_fail(c, STEP_PDEATHSIG, errno);
		/* the parent may have died before the prctl: then nobody
		 * would ever send the signal */
		if (getppid() != c->parent)
			child_fail(c, STEP_PARENT_DIED, ESRCH);
	}
	execve(s->argv[0], s->argv, c->envp);
	child_fail(c, STEP_EXEC, errno);
}

static int ctx_prepare(struct child_ctx *c, const struct vmr_spawn *s, struct vmr_error **err)
{
	static char *const empty_env[] = {NULL};
	struct rlimit rl;

	if (!s->argv || !s->argv[0])
		return vmr_error_set(err, EINVAL, "spawn: empty argv");
	if (s->nfds > VMR_SPAWN_MAX_FDS)
		return vmr_error_set(err, E2BIG, "start '%s': %zu fds to pass, at most %d",
				     s->argv[0], s->nfds, VMR_SPAWN_MAX_FDS);
	c->s = s;
	c->envp = s->envp ? s->envp : empty_env;
	c->src[0] = s->stdin_fd;
	c->src[1] = s->stdout_fd;
	c->src[2] = s->stderr_fd;
	for (size_t i = 0; i < s->nfds; i++) {
		if (s->fds[i] < 0)
			return vmr_error_set(err, EBADF, "start '%s': fd %zu to pass is not open",
					     s->argv[0], i + 3);
		c->src[3 + i] = s->fds[i];
	}
	c->ntargets = 3 + (int)s->nfds;
	c->parent = getpid();
	c->maxfd = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)c->maxfd)
		c->maxfd = (int)rl.rlim_cur;
	if (s->affinity && s->affinity->n > 0) {
		unsigned max = s->affinity->cpus[s->affinity->n - 1];

		if (max > VMR_CPU_MAX)
			return vmr_error_set(err, EINVAL, "start '%s': CPU %u out of range",
					     s->argv[0], max);
		c->cpus = (cpu_set_t *)c->cpus_buf;
		c->cpus_size = CPU_ALLOC_SIZE(max + 1);
		CPU_ZERO_S(c->cpus_size, c->cpus);
		for (size_t i = 0; i < s->affinity->n; i++)
			CPU_SET_S(s->affinity->cpus[i], c->cpus_size, c->cpus);
	}
	if (s->mounts) {
		c->mounts = *s->mounts;
		c->mounts.v = xmalloc((s->mounts->n ? s->mounts->n : 1) * sizeof(*c->mounts.v));
		memcpy(c->mounts.v, s->mounts->v, s->mounts->n * sizeof(*c->mounts.v));
		c->mounts.alloc = s->mounts->n;
	}
	return 0;
}

/*
 * Start the child as posix_spawn(3) does: in the parent's memory (CLONE_VM),
 * on a stack of its own, the parent waiting (CLONE_VFORK) until the child
 * has exec'd or exited.  fork(2) copied the supervisor's page tables and
 * left both processes to take a copy-on-write fault at their next write to
 * each page: 0.4-0.8 ms of the supervisor's CPU per start on a machine whose
 * page faults cost 10 us (docs/performance.md).  So the child writes no
 * memory the parent uses but its context (its fds, its copy of the mount
 * entries), allocates nothing, and changes ids with raw system calls
 * (lib/base/caps.c).  All signals are blocked around the clone, so no
 * handler of the parent runs in the child before child_run() has reset
 * them.  Under AddressSanitizer it forks: the child's stack frames would
 * poison shadow memory the parent shares.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_SHARED_VM 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWN_SHARED_VM 0
#endif
#endif
#ifndef SPAWN_SHARED_VM
#define SPAWN_SHARED_VM 1
#endif

#define CHILD_STACK_SIZE (256 * 1024)

static int child_entry(void *arg)
{
	child_run(arg);
}

static pid_t spawn_clone(struct child_ctx *c)
{
	sigset_t all, old;
	void *stack;
	pid_t pid;
	int e;

	if (!SPAWN_SHARED_VM) {
		pid = fork();
		if (pid == 0)
			child_run(c);
		return pid;
	}
	stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
	if (stack == MAP_FAILED)
		return -1;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* the stack grows down on every architecture vmrun builds for */
	pid = clone(child_entry, (char *)stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD,
		    c);
	e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	munmap(stack, CHILD_STACK_SIZE);
	errno = e;
	return pid;
}

int vmr_spawn(const struct vmr_spawn *s, pid_t *ret_pid, struct vmr_error **err)
{
	struct child_ctx c = {0};
	struct child_report rep;
	int pipefd[2];
	ssize_t n;
	pid_t pid;
	int r;

	r = ctx_prepare(&c, s, err);
	if (r < 0)
		return r;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		free(c.mounts.v);
		return vmr_error_set(err, errno, "start '%s': pipe", s->argv[0]);
	}
	c.errfd = pipefd[1];
	pid = spawn_clone(&c);
	free(c.mounts.v);
	if (pid < 0) {
		r = vmr_error_set(err, errno, "start '%s': fork", s->argv[0]);
		close(pipefd[0]);
		close(pipefd[1]);
		return r;
	}
	close(pipefd[1]);
	do
		n = read(pipefd[0], &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == 0) {
		*ret_pid = pid;
		return 0;
	}
	/* the child failed (or the read did): reap it before reporting */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(rep))
		r = vmr_error_set(err, n < 0 ? errno : EIO, "start '%s': read child status",
				  s->argv[0]);
	else if (rep.step == STEP_EXEC)
		r = vmr_error_set(err, rep.errnum, "exec '%s'", s->argv[0]);
	else if (rep.step == STEP_CAPS)
		r = vmr_error_set(err, rep.errnum, "start '%s': %s", s->argv[0],
				  vmr_caps_step_name(rep.caps_step));
	else if (rep.step == STEP_MOUNTS && s->mounts) {
		_cleanup_free_ char *what =
		    vmr_mountns_step_text(s->mounts, rep.caps_step, rep.index);

		r = vmr_error_set(err, rep.errnum, "start '%s': private mounts: %s", s->argv[0],
				  what);
	} else if (rep.step == STEP_CGROUP && s->cgroup)
		r = vmr_error_set(err, rep.errnum, "start '%s': join cgroup '%s'", s->argv[0],
				  s->cgroup->path);
	else
		r = vmr_error_set(err, rep.errnum, "start '%s': %s", s->argv[0],
				  rep.step >= 0 && rep.step < (int)ARRAY_SIZE(step_names)
				      ? step_names[rep.step]
				      : "child setup");
	return r;
}

int vmr_proc_set_cmdline(char *const *argv)
{
	size_t len = 0;
	char *area, *p;
	int e;

	for (char *const *a = argv; *a; a++)
		len += strlen(*a) + 1;
	if (len == 0)
		return -EINVAL;
	/* lives as long as the process: the kernel reads it for /proc */
	area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return -errno;
	p = area;
	for (char *const *a = argv; *a; a++) {
		size_t l = strlen(*a) + 1;

		memcpy(p, *a, l);
		p += l;
	}
	/*
	 * The kernel wants start <= end at every step: an area below the old
	 * one takes its start first, one above the old end its end first.
	 */
	if (prctl(PR_SET_MM, PR_SET_MM_ARG_START, (unsigned long)area, 0, 0) == 0) {
		if (prctl(PR_SET_MM, PR_SET_MM_ARG_END, (unsigned long)(area + len), 0, 0) == 0)
			return 0;
	} else if (errno == EINVAL &&
		   prctl(PR_SET_MM, PR_SET_MM_ARG_END, (unsigned long)(area + len), 0, 0) == 0 &&
		   prctl(PR_SET_MM, PR_SET_MM_ARG_START, (unsigned long)area, 0, 0) == 0) {
		return 0;
	}
	e = errno;
	munmap(area, len);
	return -e;
}

/*
 * Every signal to SIG_DFL, as child_run does before exec, but only those
 * not at SIG_DFL already (SigIgn and SigCgt of /proc/self/status): a
 * process has few, and the walk over all 64 was 62 system calls of every
 * supervisor's start.  The walk where /proc cannot tell.
 */
static int signals_default_changed(void)
{
	static const char *const fields[] = {"SigIgn", "SigCgt"};
	uint64_t m[2], set;

	if (vmr_proc_status_masks(fields, 2, m) < 0)
		m[0] = m[1] = ~UINT64_C(0);
	set = m[0] | m[1];
	for (int sig = 1; sig < NSIG && sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || !(set & (UINT64_C(1) << (sig - 1))))
			continue;
		if (child_signal_default(sig) < 0)
			return -1;
	}
	return 0;
}

static void __attribute__((noreturn))
fork_child(const struct vmr_spawn_fork *s, int errfd, int maxfd)
{
	extern char **environ;
	struct child_ctx c = {.errfd = errfd};
	const int src[3] = {s->stdin_fd, s->stdout_fd, s->stderr_fd};
	int tmp[3] = {-1, -1, -1};
	sigset_t none;

	if (setsid() < 0)
		child_fail(&c, STEP_SETSID, errno);
	if (signals_default_changed() < 0)
		child_fail(&c, STEP_SIGNALS, errno);
	/* the report pipe and the sources above 0-2 first: no dup2 clobbers them */
	c.errfd = fcntl(errfd, F_DUPFD_CLOEXEC, 3);
	if (c.errfd < 0)
		child_fail(&c, STEP_FDS, errno);
	for (int i = 0; i < 3; i++)
		if (src[i] >= 0 && (tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3)) < 0)
			child_fail(&c, STEP_FDS, errno);
	for (int i = 0; i < 3; i++)
		if (tmp[i] >= 0 && dup2(tmp[i], i) < 0)
			child_fail(&c, STEP_FDS, errno);
	/* no exec follows: everything but 0-2 and the report pipe is closed now */
	if ((c.errfd > 3 && close_range(3, (unsigned)c.errfd - 1, 0) < 0) ||
	    close_range((unsigned)c.errfd + 1, ~0U, 0) < 0) {
		for (int fd = 3; fd < maxfd; fd++)
			if (fd != c.errfd)
				(void)close(fd);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(&c, STEP_NO_NEW_PRIVS, errno);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail(&c, STEP_SIGNALS, errno);
	if (s->envp)
		environ = (char **)s->envp;
	/* fault injection (test builds) counts this program's hits from zero */
	vmr_fault_reset();
	/* best effort: without CAP_SYS_RESOURCE, `ps` shows this process's command line */
	if (s->title)
		(void)vmr_proc_set_cmdline(s->title);
	/* prepared: the parent's read sees EOF */
	close(c.errfd);
	exit(s->fn(s->arg));
}

int vmr_spawn_fork(const struct vmr_spawn_fork *s, pid_t *ret_pid, struct vmr_error **err)
{
	struct child_report rep;
	struct rlimit rl;
	int pipefd[2], maxfd = 65536;
	ssize_t n;
	pid_t pid;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)maxfd)
		maxfd = (int)rl.rlim_cur;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return vmr_error_set(err, errno, "fork: pipe");
	/* what stdio holds would otherwise be written twice */
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(pipefd[0]);
		close(pipefd[1]);
		return vmr_error_set(err, e, "fork");
	}
	if (pid == 0) {
		close(pipefd[0]);
		fork_child(s, pipefd[1], maxfd);
	}
	close(pipefd[1]);
	do
		n = read(pipefd[0], &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == 0) {
		*ret_pid = pid;
		return 0;
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(rep))
		return vmr_error_set(err, n < 0 ? errno : EIO, "fork: read child status");
	return vmr_error_set(err, rep.errnum, "fork: %s",
			     rep.step >= 0 && rep.step < (int)ARRAY_SIZE(step_names)
				 ? step_names[rep.step]
				 : "child setup");
}

static int user_by_ids(const char *spec, struct vmr_spawn_user *ret)
{
	unsigned long long uid, gid;
	const char *colon = strchr(spec, ':');
	_cleanup_free_ char *u = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup(spec);

	if (parse_uint(u, (uid_t)-2, &uid) < 0)
		return -EINVAL;
	gid = uid;
	if (colon && parse_uint(colon + 1, (gid_t)-2, &gid) < 0)
		return -EINVAL;
	ret->uid = (uid_t)uid;
	ret->gid = (gid_t)gid;
	ret->groups = NULL;
	ret->ngroups = 0;
	return 0;
}

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/*
 * A passwd or group file as a memory stream: fgetpwent(3) and fgetgrent(3)
 * ask a file stream for its offset at every line (two lseek(2)s per entry);
 * one read and fmemopen(3) make the whole walk a handful of system calls.
 */
static FILE *open_db(const char *path, char **ret_buf)
{
	size_t n;
	int r;

	*ret_buf = NULL;
	r = read_file(path, 16 << 20, ret_buf, &n);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	if (n == 0)
		return fopen("/dev/null", "re");
	return fmemopen(*ret_buf, n, "r");
}

int vmr_user_from_files(const char *passwd, const char *group, const char *name,
			struct vmr_spawn_user *ret)
{
	_cleanup_free_ char *pbuf = NULL, *gbuf = NULL;
	_cleanup_(fclosep) FILE *pf = open_db(passwd, &pbuf);
	_cleanup_(fclosep) FILE *gf = NULL;
	_cleanup_free_ gid_t *groups = NULL;
	size_t n = 0, cap = 8;
	struct passwd *pw;
	struct group *gr;

	if (!pf)
		return -errno;
	while ((pw = fgetpwent(pf)))
		if (streq(pw->pw_name, name))
			break;
	if (!pw)
		return -ENOENT;
	ret->uid = pw->pw_uid;
	ret->gid = pw->pw_gid;
	/* as getgrouplist(3): the primary group first, then each group naming the user */
	groups = xmalloc(cap * sizeof(*groups));
	groups[n++] = ret->gid;
	gf = open_db(group, &gbuf);
	while (gf && (gr = fgetgrent(gf))) {
		bool member = false, dup = false;

		for (char **m = gr->gr_mem; m && *m && !member; m++)
			member = streq(*m, name);
		for (size_t i = 0; i < n && member && !dup; i++)
			dup = groups[i] == gr->gr_gid;
		if (!member || dup)
			continue;
		if (n == cap)
			groups = xrealloc(groups, (cap *= 2) * sizeof(*groups));
		groups[n++] = gr->gr_gid;
	}
	ret->groups = TAKE_PTR(groups);
	ret->ngroups = n;
	return 0;
}

int vmr_spawn_user_lookup(const char *spec, struct vmr_spawn_user *ret, struct vmr_error **err)
{
	struct passwd pw, *res = NULL;
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ gid_t *groups = NULL;
	long bufsize = sysconf(_SC_GETPW_R_SIZE_MAX);
	int ngroups = 16, r;

	if (spec[0] >= '0' && spec[0] <= '9') {
		if (user_by_ids(spec, ret) < 0)
			return vmr_error_usage(err, "invalid user '%s' (want NAME, UID or UID:GID)",
					       spec);
		return 0;
	}
	/* a user of the files: no NSS module is loaded (each stays mapped for good) */
	if (vmr_user_from_files("/etc/passwd", "/etc/group", spec, ret) == 0)
		return 0;
	if (bufsize <= 0)
		bufsize = 16384;
	buf = xmalloc((size_t)bufsize);
	r = getpwnam_r(spec, &pw, buf, (size_t)bufsize, &res);
	if (r != 0)
		return vmr_error_set(err, r, "look up user '%s'", spec);
	if (!res)
		return vmr_error_usage(err, "unknown user '%s'", spec);
	for (;;) {
		int n = ngroups;

		groups = xrealloc(groups, (size_t)n * sizeof(*groups));
		if (getgrouplist(spec, pw.pw_gid, groups, &n) >= 0) {
			ngroups = n;
			break;
		}
		if (n <= ngroups) /* no growth requested: give up on groups */
			return vmr_error_set(err, 0, "look up groups of user '%s'", spec);
		ngroups = n;
	}
	ret->uid = pw.pw_uid;
	ret->gid = pw.pw_gid;
	ret->groups = TAKE_PTR(groups);
	ret->ngroups = (size_t)ngroups;
	return 0;
}

void vmr_spawn_user_free(struct vmr_spawn_user *u)
{
	if (!u)
		return;
	free(u->groups);
	u->groups = NULL;
	u->ngroups = 0;
}

bool vmr_user_exists(const char *name)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_(fclosep) FILE *pf = open_db("/etc/passwd", &buf);
	struct passwd *pw;

	while (pf && (pw = fgetpwent(pf)))
		if (streq(pw->pw_name, name))
			return true;
	return getpwnam(name) != NULL;
}
