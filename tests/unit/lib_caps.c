/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capability pre-flight checks and QEMU's privilege drop (lib/caps.h).
 *
 * Checks that need a process lacking a capability run in a forked child
 * that first clears it from its effective set.  The drop is applied in a
 * forked child which then execs cat(1) on its own /proc/self/status and
 * /proc/self/limits, so the test sees what an exec'd QEMU would have.
 *
 * `lib_caps exec USER|- [DEVICE] -- PROGRAM ARGS...` applies the drop
 * and execs PROGRAM: tests/integration/sandbox_qemu.sh runs QEMU this way.
 */
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lib/base/caps.h"
#include "lib/devices/devices.h"
#include "lib/runtime/preflight.h"
#include "lib/base/spawn.h"
#include "lib/base/util.h"
#include "tests/lib/proc.h"
#include "tests/lib/tap.h"

/* what a forked child reports back */
struct shared {
	int r;
	int step;
	char msg[1024];
	char hint[512];
};
static struct shared *sh;

static char tmpdir[] = "/tmp/vmrt-caps-XXXXXX";

static void clear_effective(const cap_value_t *caps, size_t n)
{
	cap_t c = cap_get_proc();

	if (!c || cap_set_flag(c, CAP_EFFECTIVE, (int)n, caps, CAP_CLEAR) < 0 ||
	    cap_set_proc(c) < 0)
		_exit(99);
	cap_free(c);
}

static void report_err(int r, struct vmr_error *err)
{
	_cleanup_free_ char *text = err ? vmr_error_text(err) : NULL;

	sh->r = r;
	snprintf(sh->msg, sizeof(sh->msg), "%s", text ? text : "");
	snprintf(sh->hint, sizeof(sh->hint), "%s", err && err->hint ? err->hint : "");
	vmr_error_free(err);
}

/* Run fn in a child; returns its wait status; sh holds what it reported. */
static int in_child(void (*fn)(const void *), const void *arg)
{
	int status = -1;
	pid_t pid;

	memset(sh, 0, sizeof(*sh));
	sh->r = 12345;
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static bool has_token(const char *list, const char *tok)
{
	_cleanup_free_ char *copy = xstrdup(list);
	char *save = NULL;

	for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		if (streq(t, tok))
			return true;
	return false;
}

static unsigned long long own_bounding(void)
{
	_cleanup_free_ char *s = NULL, *v = NULL;

	if (read_file("/proc/self/status", 1 << 16, &s, NULL) < 0)
		abort();
	v = test_status_field(s, "CapBnd");
	return strtoull(v, NULL, 16);
}

/*
 * Apply d in a child that then execs cat on its own status and limits.
 * Returns the text (caller frees); *ret_status the wait status.
 */
static char *exec_dropped(const struct vmr_caps_drop *d, int *ret_status)
{
	int out[2], step = -1, r;
	char *text;
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) < 0)
		abort();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		char *const argv[] = {"/bin/cat", "/proc/self/status", "/proc/self/limits", NULL};
		char *const envp[] = {NULL};
		char line[96];

		if (dup2(out[1], 1) < 0)
			_exit(98);
		r = vmr_caps_drop_apply(d, &step);
		if (r < 0) {
			int n = snprintf(line, sizeof(line), "apply-failed: %d %d\n", step, -r);

			(void)!write(1, line, (size_t)n);
			_exit(97);
		}
		execve(argv[0], argv, envp);
		_exit(96);
	}
	close(out[1]);
	text = test_read_fd(out[0]);
	close(out[0]);
	while (waitpid(pid, ret_status, 0) < 0 && errno == EINTR)
		;
	return text;
}

/* ---- pre-flight ---------------------------------------------------- */

static void test_step_names(void)
{
	for (int s = VMR_CAPS_STEP_MEMLOCK; s <= VMR_CAPS_STEP_NO_NEW_PRIVS; s++)
		ok(!streq(vmr_caps_step_name(s), "drop privileges"), "step %d has a name: %s", s,
		   vmr_caps_step_name(s));
	is_str(vmr_caps_step_name(VMR_CAPS_STEP_SETRESUID), "setresuid", "setresuid step");
	is_str(vmr_caps_step_name(-1), "drop privileges", "unknown step, generic name");
	is_str(vmr_caps_step_name(100), "drop privileges", "out of range step, generic name");
}

