/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's seccomp filter (lib/sandbox.h): its contents, and what
 * a process can and cannot do once it is loaded.  The filter is loaded in
 * forked children only; each denied call is chosen so that without the
 * filter it fails differently (ENOENT, EINVAL, ENOTTY...) or only touches
 * the child, so a broken filter shows up as a failure, never as a host
 * change.
 */
#include <fcntl.h>
#include <grp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lib/runtime/sandbox.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

enum check {
	C_LOADED,
	C_STATUS_NNP,
	C_STATUS_SECCOMP,
	/* must fail */
	C_EXECVE,
	C_EXECVEAT,
	C_MOUNT,
	C_UMOUNT,
	C_UNSHARE,
	C_CLONE_NEWUSER,
	C_CLONE3,
	C_SETUID,
	C_SETGROUPS,
	C_INIT_MODULE,
	C_REBOOT,
	C_PTRACE,
	C_TIOCSTI,
	C_MKNOD,
	/* must work */
	C_NETLINK,
	C_FILE,
	C_FLOCK,
	C_KILL,
	C_AFFINITY,
	C_FORK,
	C_THREAD,
	C_MAX,
};

struct result {
	long ret;
	int err;
	bool done;
};
static struct result *res;

static void record(enum check c, long ret)
{
	res[c].ret = ret;
	res[c].err = ret < 0 ? errno : 0;
	res[c].done = true;
}

static long status_value(const char *key)
{
	_cleanup_free_ char *s = NULL;
	size_t len = strlen(key);

	if (read_file("/proc/self/status", 1 << 16, &s, NULL) < 0)
		return -1;
	for (char *p = s; p && *p;) {
		char *nl = strchr(p, '\n');

		if (strncmp(p, key, len) == 0 && p[len] == ':')
			return strtol(p + len + 1, NULL, 10);
		p = nl ? nl + 1 : NULL;
	}
	return -1;
}

/* An RTM_GETLINK dump, as the teardown's libnl/libmnl calls do. */
static long netlink_dump(void)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
	    .nh = {.nlmsg_len = sizeof(req),
		   .nlmsg_type = RTM_GETLINK,
		   .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		   .nlmsg_seq = 1},
	    .ifi = {.ifi_family = AF_UNSPEC},
	};
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	char buf[8192];
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ssize_t n;

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	if (send(fd, &req, sizeof(req), 0) < 0)
		return -1;
	n = recv(fd, buf, sizeof(buf), 0);
	return n > 0 ? 0 : -1;
}

static long file_ops(const char *dir)
{
	_cleanup_free_ char *a = xasprintf("%s/a", dir), *b = xasprintf("%s/b", dir);
	_cleanup_close_ int fd = open(a, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, "1\n", 2) != 2 || fsync(fd) < 0)
		return -1;
	if (rename(a, b) < 0 || unlink(b) < 0)
		return -1;
	return 0;
}

static void *thread_fn(void *arg)
{
	return arg;
}

static bool listed(const char *name)
{
	for (size_t i = 0; vmr_sandbox_denied[i]; i++)
		if (streq(vmr_sandbox_denied[i], name))
			return true;
	return false;
}

static void child_checks(const char *dir)
{
	char *const argv[] = {"/bin/true", NULL};
	char *const envp[] = {NULL};
	_cleanup_free_ char *lock = xasprintf("%s/lock", dir);
	struct vmr_error *err = NULL;
	cpu_set_t cpus;
	pthread_t th;
	void *thret = NULL;
	int p[2], status = -1;
	char c = 'x';
	long r;
	pid_t pid;

	r = vmr_sandbox_supervisor(&err);
	record(C_LOADED, r);
	if (r < 0)
		_exit(1);
	record(C_STATUS_NNP, status_value("NoNewPrivs"));
	record(C_STATUS_SECCOMP, status_value("Seccomp"));

	record(C_EXECVE, execve(argv[0], argv, envp));
	record(C_EXECVEAT, syscall(SYS_execveat, AT_FDCWD, argv[0], argv, envp, 0));
	/* ENOENT without the filter: the targets do not exist */
	record(C_MOUNT, mount("none", "/nonexistent/vmrt", "tmpfs", 0, NULL));
	record(C_UMOUNT, umount2("/nonexistent/vmrt", 0));
	record(C_UNSHARE, unshare(CLONE_NEWNET));
	r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	record(C_CLONE_NEWUSER, r);
	record(C_CLONE3, syscall(SYS_clone3, NULL, 0));
	record(C_SETUID, setuid(0));
	record(C_SETGROUPS, setgroups(0, NULL));
	/* EFAULT without the filter */
	record(C_INIT_MODULE, syscall(SYS_init_module, NULL, 0, ""));
	/* EINVAL without the filter: not a reboot magic */
	record(C_REBOOT, syscall(SYS_reboot, 0, 0, 0, NULL));
	/* where it is allowed it would make us our parent's tracee */
	if (listed("ptrace"))
		record(C_PTRACE, ptrace(PTRACE_TRACEME, 0, NULL, NULL));
	if (pipe2(p, O_CLOEXEC) < 0)
		_exit(2);
	/* ENOTTY without the filter */
	record(C_TIOCSTI, ioctl(p[0], TIOCSTI, &c));
	record(C_MKNOD, mknod("/nonexistent/vmrt", S_IFIFO | 0600, 0));

	record(C_NETLINK, netlink_dump());
	record(C_FILE, file_ops(dir));
	{
		_cleanup_close_ int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		record(C_FLOCK, fd < 0 ? -1 : flock(fd, LOCK_EX | LOCK_NB));
	}
	record(C_KILL, kill(getppid(), 0));
	if (sched_getaffinity(0, sizeof(cpus), &cpus) < 0)
		_exit(3);
	record(C_AFFINITY, sched_setaffinity(0, sizeof(cpus), &cpus));
	pid = fork();
	if (pid == 0)
		_exit(7);
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 7)
		record(C_FORK, 0);
	else
		record(C_FORK, -1);
	/* glibc tries clone3 first and falls back to clone on ENOSYS */
	errno = pthread_create(&th, NULL, thread_fn, res);
	record(C_THREAD, errno || pthread_join(th, &thret) || thret != res ? -1 : 0);
	_exit(0);
}

