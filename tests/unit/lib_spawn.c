/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Process spawning: fd hygiene, clean environment and signal state, exec
 * failure reported, the privilege drop (lib/caps.h) and its failures,
 * PDEATHSIG.  The test re-executes
 * itself (/proc/self/exe) as the spawned program, which reports what it
 * sees as "key=value" lines on stdout; as uid 65534 it runs a copy staged
 * under /tmp, since that user may not enter the checkout.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lib/base/buf.h"
#include "lib/base/spawn.h"
#include "lib/base/util.h"
#include "tests/lib/proc.h"
#include "tests/lib/tap.h"

extern char **environ;

/* our own binary, resolved (valgrind cannot exec /proc/self/exe) */
static char self_exe[4096];

/* A field of our own /proc status, "?" when it cannot be read. */
static char *status_field(const char *name)
{
	_cleanup_free_ char *s = NULL;

	if (read_file("/proc/self/status", 1 << 16, &s, NULL) < 0)
		return xstrdup("?");
	return test_status_field(s, name);
}

/* The spawned side: report, then write a marker into fds 3 and 4 if open. */
static int child_report(void)
{
	struct vmr_buf b = VMR_BUF_INIT;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int pdeath = -1, nenv = 0;
	char *f;

	struct rlimit nofile = {RLIM_INFINITY, RLIM_INFINITY};

	/* valgrind keeps its own fds above the limit it shows its client */
	(void)getrlimit(RLIMIT_NOFILE, &nofile);
	vmr_buf_adds(&b, "fds=");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d) ||
		    (rlim_t)atoi(de->d_name) >= nofile.rlim_cur)
			continue;
		vmr_buf_addf(&b, "%s ", de->d_name);
	}
	if (d)
		closedir(d);
	vmr_buf_addc(&b, '\n');
	for (char **e = environ; *e; e++) {
		vmr_buf_addf(&b, "env=%s\n", *e);
		nenv++;
	}
	vmr_buf_addf(&b, "nenv=%d\n", nenv);
	prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
	vmr_buf_addf(&b, "pdeathsig=%d\n", pdeath);
	vmr_buf_addf(&b, "session_leader=%d\n", getsid(0) == getpid());
	vmr_buf_addf(&b, "uid=%d\ngid=%d\n", (int)getuid(), (int)getgid());
	vmr_buf_addf(&b, "ngroups=%d\n", getgroups(0, NULL));
	{
		_cleanup_free_ char *cl = NULL;
		size_t len = 0;

		if (read_file("/proc/self/cmdline", 1 << 16, &cl, &len) == 0) {
			for (size_t i = 0; i + 1 < len; i++)
				if (cl[i] == '\0')
					cl[i] = ' ';
			vmr_buf_addf(&b, "cmdline=%s\n", cl);
		}
	}
	static const char *const fields[] = {"NoNewPrivs", "SigBlk", "SigIgn",		 "SigCgt",
					     "CapBnd",	   "CapEff", "Cpus_allowed_list"};
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		f = status_field(fields[i]);
		vmr_buf_addf(&b, "%s=%s\n", fields[i], f);
		free(f);
	}
	write_all(1, b.s, b.len);
	vmr_buf_free(&b);
	if (fcntl(3, F_GETFD) >= 0)
		write_all(3, "three", 5);
	if (fcntl(4, F_GETFD) >= 0)
		write_all(4, "four", 4);
	return 0;
}