static void child_require(const void *arg)
{
	static const cap_value_t drop[] = {CAP_NET_ADMIN, CAP_MKNOD, CAP_SYS_NICE};
	const cap_value_t *want = arg;
	struct vmr_error *err = NULL;
	int r;

	clear_effective(drop, ARRAY_SIZE(drop));
	/* want: zero-terminated list, CAP_CHOWN (0) never asked for here */
	size_t n = 0;
	while (want[n])
		n++;
	r = vmr_caps_require(want, n, "creating macvtap links", &err);
	report_err(r, err);
}

static void test_require(void)
{
	static const cap_value_t one[] = {CAP_NET_ADMIN, 0};
	static const cap_value_t two[] = {CAP_NET_ADMIN, CAP_KILL, CAP_MKNOD, 0};
	static const cap_value_t three[] = {CAP_SYS_NICE, CAP_NET_ADMIN, CAP_MKNOD, 0};
	static const cap_value_t have[] = {CAP_KILL, CAP_SETUID, 0};

	if (!vmr_caps_have(CAP_NET_ADMIN) || !vmr_caps_have(CAP_KILL) ||
	    !vmr_caps_have(CAP_SETUID)) {
		tap_skip("needs root with CAP_NET_ADMIN, CAP_KILL and CAP_SETUID",
			 "vmr_caps_require");
		return;
	}
	ok(vmr_caps_have(CAP_NET_ADMIN), "root has CAP_NET_ADMIN");
	in_child(child_require, one);
	is_int(sh->r, -EPERM, "a missing capability: -EPERM");
	is_str(sh->msg, "creating macvtap links needs CAP_NET_ADMIN, which this process lacks",
	       "message names the capability and what it is for");
	is_str(sh->hint, "run vmrun as root, or grant it to its container (docs/compose.md)",
	       "hint says how to grant it");
	in_child(child_require, two);
	is_str(sh->msg,
	       "creating macvtap links needs CAP_NET_ADMIN and CAP_MKNOD, which this process lacks",
	       "two missing of three: both named, the present one not");
	ok(strstr(sh->hint, "grant them") != NULL, "plural hint");
	in_child(child_require, three);
	is_str(sh->msg,
	       "creating macvtap links needs CAP_SYS_NICE, CAP_NET_ADMIN and CAP_MKNOD, which this "
	       "process lacks",
	       "three missing: a list");
	in_child(child_require, have);
	is_int(sh->r, 0, "capabilities present: 0");
	is_str(sh->msg, "", "and no error");
}

static void child_none_permitted(const void *arg)
{
	cap_t empty = cap_init();

	/* an empty permitted set is what an unprivileged supervisor has */
	if (!empty || cap_set_proc(empty) < 0)
		_exit(99);
	cap_free(empty);
	sh->r = vmr_caps_any_permitted() ? 1 : 0;
}

static void test_any_permitted(void)
{
	if (!vmr_caps_have(CAP_SETPCAP)) {
		tap_skip("needs a capability to start from", "vmr_caps_any_permitted");
		return;
	}
	ok(vmr_caps_any_permitted(), "with capabilities: something to drop");
	in_child(child_none_permitted, NULL);
	is_int(sh->r, 0, "with an empty permitted set: nothing to drop");
}

static void child_writable(const void *arg)
{
	static const cap_value_t dac[] = {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH};
	struct vmr_error *err = NULL;
	int r;

	clear_effective(dac, ARRAY_SIZE(dac));
	r = vmr_caps_require_writable(arg, "binding '0000:3b:00.0' to vfio-pci", &err);
	report_err(r, err);
}

static void child_writable_rofs(const void *arg)
{
	_cleanup_free_ char *mnt = xasprintf("%s/ro", tmpdir);
	_cleanup_free_ char *file = xasprintf("%s/ro/drivers_probe", tmpdir);
	struct vmr_error *err = NULL;
	int fd, r;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", mnt, "tmpfs", 0, "size=64k") < 0) {
		sh->r = -9999;
		return;
	}
	/* closed before the remount, which a file open for writing makes EBUSY */
	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || close(fd) < 0 || mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0) {
		sh->r = -9999;
		return;
	}
	r = vmr_caps_require_writable(file, "binding '0000:3b:00.0' to vfio-pci", &err);
	report_err(r, err);
}