static void expect_denied(enum check c, int want_errno, const char *what)
{
	if (!res[c].done) {
		ok(false, "%s: not reached", what);
		return;
	}
	ok(res[c].ret == -1 && res[c].err == want_errno, "%s: %s (got %ld, %s)", what,
	   strerror(want_errno), res[c].ret, strerror(res[c].err));
}

static void expect_allowed(enum check c, const char *what)
{
	ok(res[c].done && res[c].ret == 0, "%s still works (got %ld, %s)", what, res[c].ret,
	   strerror(res[c].err));
}

static void test_list(void)
{
	size_t n = 0, unresolved = 0, dups = 0;

	for (; vmr_sandbox_denied[n]; n++) {
		if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, vmr_sandbox_denied[n]) <
		    0) {
			tap_diag("'%s' does not resolve", vmr_sandbox_denied[n]);
			unresolved++;
		}
		for (size_t j = 0; j < n; j++)
			if (streq(vmr_sandbox_denied[j], vmr_sandbox_denied[n]))
				dups++;
	}
	ok(n >= 50, "the deny list has %zu system calls", n);
	is_int((long long)unresolved, 0, "each is a system call of this architecture");
	is_int((long long)dups, 0, "none is listed twice");
	static const char *const must[] = {"execve",	"execveat",   "init_module", "finit_module",
					   "mount",	"kexec_load", "reboot",	     "setresuid",
					   "setgroups", "unshare",    "bpf"};
	for (size_t i = 0; i < ARRAY_SIZE(must); i++)
		ok(listed(must[i]), "'%s' is denied", must[i]);
	static const char *const keep[] = {"socket", "sendmsg", "recvmsg",	     "write",
					   "openat", "unlink",	"unlinkat",	     "kill",
					   "wait4",  "waitid",	"sched_setaffinity", "flock",
					   "setns",  "clone"};
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		ok(!listed(keep[i]), "'%s' is not in the list (teardown needs it)", keep[i]);
}

static void test_pfc(void)
{
	scmp_filter_ctx ctx = NULL;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *pfc = NULL;
	_cleanup_close_ int fd = memfd_create("pfc", MFD_CLOEXEC);
	char path[64];
	size_t missing = 0;
	int r;

	r = vmr_sandbox_filter_new(&ctx, &err);
	ok(r == 0, "the filter builds%s%s", err ? ": " : "", err ? err->msg : "");
	vmr_error_free(err);
	if (r < 0 || fd < 0)
		return;
	r = seccomp_export_pfc(ctx, fd);
	seccomp_release(ctx);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ok(r == 0 && read_file(path, 1 << 20, &pfc, NULL) == 0, "export it as PFC");
	if (!pfc)
		return;
	for (size_t i = 0; vmr_sandbox_denied[i]; i++) {
		_cleanup_free_ char *q = xasprintf("\"%s\"", vmr_sandbox_denied[i]);

		if (!strstr(pfc, q)) {
			tap_diag("'%s' is not in the exported filter", vmr_sandbox_denied[i]);
			missing++;
		}
	}
	is_int((long long)missing, 0, "every listed call has a rule in the filter");
	ok(strstr(pfc, "\"clone3\"") && strstr(pfc, "ERRNO(38)"), "clone3 answers ENOSYS");
	ok(strstr(pfc, "\"clone\"") && strstr(pfc, "\"ioctl\""),
	   "clone and ioctl have argument rules");
	ok(strstr(pfc, "action ALLOW;") != NULL, "default action: allow");
}

