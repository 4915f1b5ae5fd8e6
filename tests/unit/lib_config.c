/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host configuration: iniparser file, environment overrides, errors. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "lib/model/config.h"
#include "lib/base/caps.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

static char dir[] = "/tmp/vmrt-config-XXXXXX";

static char *conf(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);

	if (write_file_atomic(path, text, strlen(text), 0644) < 0)
		tap_diag("cannot write %s", path);
	return path;
}

/* Load path; on failure return the error text (caller frees), else NULL. */
static char *load_err(const char *path, struct vmr_config *c, int *status)
{
	struct vmr_error *err = NULL;
	char *text;

	if (vmr_config_load(path, c, &err) == 0)
		return NULL;
	text = vmr_error_text(err);
	*status = err->status;
	vmr_error_free(err);
	return text;
}

/*
 * The default qemu_user on this host: "vmrun" where the user exists, else
 * "nobody" with the fallback flag; none at all in a process that cannot
 * change ids.  Tests never create users: both cases must pass.
 */
static bool default_user(const struct vmr_config *c)
{
	if (c->qemu_user_set)
		return false;
	if (!vmr_caps_have(CAP_SETUID) || !vmr_caps_have(CAP_SETGID))
		return c->qemu_user == NULL && !c->qemu_user_fallback;
	if (getpwnam("vmrun"))
		return streq(c->qemu_user, "vmrun") && !c->qemu_user_fallback;
	return streq(c->qemu_user, "nobody") && c->qemu_user_fallback;
}

static void check_err(const char *name, const char *text, const char *want, int want_status)
{
	_cleanup_free_ char *path = conf(name, text);
	_cleanup_free_ char *got = NULL, *full = NULL;
	struct vmr_config c = {0};
	int status = -1;

	got = load_err(path, &c, &status);
	/* want has one '@' standing for the config path */
	full = xasprintf("%.*s%s%s", (int)(strchr(want, '@') - want), want, path,
			 strchr(want, '@') + 1);
	is_str(got, full, "%s: error text", name);
	is_int(status, want_status, "%s: exit status", name);
	if (!got)
		vmr_config_free(&c);
}