static void test_require_writable(void)
{
	_cleanup_free_ char *rw = xasprintf("%s/rw", tmpdir);
	_cleanup_free_ char *ro = xasprintf("%s/readonly", tmpdir);
	_cleanup_free_ char *missing = xasprintf("%s/missing", tmpdir);
	_cleanup_free_ char *want = NULL, *dir = xasprintf("%s/ro", tmpdir);

	if (write_file_atomic(rw, "", 0, 0644) < 0 || write_file_atomic(ro, "", 0, 0444) < 0 ||
	    mkdir(dir, 0755) < 0)
		abort();
	if (geteuid() != 0) {
		tap_skip("needs root (DAC override is cleared in a child)", "require_writable");
		return;
	}
	in_child(child_writable, rw);
	is_int(sh->r, 0, "writable file: 0");
	in_child(child_writable, missing);
	is_int(sh->r, 0, "missing file: left to the step that writes it");
	in_child(child_writable, ro);
	is_int(sh->r, -EACCES, "mode 0444 without CAP_DAC_OVERRIDE: -EACCES");
	want = xasprintf("binding '0000:3b:00.0' to vfio-pci needs write access to '%s': "
			 "Permission denied",
			 ro);
	is_str(sh->msg, want, "message names the path and the reason");
	in_child(child_writable_rofs, NULL);
	if (sh->r == -9999) {
		tap_skip("cannot mount a tmpfs in a private mount namespace", "read-only mount");
		return;
	}
	is_int(sh->r, -EROFS, "read-only mount: -EROFS");
	ok(strstr(sh->hint, "read-only") != NULL, "hint about the read-only mount: %s", sh->hint);
}

struct preflight_case {
	struct vmr_config *cfg;
	struct vmr_plan plan;
	bool drop_net_admin, drop_dac, drop_nice;
};

/* c's plan for guest g1 of yaml (the topology stays loaded: the plan points into it) */
static void preflight_plan(struct preflight_case *c, const char *yaml)
{
	static struct vmr_topology *t;
	struct vmr_plan_opts po = {
	    .cfg = c->cfg, .topo_dir = "/", .facts = {.accel = VMR_ACCEL_TCG}};
	struct vmr_diags d = {0};
	struct vmr_error *e = NULL;

	vmr_plan_free(&c->plan);
	vmr_topology_free(t);
	t = NULL;
	if (vmr_topology_load_buffer("p.yaml", yaml, strlen(yaml), vmr_device_kinds(), &t, &d) <
		0 ||
	    vmr_plan_build(t, vmr_topology_guest(t, "g1"), &po, &c->plan, &e) < 0)
		abort();
	vmr_diags_clear(&d);
}

static void child_preflight(const void *arg)
{
	const struct preflight_case *c = arg;
	struct vmr_error *err = NULL;
	int r;

	if (c->drop_net_admin)
		clear_effective((cap_value_t[]){CAP_NET_ADMIN}, 1);
	if (c->drop_dac)
		clear_effective((cap_value_t[]){CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH}, 2);
	if (c->drop_nice)
		clear_effective((cap_value_t[]){CAP_SYS_NICE}, 1);
	r = vmr_caps_preflight(c->cfg, &c->plan, &err);
	report_err(r, err);
}