static char *field(const char *report, const char *key)
{
	_cleanup_free_ char *k = xasprintf("%s=", key);
	const char *p = report;

	while (p) {
		if (startswith(p, k)) {
			const char *v = p + strlen(k), *nl = strchr(v, '\n');

			return xstrndup(v, nl ? (size_t)(nl - v) : strlen(v));
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return xstrdup("<missing>");
}

/*
 * Spawn exe (ourselves or a staged copy of us) in report mode with s
 * (argv/stdout filled in here).
 */
static char *spawn_report_exe(struct vmr_spawn *s, const char *exe, pid_t *ret_pid, int *ret_status)
{
	char *const argv[] = {(char *)exe, "report", NULL};
	struct vmr_error *err = NULL;
	int out[2], r;
	pid_t pid = -1;
	char *rep;

	if (pipe2(out, O_CLOEXEC) < 0)
		abort();
	s->argv = argv;
	s->stdout_fd = out[1];
	r = vmr_spawn(s, &pid, &err);
	close(out[1]);
	if (r < 0) {
		tap_diag("spawn failed: %s", err ? err->msg : "?");
		vmr_error_free(err);
		close(out[0]);
		return NULL;
	}
	rep = test_read_fd(out[0]);
	close(out[0]);
	while (waitpid(pid, ret_status, 0) < 0 && errno == EINTR)
		;
	if (ret_pid)
		*ret_pid = pid;
	return rep;
}

static char *spawn_report(struct vmr_spawn *s, pid_t *ret_pid, int *ret_status)
{
	return spawn_report_exe(s, self_exe, ret_pid, ret_status);
}

/* The kernel's sigaction, for the signals glibc's refuses; handler first
 * and zeros elsewhere is the right layout on every architecture. */
static void sig_raw(int sig, void (*handler)(int))
{
	unsigned long ksa[8] = {(unsigned long)handler};

	if (syscall(SYS_rt_sigaction, sig, ksa, NULL, (size_t)(NSIG - 1) / 8) < 0)
		abort();
}

static void check_field(const char *rep, const char *key, const char *want, const char *what)
{
	_cleanup_free_ char *got = rep ? field(rep, key) : xstrdup("<no report>");

	is_str(got, want, "%s", what);
}

static void test_fds_env_signals(void)
{
	struct vmr_spawn s = {.stdin_fd = -1, .stderr_fd = -1};
	int a[2], b[2], fds[2], leak, status = -1;
	_cleanup_free_ char *rep = NULL, *ra = NULL, *rb = NULL;
	sigset_t block;
	char *env[] = {"PATH=/usr/sbin:/usr/bin", NULL};

	/* sources sit on the target numbers, crossed: 4 -> 3 and 3 -> 4 */
	if (pipe(a) < 0 || pipe(b) < 0)
		abort();
	if (dup2(a[1], 200) < 0 || dup2(b[1], 201) < 0)
		abort();
	close(a[1]);
	close(b[1]);
	fcntl(a[0], F_SETFD, FD_CLOEXEC);
	fcntl(b[0], F_SETFD, FD_CLOEXEC);
	/* the read ends may occupy 3 and 4: move them out of the way */
	a[0] = fcntl(a[0], F_DUPFD_CLOEXEC, 300);
	b[0] = fcntl(b[0], F_DUPFD_CLOEXEC, 300);
	close(3);
	close(4);
	if (dup2(200, 4) < 0 || dup2(201, 3) < 0)
		abort();
	close(200);
	close(201);
	fds[0] = 4; /* a */
	fds[1] = 3; /* b */
	/* a leaked fd without CLOEXEC must not reach the child */
	leak = open("/dev/null", O_RDONLY);
	s.fds = fds;
	s.nfds = 2;
	s.envp = env;
	s.pdeathsig = SIGKILL;
	/* a blocked and an ignored signal in the parent */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	signal(SIGUSR1, SIG_IGN);
	/* and an ignored signal glibc keeps to itself (GNU make leaves 32 and
	 * 33 so), which sigaction() cannot reset */
	sig_raw(32, SIG_IGN);

	rep = spawn_report(&s, NULL, &status);
	close(3);
	close(4);
	ok(rep != NULL && WIFEXITED(status) && WEXITSTATUS(status) == 0, "spawned child ran");
	ra = test_read_fd(a[0]);
	rb = test_read_fd(b[0]);
	check_field(rep, "fds", "0 1 2 3 4 ", "child holds exactly fds 0-2 and the 2 passed");
	is_str(ra, "three", "fds[0] became fd 3 although the numbers crossed");
	is_str(rb, "four", "fds[1] became fd 4");
	check_field(rep, "nenv", "1", "environment is exactly what was given");
	check_field(rep, "env", "PATH=/usr/sbin:/usr/bin", "PATH passed");
	check_field(rep, "SigBlk", "0000000000000000", "signal mask cleared");
	check_field(rep, "SigIgn", "0000000000000000", "ignored signals reset");
	check_field(rep, "NoNewPrivs", "1", "NoNewPrivs set");
	check_field(rep, "pdeathsig", "9", "PDEATHSIG is SIGKILL");
	check_field(rep, "session_leader", "1", "child leads a new session");
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	signal(SIGUSR1, SIG_DFL);
	sig_raw(32, SIG_DFL);
	close(leak);
	close(a[0]);
	close(b[0]);

	/* envp NULL: empty environment */
	free(rep);
	s = (struct vmr_spawn){.stdin_fd = -1, .stderr_fd = -1};
	rep = spawn_report(&s, NULL, &status);
	check_field(rep, "nenv", "0", "NULL envp gives an empty environment");
	check_field(rep, "pdeathsig", "0", "no PDEATHSIG unless asked");
	check_field(rep, "NoNewPrivs", "1", "NoNewPrivs also without a privilege drop");
}

static void test_exec_failure(void)
{
	static char *const argv[] = {"/nonexistent/qemu-system-x86_64", NULL};
	struct vmr_spawn s = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
	struct vmr_error *err = NULL;
	pid_t pid = -1;
	int r;

	r = vmr_spawn(&s, &pid, &err);
	ok(r < 0 && err && err->errnum == ENOENT, "exec failure reported to the parent");
	is_str(err ? err->msg : NULL, "exec '/nonexistent/qemu-system-x86_64'",
	       "message names the program");
	ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "failed child already reaped");
	vmr_error_free(err);
}

static void test_setup_failure(void)
{
	char *const argv[] = {self_exe, "report", NULL};
	unsigned cpu = 4000;
	struct vmr_cpuset cs = {&cpu, 1};
	struct vmr_spawn s = {
	    .argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .affinity = &cs};
	struct vmr_error *err = NULL;
	pid_t pid = -1;

	ok(vmr_spawn(&s, &pid, &err) < 0 && err && err->errnum == EINVAL,
	   "a failing setup step is reported");
	ok(err && startswith(err->msg, "start '") && strstr(err->msg, "': sched_setaffinity"),
	   "message names the step: %s", err ? err->msg : "");
	vmr_error_free(err);
}

static void test_affinity(void)
{
	unsigned cpu = 1;
	struct vmr_cpuset cs = {&cpu, 1};
	struct vmr_spawn s = {.stdin_fd = -1, .stderr_fd = -1, .affinity = &cs};
	_cleanup_free_ char *rep = NULL;
	cpu_set_t mine;

	if (sched_getaffinity(0, sizeof(mine), &mine) < 0 || !CPU_ISSET(1, &mine)) {
		tap_skip("CPU 1 is not available to this process", "affinity set before exec");
		return;
	}
	rep = spawn_report(&s, NULL, NULL);
	check_field(rep, "Cpus_allowed_list", "1", "affinity set before exec");
}

static void test_user_drop(void)
{
	struct vmr_spawn_user u = {0};
	struct vmr_caps_drop_opts o = {0};
	struct vmr_caps_drop d = {0};
	struct vmr_error *err = NULL;
	struct vmr_spawn s = {.stdin_fd = -1, .stderr_fd = -1, .pdeathsig = SIGKILL};
	int p[2], fds[1];
	_cleanup_free_ char *rep = NULL, *marker = NULL, *stage = NULL, *exe = NULL;

	if (geteuid() != 0) {
		tap_skip("needs root to change uid", "drop to uid 65534");
		return;
	}
	/* uid 65534 execs a copy of us: it may not enter the checkout */
	stage = test_stage_dir();
	if (stage)
		exe = test_stage_copy(stage, self_exe, 0755);
	ok(exe != NULL, "a copy of the test staged where uid 65534 can run it");
	if (!exe) {
		tap_diag("stage '%s' under /tmp: %s", self_exe, strerror(errno));
		test_stage_remove(stage);
		return;
	}
	ok(vmr_spawn_user_lookup("65534:65534", &u, &err) == 0, "numeric user parsed");
	is_int(u.uid, 65534, "uid");
	ok(vmr_spawn_user_lookup("no-such-user-vmrt", &(struct vmr_spawn_user){0}, &err) < 0 &&
	       err && err->status == VMR_EXIT_USAGE,
	   "unknown user is invalid input");
	vmr_error_clear(&err);
	o = (struct vmr_caps_drop_opts){.change_ids = true, .uid = u.uid, .gid = u.gid};
	ok(vmr_caps_drop_prepare(&o, &d, &err) == 0, "drop to 65534 prepared");
	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	fds[0] = p[1];
	s.fds = fds;
	s.nfds = 1;
	s.caps = &d;
	rep = spawn_report_exe(&s, exe, NULL, NULL);
	test_stage_remove(stage);
	close(p[1]);
	marker = test_read_fd(p[0]);
	close(p[0]);
	check_field(rep, "uid", "65534", "runs as uid 65534");
	check_field(rep, "gid", "65534", "runs as gid 65534");
	check_field(rep, "ngroups", "0", "no supplementary groups");
	check_field(rep, "CapBnd", "0000000000000000", "bounding set dropped");
	check_field(rep, "CapEff", "0000000000000000", "no effective capabilities");
	check_field(rep, "pdeathsig", "9", "PDEATHSIG survives the uid change (set after it)");
	check_field(rep, "NoNewPrivs", "1", "NoNewPrivs after the drop");
	is_str(marker, "three", "passed fd still usable after the drop");
	vmr_caps_drop_free(&d);
	vmr_spawn_user_free(&u);

	/* staying root: only CAP_IPC_LOCK is left */
	free(rep);
	o = (struct vmr_caps_drop_opts){0};
	ok(vmr_caps_drop_prepare(&o, &d, &err) == 0, "root drop prepared");
	s = (struct vmr_spawn){.stdin_fd = -1, .stderr_fd = -1, .pdeathsig = SIGKILL, .caps = &d};
	rep = spawn_report(&s, NULL, NULL);
	check_field(rep, "uid", "0", "root QEMU stays uid 0");
	check_field(rep, "CapBnd", "0000000000004000", "bounding set is CAP_IPC_LOCK only");
	check_field(rep, "CapEff", "0000000000004000", "effective set is CAP_IPC_LOCK only");
	check_field(rep, "pdeathsig", "9", "PDEATHSIG set");
	vmr_caps_drop_free(&d);
}

static void test_drop_failure(void)
{
	char *const argv[] = {self_exe, "report", NULL};
	/* a soft limit above the hard one: setrlimit fails, even for root */
	struct vmr_caps_drop d = {.set_memlock = true, .memlock = {2 << 20, 1 << 20}};
	struct vmr_spawn s = {
	    .argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .caps = &d};
	struct vmr_error *err = NULL;
	_cleanup_free_ char *want = xasprintf("start '%s': raise RLIMIT_MEMLOCK", self_exe);
	pid_t pid = -1;

	ok(vmr_spawn(&s, &pid, &err) < 0 && err && err->errnum == EINVAL,
	   "a failing privilege drop is reported");
	is_str(err ? err->msg : NULL, want, "message names the step of the drop");
	ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "failed child already reaped");
	vmr_error_free(err);
}