int main(void)
{
	struct vmr_config c = {0};
	_cleanup_free_ char *good = NULL, *missing = NULL, *err = NULL;
	int status = 0;

	static const char *const envs[] = {"VMRUN_QEMU",       "VMRUN_STATE_DIR",
					   "VMRUN_SYSFS_ROOT", "VMRUN_DEV_ROOT",
					   "VMRUN_NO_SANDBOX", "VMRUN_CGROUP_ROOT"};
	for (size_t i = 0; i < ARRAY_SIZE(envs); i++)
		unsetenv(envs[i]);
	if (!mkdtemp(dir))
		return tap_diag("mkdtemp failed"), 1;

	good = conf("good.conf", "; host settings\n"
				 "[vmrun]\n"
				 "qemu = /opt/qemu/bin/qemu-system-x86_64\n"
				 "state_dir = /var/run/vmrun-test\n"
				 "accel = tcg\n"
				 "image_dir = \"/srv/images\"\n"
				 "qemu_user = kvm-user\n"
				 "sysfs_root = /tmp/fake-sys\n"
				 "dev_root = /tmp/fake-dev\n"
				 "firmware_dir = /opt/ovmf\n"
				 "swtpm = /opt/swtpm/bin/swtpm\n");
	ok(vmr_config_load(good, &c, NULL) == 0, "good config loads");
	is_str(c.path, good, "path recorded");
	is_str(c.qemu, "/opt/qemu/bin/qemu-system-x86_64", "qemu");
	is_str(c.state_dir, "/var/run/vmrun-test", "state_dir");
	ok(c.accel == VMR_ACCEL_TCG, "accel");
	is_str(c.image_dir, "/srv/images", "image_dir (quotes stripped)");
	is_str(c.qemu_user, "kvm-user", "qemu_user");
	is_str(c.sysfs_root, "/tmp/fake-sys", "sysfs_root");
	is_str(c.dev_root, "/tmp/fake-dev", "dev_root");
	is_str(c.firmware_dir, "/opt/ovmf", "firmware_dir");
	is_str(c.swtpm, "/opt/swtpm/bin/swtpm", "swtpm");
	vmr_config_free(&c);

	setenv("VMRUN_STATE_DIR", "/tmp/env-state", 1);
	setenv("VMRUN_QEMU", "/tmp/fake-qemu", 1);
	setenv("VMRUN_SYSFS_ROOT", "/tmp/env-sys", 1);
	setenv("VMRUN_DEV_ROOT", "/tmp/env-dev", 1);
	ok(vmr_config_load(good, &c, NULL) == 0, "config with environment");
	ok(streq(c.state_dir, "/tmp/env-state") && streq(c.qemu, "/tmp/fake-qemu") &&
	       streq(c.sysfs_root, "/tmp/env-sys") && streq(c.dev_root, "/tmp/env-dev"),
	   "environment overrides the file");
	vmr_config_free(&c);
	setenv("VMRUN_STATE_DIR", "relative", 1);
	err = load_err(good, &c, &status);
	is_str(err,
	       "environment variable VMRUN_STATE_DIR: invalid value 'relative' for 'state_dir' "
	       "(expected an absolute path)",
	       "bad environment value named");
	for (size_t i = 0; i < ARRAY_SIZE(envs); i++)
		unsetenv(envs[i]);

	{
		_cleanup_free_ char *empty = conf("empty.conf", "");

		ok(vmr_config_load(empty, &c, NULL) == 0, "empty file: all defaults");
		ok(streq(c.qemu, "/usr/bin/qemu-system-x86_64") &&
		       streq(c.state_dir, "/run/vmrun") && c.accel == VMR_ACCEL_AUTO &&
		       streq(c.image_dir, "/var/lib/vmrun/images") && default_user(&c) &&
		       streq(c.sysfs_root, "/sys") && streq(c.dev_root, "/dev") &&
		       streq(c.firmware_dir, "/usr/share/OVMF") && streq(c.swtpm, "/usr/bin/swtpm"),
		   "documented defaults");
		vmr_config_free(&c);
	}
	{
		_cleanup_free_ char *p = conf("root.conf", "[vmrun]\nqemu_user = root\n");

		ok(vmr_config_load(p, &c, NULL) == 0 && c.qemu_user == NULL && c.qemu_user_set,
		   "qemu_user = root: QEMU stays root");
		vmr_config_free(&c);
	}
	{
		_cleanup_free_ char *p = conf("nobody.conf", "[vmrun]\nqemu_user = nobody\n");

		ok(vmr_config_load(p, &c, NULL) == 0 && streq(c.qemu_user, "nobody") &&
		       !c.qemu_user_fallback,
		   "explicit qemu_user kept as written, no fallback warning");
		vmr_config_free(&c);
	}
	{
		/* an empty value named by file and line: it used to mean root */
		_cleanup_free_ char *p =
		    conf("user.conf", "; host\n[vmrun]\naccel = tcg\nqemu_user =\n");
		_cleanup_free_ char *want = xasprintf("%s:4: empty value for 'qemu_user'", p);

		err = (free(err), load_err(p, &c, &status));
		is_str(err, want, "empty qemu_user: a usage error with file:line");
		is_int(status, VMR_EXIT_USAGE, "empty qemu_user: status 2");
	}
	{
		_cleanup_free_ char *on = conf("sandbox-on.conf", "[vmrun]\n");
		_cleanup_free_ char *off = conf("sandbox-off.conf", "[vmrun]\nsandbox = false\n");

		ok(vmr_config_load(on, &c, NULL) == 0 && c.sandbox, "sandbox defaults to true");
		vmr_config_free(&c);
		ok(vmr_config_load(off, &c, NULL) == 0 && !c.sandbox, "sandbox = false");
		vmr_config_free(&c);
		setenv("VMRUN_NO_SANDBOX", "1", 1);
		ok(vmr_config_load(on, &c, NULL) == 0 && !c.sandbox,
		   "VMRUN_NO_SANDBOX=1 forces false");
		vmr_config_free(&c);
		setenv("VMRUN_NO_SANDBOX", "0", 1);
		ok(vmr_config_load(on, &c, NULL) == 0 && c.sandbox,
		   "VMRUN_NO_SANDBOX=0 changes nothing");
		vmr_config_free(&c);
		unsetenv("VMRUN_NO_SANDBOX");
	}

	{
		_cleanup_free_ char *def = conf("iso-default.conf", "[vmrun]\n");
		_cleanup_free_ char *set = conf("iso-set.conf", "[vmrun]\nprivate_mounts = false\n"
								"cgroup = true\n"
								"cgroup_root = /tmp/fake-cg\n");

		ok(vmr_config_load(def, &c, NULL) == 0 && c.private_mounts == VMR_SWITCH_AUTO &&
		       c.cgroup == VMR_SWITCH_AUTO && streq(c.cgroup_root, "/sys/fs/cgroup"),
		   "private_mounts and cgroup default to auto, cgroup_root to /sys/fs/cgroup");
		vmr_config_free(&c);
		ok(vmr_config_load(set, &c, NULL) == 0 && c.private_mounts == VMR_SWITCH_FALSE &&
		       c.cgroup == VMR_SWITCH_TRUE && streq(c.cgroup_root, "/tmp/fake-cg"),
		   "private_mounts = false, cgroup = true, cgroup_root set");
		vmr_config_free(&c);
		setenv("VMRUN_CGROUP_ROOT", "/tmp/env-cg", 1);
		ok(vmr_config_load(set, &c, NULL) == 0 && streq(c.cgroup_root, "/tmp/env-cg"),
		   "VMRUN_CGROUP_ROOT overrides cgroup_root");
		vmr_config_free(&c);
		unsetenv("VMRUN_CGROUP_ROOT");
	}

	/* the shipped example must load and say what the defaults are */
	if (access("docs/vmrun.conf.example", R_OK) == 0) {
		ok(vmr_config_load("docs/vmrun.conf.example", &c, NULL) == 0 &&
		       streq(c.qemu, "/usr/bin/qemu-system-x86_64") &&
		       streq(c.state_dir, "/run/vmrun") && c.accel == VMR_ACCEL_AUTO &&
		       default_user(&c),
		   "docs/vmrun.conf.example loads with the defaults");
		vmr_config_free(&c);
	} else {
		tap_skip("not run from the repository top", "docs/vmrun.conf.example");
	}

	check_err("unknown-key.conf", "[vmrun]\nqmeu = /usr/bin/qemu\n",
		  "config '@': unknown key 'qmeu' in [vmrun]", 2);
	check_err("bad-accel.conf", "[vmrun]\naccel = fast\n",
		  "config '@': invalid value 'fast' for 'accel' (expected auto, kvm or tcg)", 2);
	check_err("firmware.conf", "[vmrun]\nfirmware_dir = OVMF\n",
		  "config '@': invalid value 'OVMF' for 'firmware_dir' (expected an absolute path)",
		  VMR_EXIT_USAGE);
	check_err("relative.conf", "[vmrun]\nimage_dir = images\n",
		  "config '@': invalid value 'images' for 'image_dir' (expected an absolute path)",
		  2);
	check_err("section.conf", "[qemu]\nbinary = x\n",
		  "config '@': unknown section or key 'qemu' (expected [vmrun])", 2);
	check_err("bad-user.conf", "[vmrun]\nqemu_user = ../root\n",
		  "config '@': invalid value '../root' for 'qemu_user'", 2);
	check_err("bad-mounts.conf", "[vmrun]\nprivate_mounts = yes\n",
		  "config '@': invalid value 'yes' for 'private_mounts' (expected auto, true or "
		  "false)",
		  2);
	check_err("bad-cgroup.conf", "[vmrun]\ncgroup = v2\n",
		  "config '@': invalid value 'v2' for 'cgroup' (expected auto, true or false)", 2);
	check_err("bad-cgroot.conf", "[vmrun]\ncgroup_root = cg\n",
		  "config '@': invalid value 'cg' for 'cgroup_root' (expected an absolute path)",
		  2);
	check_err("bad-sandbox.conf", "[vmrun]\nsandbox = maybe\n",
		  "config '@': invalid value 'maybe' for 'sandbox' (expected true or false)", 2);

	missing = xasprintf("%s/none.conf", dir);
	err = (free(err), load_err(missing, &c, &status));
	ok(err && strstr(err, "does not exist") && strstr(err, missing),
	   "explicit missing path is an error");
	is_int(status, 2, "missing explicit config is bad usage");

	{
		_cleanup_free_ char *p = conf("syntax.conf", "[vmrun\nqemu = /x\n");
		_cleanup_free_ char *e = load_err(p, &c, &status);

		ok(e && strstr(e, p) && strstr(e, "syntax error"),
		   "syntax error names the file (%s)", e ? e : "none");
	}
	{
		/* nothing may reach stderr from the library: iniparser's callback is ours */
		_cleanup_free_ char *p = conf("syntax2.conf", "[vmrun\n");
		_cleanup_free_ char *errpath = xasprintf("%s/stderr", dir);
		int saved = dup(STDERR_FILENO);
		int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		struct stat st;

		dup2(fd, STDERR_FILENO);
		free(load_err(p, &c, &status));
		free(load_err("/nonexistent-dir/x.conf", &c, &status));
		fflush(stderr);
		dup2(saved, STDERR_FILENO);
		close(saved);
		close(fd);
		ok(stat(errpath, &st) == 0 && st.st_size == 0,
		   "the library printed nothing on stderr");
		unlink(errpath);
	}

	/* leave /tmp as found */
	{
		static const char *const names[] = {
		    "good.conf",	"empty.conf",	 "user.conf",	     "unknown-key.conf",
		    "bad-accel.conf",	"relative.conf", "section.conf",     "bad-user.conf",
		    "syntax.conf",	"syntax2.conf",	 "sandbox-on.conf",  "sandbox-off.conf",
		    "bad-sandbox.conf", "firmware.conf", "iso-default.conf", "iso-set.conf",
		    "bad-mounts.conf",	"root.conf",	 "nobody.conf",	     "bad-cgroup.conf",
		    "bad-cgroot.conf"};

		for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
			_cleanup_free_ char *f = xasprintf("%s/%s", dir, names[i]);

			unlink(f);
		}
		ok(rmdir(dir) == 0, "temp dir removed");
	}
	return tap_done();
}