static void test_preflight(void)
{
	_cleanup_free_ char *sysfs = xasprintf("%s/sys", tmpdir);
	_cleanup_free_ char *dev = xasprintf("%s/sys/bus/pci/devices/0000:3b:00.1", tmpdir);
	_cleanup_free_ char *ovr = xasprintf("%s/driver_override", dev);
	_cleanup_free_ char *probe = xasprintf("%s/sys/bus/pci/drivers_probe", tmpdir);
	_cleanup_free_ char *want = NULL;
	static const char head[] = "version: 1\nguests:\n  g1:\n    accel: tcg\n";
	_cleanup_free_ char *user = xasprintf("%s    nics: [{name: n1, user: true}]\n", head);
	_cleanup_free_ char *mvt =
	    xasprintf("%s    nics: [{name: n1, user: true}, {name: n2, macvtap: eth0}]\n", head);
	_cleanup_free_ char *pci = xasprintf(
	    "%s    nics: [{name: n1, user: true}, {name: n2, pci: \"0000:3b:00.1\"}]\n", head);
	_cleanup_free_ char *pinned = xasprintf("%s    cpuset: \"0\"\n", head);
	struct vmr_config cfg = {0};
	struct preflight_case c = {.cfg = &cfg};
	char cmd[512];

	if (geteuid() != 0) {
		tap_skip("needs root (capabilities are cleared in a child)", "preflight");
		return;
	}
	snprintf(cmd, sizeof(cmd), "%s", dev);
	for (char *p = cmd + strlen(tmpdir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		(void)mkdir(cmd, 0755);
		*p = '/';
	}
	(void)mkdir(dev, 0755);
	if (write_file_atomic(ovr, "", 0, 0644) < 0 || write_file_atomic(probe, "", 0, 0444) < 0)
		abort();

	cfg.sysfs_root = sysfs;

	preflight_plan(&c, user);
	c.drop_net_admin = true;
	in_child(child_preflight, &c);
	is_int(sh->r, 0, "a user-mode NIC needs no capability");
	preflight_plan(&c, mvt);
	in_child(child_preflight, &c);
	is_str(
	    sh->msg,
	    "creating the macvtap NIC 'n2' of guest 'g1' needs CAP_NET_ADMIN, which this process "
	    "lacks",
	    "macvtap without CAP_NET_ADMIN");
	c.drop_net_admin = false;
	in_child(child_preflight, &c);
	is_int(sh->r, 0, "macvtap with CAP_NET_ADMIN");

	preflight_plan(&c, pci);
	c.drop_dac = true;
	in_child(child_preflight, &c);
	is_int(sh->r, -EACCES, "PCI passthrough, drivers_probe not writable");
	want = xasprintf("binding '0000:3b:00.1' (guest 'g1' NIC 'n2') to vfio-pci needs write "
			 "access to '%s': Permission denied",
			 probe);
	is_str(sh->msg, want, "names the device, the guest, the NIC and the sysfs file");
	c.drop_dac = false;
	in_child(child_preflight, &c);
	is_int(sh->r, 0, "PCI passthrough as root");

	cfg.qemu_user = "nobody";
	preflight_plan(&c, pinned);
	c.drop_nice = true;
	in_child(child_preflight, &c);
	is_str(sh->msg,
	       "placing the threads of guest 'g1' when QEMU runs as 'nobody' needs CAP_SYS_NICE, "
	       "which this process lacks",
	       "pinning threads of another uid needs CAP_SYS_NICE");
	preflight_plan(&c, user);
	in_child(child_preflight, &c);
	is_int(sh->r, 0, "no cpuset: CAP_SYS_NICE not needed");
	vmr_plan_free(&c.plan);
}

/* ---- the drop ------------------------------------------------------ */

static void test_drop_user(void)
{
	static const gid_t groups[] = {65534, 4242};
	struct vmr_caps_drop_opts o = {
	    .change_ids = true,
	    .uid = 65534,
	    .gid = 65534,
	    .groups = groups,
	    .ngroups = 2,
	};
	struct vmr_caps_drop d = {0};
	struct vmr_error *err = NULL;
	_cleanup_free_ char *text = NULL;
	char *f;
	int status = -1;

	if (vmr_caps_drop_prepare(&o, &d, &err) < 0) {
		tap_diag("prepare: %s", err->msg);
		vmr_error_free(err);
		ok(false, "prepare a drop to uid 65534");
		return;
	}
	ok(true, "prepare a drop to uid 65534");
	ok(d.drop_bound != 0, "the whole bounding set is to be dropped");
	text = exec_dropped(&d, &status);
	vmr_caps_drop_free(&d);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "dropped child exec'd cat (status %d)",
	   status);
	static const struct {
		const char *key, *want;
	} want[] = {
	    {"Uid", "65534\t65534\t65534\t65534"}, {"Gid", "65534\t65534\t65534\t65534"},
	    {"CapInh", "0000000000000000"},	   {"CapPrm", "0000000000000000"},
	    {"CapEff", "0000000000000000"},	   {"CapBnd", "0000000000000000"},
	    {"CapAmb", "0000000000000000"},	   {"NoNewPrivs", "1"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		f = test_status_field(text, want[i].key);
		is_str(f, want[i].want, "as a user: %s", want[i].key);
		free(f);
	}
	f = test_status_field(text, "Groups");
	ok(has_token(f, "65534") && has_token(f, "4242") && !has_token(f, "0"),
	   "supplementary groups are the user's: %s", f);
	free(f);
}

static void test_drop_root(void)
{
	struct vmr_caps_drop_opts o = {0};
	struct vmr_caps_drop d = {0};
	struct vmr_error *err = NULL;
	_cleanup_free_ char *text = NULL, *bnd = NULL, *want_bnd = NULL;
	char *f;
	int status = -1;

	if (vmr_caps_drop_prepare(&o, &d, &err) < 0) {
		tap_diag("prepare: %s", err->msg);
		vmr_error_free(err);
		ok(false, "prepare a root drop");
		return;
	}
	ok(!(d.drop_bound & (UINT64_C(1) << CAP_IPC_LOCK)), "CAP_IPC_LOCK is kept");
	text = exec_dropped(&d, &status);
	vmr_caps_drop_free(&d);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "root child exec'd cat (status %d)",
	   status);
	want_bnd = xasprintf("%016llx", own_bounding() & (1ULL << CAP_IPC_LOCK));
	f = test_status_field(text, "Uid");
	is_str(f, "0\t0\t0\t0", "as root: still uid 0");
	free(f);
	bnd = test_status_field(text, "CapBnd");
	is_str(bnd, want_bnd, "as root: bounding set is CAP_IPC_LOCK only");
	f = test_status_field(text, "CapEff");
	is_str(f, want_bnd, "as root: effective set follows the bounding set");
	free(f);
	f = test_status_field(text, "CapInh");
	is_str(f, "0000000000000000", "as root: nothing inheritable");
	free(f);
	f = test_status_field(text, "NoNewPrivs");
	is_str(f, "1", "as root: NoNewPrivs");
	free(f);

	/* an explicit, empty keep list: nothing at all */
	o.keep = (cap_value_t[]){0};
	o.nkeep = 0;
	if (vmr_caps_drop_prepare(&o, &d, &err) < 0)
		abort();
	free(text);
	text = exec_dropped(&d, &status);
	vmr_caps_drop_free(&d);
	f = test_status_field(text, "CapEff");
	is_str(f, "0000000000000000", "root with nothing kept: no effective capabilities");
	free(f);
}

