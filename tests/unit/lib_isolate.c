/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU's isolation pieces on their own: container detection on a fake
 * root, the cgroup limits and a leaf made and undone in a fake cgroup v2
 * tree through the journal, the private mount plan, and the namespace
 * applied for real in a forked child (root only).
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include "lib/base/cgroup.h"
#include "lib/base/container.h"
#include "lib/base/fsutil.h"
#include "lib/base/journal.h"
#include "lib/base/mountns.h"
#include "lib/base/spawn.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

static char dir[] = "/tmp/vmrt-isolate-XXXXXX";

static void put(const char *rel, const char *text)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, rel);
	_cleanup_free_ char *d = xstrdup(path);

	*strrchr(d, '/') = '\0';
	(void)vmr_mkdir_p(d, 0755);
	if (write_file_atomic(path, text, strlen(text), 0644) < 0)
		tap_diag("cannot write %s", path);
}

static char *get(const char *rel)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, rel);
	char *text = NULL;

	if (read_file(path, 4096, &text, NULL) < 0)
		return NULL;
	return text;
}

static bool exists(const char *rel)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, rel);

	return access(path, F_OK) == 0;
}

static void test_container(void)
{
	_cleanup_free_ char *root = xasprintf("%s/root", dir);
	char *what = NULL;

	put("root/etc/hostname", "x\n");
	is_int(vmr_container_detect(root, NULL, &what), 0, "container: none on a plain root");
	is_int(vmr_container_detect(root, "", &what), 0, "container: an empty $container is none");
	is_int(vmr_container_detect(root, "systemd-nspawn", &what), 1, "container: $container");
	is_str(what, "systemd-nspawn", "container: named by $container");
	free(what);
	put("root/.dockerenv", "");
	is_int(vmr_container_detect(root, NULL, &what), 1, "container: /.dockerenv");
	is_str(what, "docker", "container: docker");
	free(what);
	put("root/run/.containerenv", "");
	vmr_container_detect(root, NULL, &what);
	is_str(what, "podman", "container: /run/.containerenv is podman (before /.dockerenv)");
	free(what);
	put("root/run/systemd/container", "lxc\n");
	vmr_container_detect(root, NULL, &what);
	is_str(what, "lxc", "container: /run/systemd/container's first line");
	free(what);
}

static void test_limits(void)
{
	unsigned v[] = {3, 1}, em[] = {0}, io[] = {1, 5};
	struct vmr_cpuset vcpus = {v, 2}, emu = {em, 1}, iot = {io, 2};
	struct vmr_cgroup_limits l;
	_cleanup_free_ char *cpus = NULL, *path = NULL;

	vmr_cgroup_limits(&vcpus, &emu, &iot, UINT64_C(1) << 30, 2, &l);
	cpus = vmr_cpuset_format(&l.cpus);
	is_str(cpus, "0-1,3,5",
	       "limits: cpuset.cpus is the sorted union of vCPU, emulator, iothread CPUs");
	ok(l.memory_max == (UINT64_C(1) << 30) + VMR_CGROUP_MEMORY_OVERHEAD,
	   "limits: memory.max is guest memory + 512 MiB");
	is_int((long long)l.pids_max, VMR_CGROUP_PIDS_BASE + 8,
	       "limits: pids.max 256 + 4 per vCPU");
	vmr_cgroup_limits_free(&l);
	vmr_cgroup_limits(NULL, NULL, NULL, 256 << 20, 1, &l);
	is_int((long long)l.cpus.n, 0, "limits: no cpuset, no cpuset.cpus");
	vmr_cgroup_limits_free(&l);
	path = vmr_cgroup_path("/sys/fs/cgroup", "a");
	is_str(path, "/sys/fs/cgroup/vmrun/a", "path: ROOT/vmrun/GUEST");
	{
		static const char self[] = "9:name=systemd:/\n8:pids:/\n4:memory:/api/x1\n"
					   "1:cpu,cpuacct:/c\n0::/\n";
		_cleanup_free_ char *m = vmr_cgroup_v1_own(self, "memory");
		_cleanup_free_ char *p = vmr_cgroup_v1_own(self, "pids");
		_cleanup_free_ char *c = vmr_cgroup_v1_own(self, "cpuacct");
		_cleanup_free_ char *n = vmr_cgroup_v1_own(self, "cpuset");
		_cleanup_free_ char *v2 = vmr_cgroup_v1_own("0::/user.slice\n", "memory");

		ok(streq(m, "/api/x1") && streq(p, "/") && streq(c, "/c") && streq(n, "/") &&
		       streq(v2, "/"),
		   "v1: own cgroup per controller from /proc/self/cgroup (combined lists, v2 line "
		   "ignored, '/' when absent)");
	}
}