static void test_pdeathsig(void)
{
	char *const argv[] = {self_exe, "sleep", NULL};
	int p[2], status = 0;
	pid_t mid, grandchild = -1;
	bool died = false;

	/* orphans come back to us, so we can see how the grandchild died */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	mid = fork();
	if (mid == 0) {
		struct vmr_spawn s = {.argv = argv,
				      .stdin_fd = -1,
				      .stdout_fd = -1,
				      .stderr_fd = -1,
				      .pdeathsig = SIGKILL};
		pid_t pid = -1;

		if (vmr_spawn(&s, &pid, NULL) < 0)
			_exit(1);
		write_all(p[1], &pid, sizeof(pid));
		pause();
		_exit(0);
	}
	close(p[1]);
	ok(read(p[0], &grandchild, sizeof(grandchild)) == sizeof(grandchild),
	   "intermediate parent spawned a child");
	close(p[0]);
	kill(mid, SIGKILL);
	waitpid(mid, NULL, 0);
	/* generous bound, not a timing check: a missing PDEATHSIG would hang */
	for (int i = 0; i < 1000 && grandchild > 0; i++) {
		pid_t r = waitpid(grandchild, &status, WNOHANG);

		if (r == grandchild) {
			died = true;
			break;
		}
		usleep(10000);
	}
	ok(died && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	   "child got SIGKILL when its parent was killed");
	if (!died && grandchild > 0) {
		kill(grandchild, SIGKILL);
		waitpid(grandchild, NULL, 0);
	}
}