static void test_drop_memlock(void)
{
	struct vmr_caps_drop_opts o = {.memlock = 65536};
	struct vmr_caps_drop d = {0};
	struct vmr_error *err = NULL;
	_cleanup_free_ char *text = NULL;
	const char *line;
	int status = -1;

	if (vmr_caps_drop_prepare(&o, &d, &err) < 0)
		abort();
	text = exec_dropped(&d, &status);
	vmr_caps_drop_free(&d);
	line = strstr(text, "Max locked memory");
	ok(line && strstr(line, "65536                65536") != NULL,
	   "RLIMIT_MEMLOCK set to 64 KiB, soft and hard");
}

struct prepare_case {
	struct vmr_caps_drop_opts o;
	cap_value_t clear; /* cleared from the effective set before prepare */
};

static void child_prepare(const void *arg)
{
	const struct prepare_case *c = arg;
	struct vmr_caps_drop d = {0};
	struct vmr_error *err = NULL;
	int r;

	clear_effective(&c->clear, 1);
	r = vmr_caps_drop_prepare(&c->o, &d, &err);
	report_err(r, err);
	vmr_caps_drop_free(&d);
}

static void child_apply_fails(const void *arg)
{
	const struct vmr_caps_drop_opts *o = arg;
	struct vmr_caps_drop d = {0};
	struct vmr_error *err = NULL;

	if (vmr_caps_drop_prepare(o, &d, &err) < 0)
		_exit(90);
	/* lost between prepare and apply: the step must be named */
	clear_effective((cap_value_t[]){CAP_SETUID}, 1);
	sh->r = vmr_caps_drop_apply(&d, &sh->step);
	vmr_caps_drop_free(&d);
}