static int undo_count(const char *jpath)
{
	_cleanup_free_ char *text = NULL;
	int n = 0;

	if (read_file(jpath, 1 << 16, &text, NULL) < 0)
		return -1;
	for (char *p = text; (p = strchr(p, '\n')); p++)
		n++;
	return n;
}

static void test_cgroup(void)
{
	_cleanup_free_ char *root = xasprintf("%s/cg", dir), *why = NULL;
	_cleanup_free_ char *jpath = xasprintf("%s/journal.jsonl", dir);
	_cleanup_free_ char *leaf = NULL;
	char *v = NULL;
	unsigned c[] = {1};
	struct vmr_cgroup_limits l;
	struct vmr_cgroup cg = {0};
	struct vmr_journal *j = NULL;
	struct vmr_error *err = NULL;
	int r;

	vmr_cgroup_limits(&(struct vmr_cpuset){c, 1}, NULL, NULL, 256 << 20, 1, &l);
	(void)vmr_mkdir_p(root, 0755);
	is_int(vmr_cgroup_usable(root, &l, &why), -1, "usable: no cgroup.controllers");
	ok(why && strstr(why, "no cgroup v2 hierarchy at") && strstr(why, "no cgroup v1 cpuset"),
	   "usable: says neither v2 nor v1 is there (%s)", why);
	free(TAKE_PTR(why));
	{
		/* v1 nests under this process's own cgroup of each controller */
		static const char *const ctls[] = {"cpuset", "memory", "pids"};
		_cleanup_free_ char *self = NULL;

		(void)read_file("/proc/self/cgroup", 1 << 16, &self, NULL);
		for (size_t i = 0; i < ARRAY_SIZE(ctls); i++) {
			_cleanup_free_ char *own = vmr_cgroup_v1_own(self, ctls[i]);
			_cleanup_free_ char *rel = xasprintf("cg1/%s/cgroup.procs", ctls[i]);
			_cleanup_free_ char *d = xasprintf("%s/cg1/%s%s", dir, ctls[i], own);

			put(rel, "");
			(void)vmr_mkdir_p(d, 0755);
		}
	}
	{
		_cleanup_free_ char *v1 = xasprintf("%s/cg1", dir);

		is_int(vmr_cgroup_usable(v1, &l, &why), 1,
		       "usable: v1 controllers (a hybrid host)");
	}
	put("cg/cgroup.controllers", "cpuset cpu io memory pids\n");
	put("cg/cgroup.subtree_control", "memory pids\n");
	is_int(vmr_cgroup_usable(root, &l, &why), -1, "usable: cpuset not enabled");
	ok(why && strstr(why, "the cpuset controller is not enabled in"),
	   "usable: names the controller (%s)", why);
	free(TAKE_PTR(why));
	put("cg/cgroup.subtree_control", "cpuset memory pids\n");
	is_int(vmr_cgroup_usable(root, &l, &why), 2, "usable: v2 with the controllers");

	if (getuid() == 0) {
		/* an unprivileged supervisor: auto must turn off, not fail at mkdir */
		int st = 0;
		pid_t pid = fork();

		if (pid == 0) {
			char *w = NULL;

			if (setresgid(65534, 65534, 65534) < 0 ||
			    setresuid(65534, 65534, 65534) < 0)
				_exit(2);
			_exit(vmr_cgroup_usable(root, &l, &w) == -1 && w &&
				      strstr(w, "is not writable")
				  ? 0
				  : 1);
		}
		waitpid(pid, &st, 0);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		   "usable: a root the process cannot write is not usable");
	} else {
		tap_skip("not root", "usable: a root the process cannot write");
	}
	vmr_cgroup_register_undo();
	if (vmr_journal_open(jpath, &j, &err) < 0)
		return tap_diag("journal: %s", err->msg);
	/* a leftover leaf the journal does not name: removed before the new one */
	put("cg/vmrun/g/memory.max", "1\n");
	r = vmr_cgroup_create(root, 2, "g", &l, j, &cg, &err);
	ok(r == 0, "create: leaf made (%s)", err ? err->msg : "");
	is_int(undo_count(jpath), 1, "create: one journal entry");
	leaf = xasprintf("%s/vmrun/g", root);
	is_str(cg.path, leaf, "create: its path");
	ok(cg.nfds == 1 && fcntl(cg.procs_fd[0], F_GETFD) == FD_CLOEXEC,
	   "create: cgroup.procs open, close-on-exec");
	is_str((v = get("cg/vmrun/cgroup.subtree_control")), "+cpuset +memory +pids",
	       "create: controllers enabled for the leaves");
	free(v);
	is_str((v = get("cg/vmrun/g/cpuset.cpus")), "1", "create: cpuset.cpus");
	free(v);
	is_str((v = get("cg/vmrun/g/memory.max")), "805306368", "create: memory.max");
	free(v);
	is_str((v = get("cg/vmrun/g/pids.max")), "260", "create: pids.max");
	free(v);
	vmr_cgroup_close(&cg);
	ok(vmr_journal_replay(j, NULL, &err) == 0, "undo: journal replayed");
	ok(!exists("cg/vmrun/g") && !exists("cg/vmrun"), "undo: leaf and ROOT/vmrun removed");
	ok(exists("cg/cgroup.subtree_control"), "undo: the root stays");
	vmr_journal_close(j);
	vmr_cgroup_limits_free(&l);

	/* an entry whose mkdir never happened (killed right after the record) */
	{
		_cleanup_free_ char *never = xasprintf("%s/cg/vmrun/never", dir);
		json_t *e = json_pack("{s:s, s:s}", "type", "cgroup", "path", never);

		j = NULL;
		(void)vmr_journal_open(jpath, &j, NULL);
		(void)vmr_journal_record(j, e, NULL);
		json_decref(e);
		ok(vmr_journal_replay(j, NULL, &err) == 0 && undo_count(jpath) == 0,
		   "undo: a leaf that was never made is fine");
		vmr_error_clear(&err);
		vmr_journal_close(j);
	}
	/* a damaged entry removes nothing */
	{
		json_t *e = json_pack("{s:s, s:s}", "type", "cgroup", "path", dir);

		j = NULL;
		(void)vmr_journal_open(jpath, &j, NULL);
		(void)vmr_journal_record(j, e, NULL);
		json_decref(e);
		ok(vmr_journal_replay(j, NULL, &err) < 0 && err && strstr(err->msg, "bad path"),
		   "undo: a path outside ROOT/vmrun is refused");
		ok(exists("cg"), "undo: nothing removed");
		vmr_error_clear(&err);
		vmr_journal_close(j);
	}
}