/* the program the supervisor loads is what libseccomp makes of the rules now */
static void test_bpf_same(void)
{
	struct vmr_error *err = NULL;
	_cleanup_free_ char *bpf = NULL;
	_cleanup_close_ int fd = memfd_create("bpf", MFD_CLOEXEC);
	const struct sock_filter *built;
	size_t n, len = 0;
	char path[64];
	int r;

	built = vmr_sandbox_bpf(&n);
	r = fd < 0 ? -1 : vmr_sandbox_filter_export(fd, &err);
	ok(r == 0, "the filter exports as BPF%s%s", err ? ": " : "", err ? err->msg : "");
	vmr_error_free(err);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (r < 0 || read_file(path, 1 << 20, &bpf, &len) < 0)
		return;
	is_int((long long)len, (long long)(n * sizeof(*built)),
	       "the built-in program has as many instructions (%zu)", n);
	ok(len == n * sizeof(*built) && memcmp(bpf, built, len) == 0,
	   "the built-in program is the export, instruction for instruction");
}

static void test_loaded(const char *dir)
{
	int status = -1;
	pid_t pid;

	memset(res, 0, sizeof(*res) * C_MAX);
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0)
		child_checks(dir);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child ran every check (status %d)",
	   status);
	is_int(res[C_LOADED].ret, 1, "vmr_sandbox_supervisor loaded the filter");
	is_int(res[C_STATUS_NNP].ret, 1, "NoNewPrivs: 1");
	is_int(res[C_STATUS_SECCOMP].ret, 2, "Seccomp: 2");

	expect_denied(C_EXECVE, EPERM, "execve");
	expect_denied(C_EXECVEAT, EPERM, "execveat");
	expect_denied(C_MOUNT, EPERM, "mount");
	expect_denied(C_UMOUNT, EPERM, "umount2");
	expect_denied(C_UNSHARE, EPERM, "unshare(CLONE_NEWNET)");
	expect_denied(C_CLONE_NEWUSER, EPERM, "clone(CLONE_NEWUSER)");
	expect_denied(C_CLONE3, ENOSYS, "clone3");
	expect_denied(C_SETUID, EPERM, "setuid");
	expect_denied(C_SETGROUPS, EPERM, "setgroups");
	expect_denied(C_INIT_MODULE, EPERM, "init_module");
	expect_denied(C_REBOOT, EPERM, "reboot");
	if (listed("ptrace"))
		expect_denied(C_PTRACE, EPERM, "ptrace");
	else
		tap_skip("built with AddressSanitizer, whose leak checker needs ptrace",
			 "ptrace denied");
	expect_denied(C_TIOCSTI, EPERM, "ioctl TIOCSTI");
	expect_denied(C_MKNOD, EPERM, "mknod");

	expect_allowed(C_NETLINK, "an RTM_GETLINK dump over NETLINK_ROUTE");
	expect_allowed(C_FILE, "open, write, fsync, rename and unlink");
	expect_allowed(C_FLOCK, "flock");
	expect_allowed(C_KILL, "kill(parent, 0)");
	expect_allowed(C_AFFINITY, "sched_setaffinity");
	expect_allowed(C_FORK, "fork and waitpid");
	expect_allowed(C_THREAD, "pthread_create (clone3 falls back to clone)");
}

static void *thread_execve(void *arg)
{
	char *const argv[] = {"/bin/true", NULL};
	char *const envp[] = {NULL};

	(void)arg;
	record(C_EXECVEAT, execve(argv[0], argv, envp));
	return NULL;
}

/*
 * A denied call is answered EPERM by the SIGSYS handler and logged once
 * per system call: execve from a thread and then from the main thread,
 * mount twice, make two lines.
 */