static void test_drop_refused(void)
{
	struct vmr_caps_drop_opts o = {0};
	struct vmr_caps_drop d = {0};
	struct vmr_error *err = NULL;
	struct rlimit rl;
	_cleanup_free_ char *kvm = xasprintf("%s/kvm", tmpdir);
	_cleanup_free_ char *want = NULL;
	int r;

	/* a capability number the kernel does not have */
	o.keep = (cap_value_t[]){CAP_IPC_LOCK, 63};
	o.nkeep = 2;
	r = vmr_caps_drop_prepare(&o, &d, &err);
	is_int(r, -EINVAL, "unknown capability to keep: -EINVAL");
	is_str(err ? err->msg : "", "capability 63 to keep: unknown to this kernel",
	       "message names the number");
	vmr_error_clear(&err);

	in_child(child_prepare, &(struct prepare_case){.clear = CAP_SETPCAP});
	is_str(sh->msg,
	       "dropping capabilities from QEMU's bounding set needs CAP_SETPCAP, which this "
	       "process lacks",
	       "no CAP_SETPCAP: refused before fork");

	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_max != RLIM_INFINITY) {
		struct prepare_case c = {.clear = CAP_SYS_RESOURCE};

		c.o.memlock = (uint64_t)rl.rlim_max + (64ULL << 20);
		in_child(child_prepare, &c);
		ok(strstr(sh->msg, "raising QEMU's locked-memory limit to") &&
		       strstr(sh->msg, "needs CAP_SYS_RESOURCE"),
		   "memlock above the hard limit without CAP_SYS_RESOURCE: %s", sh->msg);
	} else {
		tap_skip("RLIMIT_MEMLOCK hard limit is unlimited", "memlock refused");
	}

	/* the device QEMU must open: a root-group device is never joined */
	if (write_file_atomic(kvm, "", 0, 0660) < 0 || chown(kvm, 0, 0) < 0)
		abort();
	o = (struct vmr_caps_drop_opts){
	    .change_ids = true, .uid = 65534, .gid = 65534, .device = kvm};
	r = vmr_caps_drop_prepare(&o, &d, &err);
	is_int(r, -EACCES, "device owned by root:root 0660: refused");
	want =
	    xasprintf("QEMU as uid 65534 gid 65534 cannot open '%s' (owner 0:0, mode 0660)", kvm);
	is_str(err ? err->msg : "", want, "message has the ids, owner and mode");
	ok(err && err->hint && strstr(err->hint, "kvm"), "hint mentions the kvm group");
	vmr_error_clear(&err);

	/* a group-accessible device: the group is joined */
	if (chown(kvm, 0, 4243) < 0)
		abort();
	r = vmr_caps_drop_prepare(&o, &d, &err);
	is_int(r, 0, "device group 4243 mode 0660: accepted");
	ok(r == 0 && d.ngroups == 1 && d.groups[0] == 4243, "and its group joined");
	vmr_caps_drop_free(&d);
	vmr_error_clear(&err);
	if (chmod(kvm, 0600) < 0)
		abort();
	r = vmr_caps_drop_prepare(&o, &d, &err);
	is_int(r, -EACCES, "device mode 0600 not owned by the user: refused");
	vmr_error_clear(&err);

	o.device = NULL;
	in_child(child_apply_fails, &o);
	is_int(sh->r, -EPERM, "apply without CAP_SETUID fails with -EPERM");
	is_str(vmr_caps_step_name(sh->step), "setresuid", "and names the step");
}

/* ---- helper mode for tests/integration/sandbox_qemu.sh -------------- */