/* What vmr_spawn_fork() runs in the child: the same report, exit status 7. */
static int fork_fn(void *arg)
{
	int fd = *(int *)arg;

	/* the parent's fd, numbered as it was: closed in the child */
	if (fcntl(fd, F_GETFD) >= 0)
		return 1;
	child_report();
	return 7;
}

static void on_usr2(int sig)
{
	(void)sig;
}

static void test_fork(void)
{
	char *env[] = {"PATH=/bin", "NOTIFY_SOCKET=@x", NULL};
	char *title[] = {"vmrun", "--state-dir", "/run/x", "run", "/t.yaml", "g", NULL};
	int out[2], leak, cloexec, status = -1;
	struct vmr_spawn_fork s;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *rep = NULL, *capeff = status_field("CapEff");
	/* before on_usr2: what the kernel sees caught that this test did not catch */
	_cleanup_free_ char *cgt0 = status_field("SigCgt");
	sigset_t block;
	pid_t pid = -1;

	if (pipe2(out, O_CLOEXEC) < 0)
		abort();
	/* neither an inherited fd nor a close-on-exec one reaches it: no exec follows */
	leak = open("/dev/null", O_RDONLY);
	cloexec = open("/dev/null", O_RDONLY | O_CLOEXEC);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, on_usr2);
	s = (struct vmr_spawn_fork){
	    .stdin_fd = -1,
	    .stdout_fd = out[1],
	    .stderr_fd = -1,
	    .envp = env,
	    .title = title,
	    .fn = fork_fn,
	    .arg = &leak,
	};
	ok(vmr_spawn_fork(&s, &pid, &err) == 0 && pid > 0, "fork: child started");
	close(out[1]);
	rep = test_read_fd(out[0]);
	close(out[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 7, "fork: exits with fn's return value");
	check_field(rep, "fds", "0 1 2 ", "fork: child holds exactly fds 0-2");
	check_field(rep, "nenv", "2", "fork: environment is envp");
	check_field(rep, "env", "PATH=/bin", "fork: envp's first entry");
	check_field(rep, "SigBlk", "0000000000000000", "fork: signal mask cleared");
	check_field(rep, "SigIgn", "0000000000000000", "fork: ignored signals reset");
	if (strtoull(cgt0, NULL, 16) == 0)
		check_field(rep, "SigCgt", "0000000000000000", "fork: caught signals reset");
	else /* valgrind catches every signal itself */
		tap_skip("the kernel sees handlers this program did not install (valgrind's?)",
			 "fork: caught signals reset");
	check_field(rep, "NoNewPrivs", "1", "fork: NoNewPrivs set");
	check_field(rep, "session_leader", "1", "fork: child leads a new session");
	/* CAP_SYS_RESOURCE is capability 24 */
	if (strtoull(capeff, NULL, 16) & (1ull << 24))
		check_field(rep, "cmdline", "vmrun --state-dir /run/x run /t.yaml g",
			    "fork: /proc/PID/cmdline is the title");
	else
		tap_skip("no CAP_SYS_RESOURCE", "fork: /proc/PID/cmdline is the title");
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	close(leak);
	close(cloexec);
	vmr_error_free(err);
}