static void test_log_once(const char *dir)
{
	_cleanup_free_ char *path = xasprintf("%s/stderr", dir);
	_cleanup_free_ char *text = NULL, *want = NULL;
	char *const argv[] = {"/bin/true", NULL};
	char *const envp[] = {NULL};
	int status = -1;
	pid_t pid;

	memset(res, 0, sizeof(*res) * C_MAX);
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		pthread_t th;

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(1);
		if (vmr_sandbox_supervisor(NULL) != 1)
			_exit(2);
		if (pthread_create(&th, NULL, thread_execve, NULL) != 0 || pthread_join(th, NULL))
			_exit(3);
		record(C_EXECVE, execve(argv[0], argv, envp));
		record(C_MOUNT, mount("none", "/nonexistent/vmrt", "tmpfs", 0, NULL));
		record(C_UMOUNT, mount("none", "/nonexistent/vmrt", "tmpfs", 0, NULL));
		_exit(0);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "log-once child ran (status %d)", status);
	expect_denied(C_EXECVEAT, EPERM, "execve from a second thread");
	expect_denied(C_EXECVE, EPERM, "execve again, from the main thread");
	expect_denied(C_MOUNT, EPERM, "mount");
	expect_denied(C_UMOUNT, EPERM, "mount again");
	want = xasprintf("vmrun: seccomp: denied execve (pid %d)\n"
			 "vmrun: seccomp: denied mount (pid %d)\n",
			 (int)pid, (int)pid);
	ok(read_file(path, 1 << 16, &text, NULL) == 0, "read the child's stderr");
	is_str(text ? text : "", want, "one line per denied system call, not per call");
	unlink(path);
}

#if defined(__x86_64__)
static long i386_getpid(void)
{
	long r;

	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
	return r;
}

/*
 * SIG_DFL for SIGSEGV set with the raw system call: the sanitizers wrap
 * signal() and sigaction() and may keep their own handler.
 */
static void sigsegv_default(void)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		unsigned long mask;
	} ksa = {0};

	(void)syscall(SYS_rt_sigaction, SIGSEGV, &ksa, NULL, sizeof(ksa.mask));
}

/* Returns the wait status of a child making a call through abi. */
static int foreign_abi_call(bool filter, bool x32)
{
	int status = -1;
	pid_t pid = fork();

	if (pid < 0)
		abort();
	if (pid == 0) {
		/*
		 * Without IA-32 emulation int 0x80 raises SIGSEGV: die of it
		 * quietly (AddressSanitizer's handler would report a crash),
		 * and the unfiltered probe call below reads it as "no i386 ABI".
		 */
		sigsegv_default();
		if (filter && vmr_sandbox_supervisor(NULL) != 1)
			_exit(50);
		if (x32)
			syscall(0x40000000 | SYS_getpid);
		else if (i386_getpid() != getpid())
			_exit(51);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return status;
}

static void test_foreign_abis(void)
{
	int st;

	/* the probe: the same call without the filter */
	st = foreign_abi_call(false, false);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		tap_skip(WIFSIGNALED(st) ? "this kernel has no IA-32 emulation (int 0x80 faults)"
					 : "int 0x80 does not return getpid() here",
			 "int 0x80 kills");
	} else {
		st = foreign_abi_call(true, false);
		ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
		   "a system call through int 0x80 (i386 ABI) is killed with SIGSYS (status %d)",
		   st);
	}
	st = foreign_abi_call(true, true);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	   "an x32 system call is killed with SIGSYS (status %d)", st);
}
#endif

static void test_env(void)
{
	int status = -1;
	pid_t pid;

	unsetenv("VMRUN_NO_SANDBOX");
	ok(vmr_sandbox_enabled(), "enabled by default");
	setenv("VMRUN_NO_SANDBOX", "0", 1);
	ok(vmr_sandbox_enabled(), "VMRUN_NO_SANDBOX=0: enabled");
	setenv("VMRUN_NO_SANDBOX", "1", 1);
	ok(!vmr_sandbox_enabled(), "VMRUN_NO_SANDBOX=1: disabled");
	pid = fork();
	if (pid == 0) {
		int r = vmr_sandbox_supervisor(NULL);

		_exit(r == 0 && status_value("Seccomp") == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "VMRUN_NO_SANDBOX=1: vmr_sandbox_supervisor returns 0 and loads nothing");
	unsetenv("VMRUN_NO_SANDBOX");
}

int main(void)
{
	char dir[] = "/tmp/vmrt-sandbox-XXXXXX";
	_cleanup_free_ char *lock = NULL;

	res = mmap(NULL, sizeof(*res) * C_MAX, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		   -1, 0);
	if (res == MAP_FAILED || !mkdtemp(dir))
		abort();
	unsetenv("VMRUN_NO_SANDBOX");
	test_list();
	/* valgrind does not emulate seccomp(2), so libseccomp finds no TSYNC */
	if (seccomp_api_get() < 2) {
		tap_skip("no seccomp() system call here (running under valgrind?)",
			 "build and load the filter");
	} else {
		test_pfc();
		test_bpf_same();
		test_loaded(dir);
		test_log_once(dir);
#if defined(__x86_64__)
		test_foreign_abis();
#endif
	}
	test_env();
	lock = xasprintf("%s/lock", dir);
	unlink(lock);
	if (rmdir(dir) < 0)
		tap_diag("rmdir '%s': %s", dir, strerror(errno));
	return tap_done();
}