static int helper_exec(int argc, char **argv)
{
	struct vmr_spawn_user user = {0};
	struct vmr_caps_drop_opts o = {0};
	struct vmr_caps_drop d = {0};
	struct vmr_error *err = NULL;
	int i = 3, step = -1, r;

	if (argc < 5)
		goto usage;
	if (!streq(argv[2], "-")) {
		if (vmr_spawn_user_lookup(argv[2], &user, &err) < 0)
			goto fail;
		o.change_ids = true;
		o.uid = user.uid;
		o.gid = user.gid;
		o.groups = user.groups;
		o.ngroups = user.ngroups;
	}
	if (!streq(argv[i], "--"))
		o.device = argv[i++];
	if (i >= argc || !streq(argv[i], "--") || i + 1 >= argc)
		goto usage;
	if (vmr_caps_drop_prepare(&o, &d, &err) < 0)
		goto fail;
	r = vmr_caps_drop_apply(&d, &step);
	if (r < 0) {
		fprintf(stderr, "lib_caps: %s: %s\n", vmr_caps_step_name(step), strerror(-r));
		return 127;
	}
	execv(argv[i + 1], argv + i + 1);
	fprintf(stderr, "lib_caps: exec '%s': %s\n", argv[i + 1], strerror(errno));
	return 127;
fail:
	vmr_error_print(err, stderr);
	vmr_error_free(err);
	return 127;
usage:
	fprintf(stderr, "usage: lib_caps exec USER|- [DEVICE] -- PROGRAM [ARGS...]\n");
	return 2;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void cleanup_tmpdir(void)
{
	if (nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		tap_diag("remove '%s': %s", tmpdir, strerror(errno));
}

/* ---- the supervisor's own drop ------------------------------------ */

static void keep_child(const void *arg)
{
	uint64_t keep = *(const uint64_t *)arg, kept = 0;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *text = NULL;
	int r;

	r = vmr_caps_keep_only(keep, &kept, &err);
	report_err(r, err);
	if (r < 0 || read_file("/proc/self/status", 1 << 16, &text, NULL) < 0)
		_exit(1);
	/* CapEff, CapPrm, CapBnd, CapInh, CapAmb, one a line, then kept */
	static const char *const fields[] = {"CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"};
	size_t off = 0;

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		_cleanup_free_ char *v = test_status_field(text, fields[i]);

		off += (size_t)snprintf(sh->hint + off, sizeof(sh->hint) - off, "%s ", v ? v : "?");
	}
	snprintf(sh->hint + off, sizeof(sh->hint) - off, "%016llx", (unsigned long long)kept);
	/* what it dropped stays dropped: raising it again fails */
	if (!(keep & VMR_CAP_BIT(CAP_SYS_ADMIN))) {
		cap_t c = cap_get_proc();
		cap_value_t v = CAP_SYS_ADMIN;

		if (c && cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET) == 0 &&
		    cap_set_proc(c) == 0)
			sh->step = 1;
		cap_free(c);
	}
}

static void test_keep_only(void)
{
	uint64_t keep = VMR_CAP_BIT(CAP_KILL) | VMR_CAP_BIT(CAP_NET_ADMIN);
	_cleanup_free_ char *want = NULL;
	int status;

	status = in_child(keep_child, &keep);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && sh->r == 0,
	   "keep CAP_KILL and CAP_NET_ADMIN (status %d, r %d%s%s)", status, sh->r,
	   sh->msg[0] ? ": " : "", sh->msg);
	want = xasprintf("%016llx %016llx %016llx 0000000000000000 0000000000000000 %016llx",
			 (unsigned long long)keep, (unsigned long long)keep,
			 (unsigned long long)keep, (unsigned long long)keep);
	is_str(sh->hint, want,
	       "CapEff, CapPrm, CapBnd are exactly the kept pair; CapInh, CapAmb empty");
	is_int(sh->step, 0, "a dropped capability cannot be raised again");

	keep = 0;
	status = in_child(keep_child, &keep);
	ok(WIFEXITED(status) && sh->r == 0, "keep nothing");
	is_str(sh->hint,
	       "0000000000000000 0000000000000000 0000000000000000 0000000000000000 "
	       "0000000000000000 0000000000000000",
	       "every set empty");
}

static void keep_twice_child(const void *arg)
{
	uint64_t kept = 0;
	int r;

	(void)arg;
	if (vmr_caps_keep_only(VMR_CAP_BIT(CAP_NET_ADMIN), NULL, NULL) < 0)
		_exit(1);
	/* asking for more later gets only what is left */
	r = vmr_caps_keep_only(VMR_CAP_BIT(CAP_NET_ADMIN) | VMR_CAP_BIT(CAP_KILL), &kept, NULL);
	sh->r = r;
	snprintf(sh->hint, sizeof(sh->hint), "%016llx", (unsigned long long)kept);
	/* and with nothing left there is nothing to do */
	if (vmr_caps_keep_only(0, NULL, NULL) != 0 ||
	    vmr_caps_keep_only(VMR_CAP_BIT(CAP_KILL), &kept, NULL) != 1)
		sh->step = 1;
}

static void test_keep_not_gained(void)
{
	int status = in_child(keep_twice_child, NULL);

	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && sh->r == 0, "keep twice");
	is_str(sh->hint, "0000000000001000", "a second, larger keep gains nothing back");
	is_int(sh->step, 0, "an empty process: returns 1, nothing to do");
}

static void test_mask_names(void)
{
	_cleanup_free_ char *a = vmr_caps_mask_names(0);
	_cleanup_free_ char *b =
	    vmr_caps_mask_names(VMR_CAP_BIT(CAP_NET_ADMIN) | VMR_CAP_BIT(CAP_KILL));

	is_str(a, "none", "no capability: 'none'");
	is_str(b, "CAP_KILL CAP_NET_ADMIN", "names in capability order");
}