/* the files source: uid, gid, groups with the primary first, each once */
static void test_user_files(void)
{
	char dir[] = "/tmp/vmrt-users.XXXXXX";
	_cleanup_free_ char *pw = NULL, *gr = NULL;
	struct vmr_spawn_user u = {0};
	FILE *f;

	if (!mkdtemp(dir))
		abort();
	pw = xasprintf("%s/passwd", dir);
	gr = xasprintf("%s/group", dir);
	f = fopen(pw, "we");
	fputs("root:x:0:0:root:/root:/bin/sh\n"
	      "vmrun:x:998:997:vmrun:/nonexistent:/usr/sbin/nologin\n"
	      "vmrunner:x:1000:1000::/home/r:/bin/sh\n",
	      f);
	fclose(f);
	f = fopen(gr, "we");
	fputs("root:x:0:\n"
	      "kvm:x:104:vmrunner,vmrun\n"
	      "vmrun:x:997:vmrun\n"
	      "audio:x:29:vmrun2,vmrunner\n"
	      "tty:x:5:vmrun\n",
	      f);
	fclose(f);

	ok(vmr_user_from_files(pw, gr, "vmrun", &u) == 0, "files: vmrun found");
	is_int(u.uid, 998, "files: uid");
	is_int(u.gid, 997, "files: gid");
	is_int((long)u.ngroups, 3,
	       "files: the primary group once, kvm and tty (not vmrun2's audio)");
	ok(u.ngroups == 3 && u.groups[0] == 997 && u.groups[1] == 104 && u.groups[2] == 5,
	   "files: primary first, then in the file's order");
	vmr_spawn_user_free(&u);
	is_int(vmr_user_from_files(pw, gr, "vmru", &u), -ENOENT, "files: a prefix is not a user");
	is_int(vmr_user_from_files(pw, gr, "nobody", &u), -ENOENT, "files: absent user: ENOENT");
	unlink(gr);
	ok(vmr_user_from_files(pw, gr, "vmrunner", &u) == 0 && u.ngroups == 1 &&
	       u.groups[0] == 1000,
	   "files: no group file: the primary group only");
	vmr_spawn_user_free(&u);
	unlink(pw);
	is_int(vmr_user_from_files(pw, gr, "root", &u), -ENOENT, "files: no passwd file: ENOENT");
	rmdir(dir);

	/* the real files against NSS, for root (always in /etc/passwd) */
	{
		gid_t nss[64];
		int n = 64;
		bool same;

		ok(vmr_spawn_user_lookup("root", &u, NULL) == 0, "root looked up");
		same = getgrouplist("root", 0, nss, &n) >= 0 && (size_t)n == u.ngroups;
		for (int i = 0; same && i < n; i++)
			same = nss[i] == u.groups[i];
		ok(same && u.uid == 0 && u.gid == 0,
		   "root: as getpwnam(3) and getgrouplist(3) say");
		vmr_spawn_user_free(&u);
		ok(vmr_user_exists("root") && !vmr_user_exists("no-such-user-vmrt"),
		   "vmr_user_exists: root yes, a made-up name no");
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && streq(argv[1], "report"))
		return child_report();
	if (argc > 1 && streq(argv[1], "sleep")) {
		for (;;)
			pause();
	}
	if (readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1) < 0) {
		perror("readlink /proc/self/exe");
		return 1;
	}
	test_fds_env_signals();
	test_exec_failure();
	test_setup_failure();
	test_affinity();
	test_user_drop();
	test_drop_failure();
	test_pdeathsig();
	test_fork();
	test_user_files();
	return tap_done();
}