/*
 * The undo on a real cgroup2 file system (the machine's, at a test
 * directory of its own, removed here): a process in the leaf is killed
 * (cgroup.kill), the leaf and ROOT/vmrun are removed.
 */
static void test_real_v2(void)
{
	static const char *const mounts[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	_cleanup_free_ char *root = NULL, *parent = NULL, *leaf = NULL, *procs = NULL;
	_cleanup_free_ char *mine = NULL, *want = NULL;
	const char *mnt = NULL;
	struct vmr_error *err = NULL;
	struct statfs sf;
	char buf[32];
	int st = 0, r;
	pid_t pid;

	for (size_t i = 0; i < ARRAY_SIZE(mounts) && !mnt; i++)
		if (statfs(mounts[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
			mnt = mounts[i];
	if (!mnt) {
		tap_skip("no cgroup2 file system mounted", "a real cgroup v2 leaf undone");
		return;
	}
	root = xasprintf("%s/vmrt-isolate-%d", mnt, (int)getpid());
	if (mkdir(root, 0755) < 0) {
		tap_skip(strerror(errno), "a real cgroup v2 leaf undone (mkdir in %s)", mnt);
		return;
	}
	parent = xasprintf("%s/vmrun", root);
	leaf = vmr_cgroup_path(root, "g");
	procs = xasprintf("%s/cgroup.procs", leaf);
	if (mkdir(parent, 0755) < 0 || mkdir(leaf, 0755) < 0) {
		tap_diag("mkdir '%s': %s", leaf, strerror(errno));
		rmdir(parent);
		rmdir(root);
		return;
	}
	pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	{
		/* cgroupfs makes no temporary files: a write in place */
		int fd = open(procs, O_WRONLY | O_CLOEXEC);

		r = fd >= 0 && write(fd, buf, strlen(buf)) > 0 ? 0 : -errno;
		if (fd >= 0)
			close(fd);
	}
	mine = xasprintf("/proc/%d/cgroup", (int)pid);
	want = xasprintf("0::%s/vmrun/g", root + strlen(mnt));
	{
		_cleanup_free_ char *text = NULL;

		(void)read_file(mine, 4096, &text, NULL);
		ok(r == 0 && text && strstr(text, want),
		   "real v2: a process placed in the leaf (%s)", want);
	}
	r = vmr_cgroup_remove(leaf, &err);
	ok(r == 0, "real v2: undo succeeds (%s)", err ? err->msg : "");
	vmr_error_clear(&err);
	if (waitpid(pid, &st, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		ok(false, "real v2: the process in the leaf was killed");
	} else {
		ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		   "real v2: the process in the leaf was killed");
	}
	ok(access(leaf, F_OK) < 0 && access(parent, F_OK) < 0,
	   "real v2: the leaf and ROOT/vmrun are removed");
	rmdir(leaf);
	rmdir(parent);
	ok(rmdir(root) == 0, "real v2: the test's cgroup removed");
}

static void test_plan(void)
{
	_cleanup_free_ char *file = xasprintf("%s/base.img", dir);
	_cleanup_free_ char *missing = xasprintf("%s/nope", dir);
	_cleanup_free_ char *text = NULL;
	struct vmr_mountns m = {0};
	struct vmr_error *err = NULL;

	put("base.img", "x");
	ok(vmr_mountns_add_dev(&m, "/dev/null", "/dev/null", true, &err) == 0, "plan: /dev/null");
	ok(vmr_mountns_add_dev(&m, missing, "/dev/kvm", false, &err) == 0 && m.n == 1,
	   "plan: a missing optional node is left out");
	ok(vmr_mountns_add_dev(&m, missing, "/dev/kvm", true, &err) < 0 && err &&
	       strstr(err->msg, "stat '") && err->errnum == ENOENT,
	   "plan: a missing required node is an error naming it");
	vmr_error_clear(&err);
	ok(vmr_mountns_add_dev(&m, "/dev/null", "/dev/a/b/c", true, &err) == 0 && m.n == 4 &&
	       m.v[1].kind == VMR_MOUNT_MKDIR && streq(m.v[1].dst, "/dev/a") &&
	       m.v[2].kind == VMR_MOUNT_MKDIR && streq(m.v[2].dst, "/dev/a/b") &&
	       m.v[3].kind == VMR_MOUNT_NODE,
	   "plan: the directories between /dev and a node come first");
	ok(vmr_mountns_add_dev(&m, "/dev/null", "/dev/../etc/x", true, &err) < 0,
	   "plan: a node path leaving /dev is refused");
	vmr_error_clear(&err);
	ok(vmr_mountns_add_ro(&m, file, &err) == 0 && m.n == 5 && m.v[4].kind == VMR_MOUNT_RO,
	   "plan: a regular file read-only");
	ok(vmr_mountns_add_ro(&m, file, &err) == 0 && vmr_mountns_add_ro(&m, missing, &err) == 0 &&
	       vmr_mountns_add_ro(&m, "/dev/null", &err) == 0 && m.n == 5,
	   "plan: duplicates, missing files and devices are not bound read-only");
	text = vmr_mountns_step_text(&m, VMR_MOUNTNS_BIND, 0);
	is_str(text, "bind '/dev/null' on '/dev/null'", "plan: a failed step names the entry");
	vmr_mountns_free(&m);
}

/* In a child: apply a plan, check what it sees, exit 0 when all is as planned. */
static int child_check(const char *file)
{
	struct vmr_mountns m = {0};
	int step = -1, index = -1, fd, n = 0;
	DIR *d;
	struct dirent *de;

	if (vmr_mountns_add_dev(&m, "/dev/null", "/dev/null", true, NULL) < 0 ||
	    vmr_mountns_add_dev(&m, "/dev/zero", "/dev/x/zero", true, NULL) < 0 ||
	    vmr_mountns_add_ro(&m, file, NULL) < 0)
		return 10;
	if (vmr_mountns_apply(&m, &step, &index) < 0)
		return 20 + step;
	d = opendir("/dev");
	if (!d)
		return 30;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	if (n != 2 || access("/dev/x/zero", R_OK) < 0)
		return 31; /* only null and x/ */
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "x", 1) != 1)
		return 32;
	close(fd);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 || errno != EROFS)
		return 33;
	if (mkdir("/dev/new", 0755) == 0 || errno != EROFS)
		return 34;
	return 0;
}

static void test_apply(void)
{
	_cleanup_free_ char *file = xasprintf("%s/ro.img", dir);
	struct vmr_error *err = NULL;
	int st;
	pid_t pid;

	if (vmr_mountns_probe(&err) < 0) {
		tap_skip(err->msg, "private mount namespace applied");
		vmr_error_free(err);
		return;
	}
	put("ro.img", "image");
	pid = fork();
	if (pid == 0)
		_exit(child_check(file));
	waitpid(pid, &st, 0);
	is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0,
	       "apply: /dev holds only the planned nodes, they work, the image is read-only, "
	       "the tmpfs is read-only");
	{
		_cleanup_free_ char *v = get("ro.img");
		int fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC);

		ok(fd >= 0 && write(fd, "!", 1) == 1, "apply: the host still writes the image");
		if (fd >= 0)
			close(fd);
	}
	{
		_cleanup_free_ char *mi = NULL;

		(void)read_file("/proc/self/mountinfo", 1 << 20, &mi, NULL);
		ok(mi && !strstr(mi, "ro.img"), "apply: nothing of it in this namespace");
	}
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path) < 0 ? 0 : 0;
}