/* What unlinking or writing a file takes, from mode bits (as root). */
static void test_dac(void)
{
	_cleanup_free_ char *priv = xasprintf("%s/priv", tmpdir);
	_cleanup_free_ char *priv_f = xasprintf("%s/priv/sock", tmpdir);
	_cleanup_free_ char *sticky = xasprintf("%s/sticky", tmpdir);
	_cleanup_free_ char *sticky_f = xasprintf("%s/sticky/f", tmpdir);
	_cleanup_free_ char *own = xasprintf("%s/own", tmpdir);
	_cleanup_free_ char *own_f = xasprintf("%s/own/f", tmpdir);
	_cleanup_free_ char *ro_f = xasprintf("%s/own/ro", tmpdir);
	_cleanup_free_ char *missing = xasprintf("%s/own/nosuch", tmpdir);
	_cleanup_free_ char *priv_missing = xasprintf("%s/priv/nosuch", tmpdir);
	const uint64_t dac = VMR_CAP_BIT(CAP_DAC_OVERRIDE), fowner = VMR_CAP_BIT(CAP_FOWNER);
	int fd;

	if (mkdir(priv, 0700) < 0 || mkdir(sticky, 01777) < 0 || chmod(sticky, 01777) < 0 ||
	    mkdir(own, 0700) < 0)
		abort();
	fd = open(priv_f, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	close(fd);
	fd = open(sticky_f, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	close(fd);
	fd = open(own_f, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	close(fd);
	fd = open(ro_f, O_WRONLY | O_CREAT | O_CLOEXEC, 0400);
	close(fd);
	/* tmpdir itself is 0700 and ours */
	is_int((long long)vmr_caps_dac_unlink(own_f), 0,
	       "a file in our own 0700 directory: nothing");
	is_int((long long)vmr_caps_dac_write(own_f), 0, "writing our own 0600 file: nothing");
	is_int((long long)vmr_caps_dac_write(ro_f), (long long)dac,
	       "writing our own 0400 file: CAP_DAC_OVERRIDE");
	is_int((long long)vmr_caps_dac_unlink(missing), 0, "a missing file: nothing to unlink");
	if (chown(priv, 65534, 65534) < 0 || chown(priv_f, 65534, 65534) < 0 ||
	    chown(sticky, 65534, 65534) < 0 || chown(sticky_f, 65534, 65534) < 0) {
		tap_skip("cannot chown to 65534", "unlink in another user's directory");
		return;
	}
	is_int((long long)vmr_caps_dac_unlink(priv_f), (long long)dac,
	       "a socket in another user's 0700 directory (QEMU's vnc/): CAP_DAC_OVERRIDE");
	is_int((long long)vmr_caps_dac_reach(priv_f), (long long)dac,
	       "even reaching it takes CAP_DAC_OVERRIDE");
	is_int((long long)vmr_caps_dac_unlink(sticky_f), (long long)fowner,
	       "another user's file in a sticky directory not ours: CAP_FOWNER");
	chmod(priv, 0755);
	is_int((long long)vmr_caps_dac_unlink(priv_missing), (long long)dac,
	       "a file not made yet in another user's 0755 directory: CAP_DAC_OVERRIDE");
	chmod(priv, 0777);
	is_int((long long)vmr_caps_dac_unlink(priv_f), 0,
	       "in another user's 0777 directory: nothing");
}

int main(int argc, char **argv)
{
	if (argc > 1 && streq(argv[1], "exec"))
		return helper_exec(argc, argv);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || !mkdtemp(tmpdir))
		abort();
	test_step_names();
	test_require();
	test_any_permitted();
	test_require_writable();
	test_preflight();
	if (geteuid() != 0 || !vmr_caps_have(CAP_SETPCAP) || !vmr_caps_have(CAP_SETUID) ||
	    !vmr_caps_have(CAP_SETGID)) {
		tap_skip("the drop needs root with CAP_SETPCAP, CAP_SETUID and CAP_SETGID",
			 "privilege drop");
	} else {
		test_drop_user();
		test_drop_root();
		test_drop_memlock();
		test_drop_refused();
		test_keep_only();
		test_keep_not_gained();
		test_dac();
	}
	test_mask_names();
	cleanup_tmpdir();
	return tap_done();
}