/* Through vmr_spawn(): the child joins the cgroup and makes the namespace; a failed step is named.
 */
static void test_spawn(void)
{
	_cleanup_free_ char *out = xasprintf("%s/spawn.out", dir);
	_cleanup_free_ char *procs = xasprintf("%s/spawn.procs", dir);
	_cleanup_free_ char *gone = xasprintf("%s/gone.img", dir);
	_cleanup_free_ char *text = NULL, *msg = NULL, *want = NULL;
	char *const argv[] = {"/bin/sh", "-c", "ls /dev", NULL};
	struct vmr_mountns m = {0};
	struct vmr_cgroup cg = {.path = procs, .nfds = 1};
	struct vmr_error *err = NULL;
	int st = 0, fd;
	pid_t pid;

	if (vmr_mountns_probe(&err) < 0) {
		tap_skip(err->msg, "spawn with a private mount namespace");
		vmr_error_free(err);
		return;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cg.procs_fd[0] = open(procs, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	(void)vmr_mountns_add_dev(&m, "/dev/null", "/dev/null", true, NULL);
	(void)vmr_mountns_add_dev(&m, "/dev/zero", "/dev/zero", true, NULL);
	ok(vmr_spawn(&(struct vmr_spawn){.argv = argv,
					 .stdin_fd = -1,
					 .stdout_fd = fd,
					 .stderr_fd = -1,
					 .cgroup = &cg,
					 .mounts = &m},
		     &pid, &err) == 0,
	   "spawn: started with a cgroup and private mounts");
	waitpid(pid, &st, 0);
	close(fd);
	close(cg.procs_fd[0]);
	(void)read_file(out, 4096, &text, NULL);
	is_str(text, "null\nzero\n", "spawn: the program's /dev holds the planned nodes only");
	free(text);
	text = NULL;
	(void)read_file(procs, 4096, &text, NULL);
	is_str(text, "0", "spawn: the child wrote itself into cgroup.procs");

	put("gone.img", "x");
	(void)vmr_mountns_add_ro(&m, gone, NULL);
	unlink(gone);
	ok(vmr_spawn(
	       &(struct vmr_spawn){
		   .argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .mounts = &m},
	       &pid, &err) < 0,
	   "spawn: a file gone between plan and fork fails the start");
	msg = err ? vmr_error_text(err) : NULL;
	want = xasprintf("start '/bin/sh': private mounts: bind '%s' on '%s': No such file or "
			 "directory",
			 gone, gone);
	is_str(msg, want, "spawn: the error names the step and the file");
	vmr_error_free(err);
	vmr_mountns_free(&m);
}

int main(void)
{
	if (!mkdtemp(dir))
		return tap_diag("mkdtemp failed"), 1;
	/* others may look in (a check as an unprivileged user), not write */
	(void)chmod(dir, 0755);
	test_container();
	test_limits();
	test_cgroup();
	test_real_v2();
	test_plan();
	test_apply();
	test_spawn();
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
