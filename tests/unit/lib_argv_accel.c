/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Accelerator resolution (lib/accel.c) against fake /dev and /sys trees. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "lib/plan/accel.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

static char root[] = "/tmp/vmrt-accel-XXXXXX";

static char *mkpath(const char *rel)
{
	return xasprintf("%s/%s", root, rel);
}

static void mkdirs(const char *rel)
{
	_cleanup_free_ char *p = mkpath(rel);

	for (char *s = p + strlen(root) + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	mkdir(p, 0755);
}

static void touch(const char *rel)
{
	_cleanup_free_ char *p = mkpath(rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd >= 0)
		close(fd);
}

static bool has(const char *s, const char *needle)
{
	return s && strstr(s, needle);
}

int main(void)
{
	_cleanup_free_ char *nodev = NULL, *filedev = NULL, *sys_pvm = NULL, *sys_plain = NULL;
	struct vmr_error *err = NULL;
	enum vmr_accel a;
	char *warn = NULL, *why = NULL;
	int r;

	if (!mkdtemp(root)) {
		tap_skip("mkdtemp failed", "fake roots");
		return tap_done();
	}
	mkdirs("nodev");
	mkdirs("filedev");
	touch("filedev/kvm"); /* opens, but is no KVM device */
	mkdirs("sys-pvm/module/kvm_pvm");
	mkdirs("sys-plain/module/kvm");
	nodev = mkpath("nodev");
	filedev = mkpath("filedev");
	sys_pvm = mkpath("sys-pvm");
	sys_plain = mkpath("sys-plain");

	/* tcg asked for: no probing, no warning */
	a = VMR_ACCEL_AUTO;
	warn = (char *)"unset";
	r = vmr_accel_resolve(VMR_ACCEL_TCG, VMR_ACCEL_KVM, nodev, sys_pvm, &a, &warn, &err);
	ok(r == 0 && a == VMR_ACCEL_TCG && warn == NULL, "guest tcg: tcg, no warning");

	r = vmr_accel_resolve(VMR_ACCEL_AUTO, VMR_ACCEL_TCG, nodev, sys_plain, &a, &warn, &err);
	ok(r == 0 && a == VMR_ACCEL_TCG && warn == NULL,
	   "guest auto, configuration tcg: tcg, no warning");

	/* auto with no /dev/kvm */
	r = vmr_accel_resolve(VMR_ACCEL_AUTO, VMR_ACCEL_AUTO, nodev, sys_plain, &a, &warn, &err);
	ok(r == 0 && a == VMR_ACCEL_TCG, "auto without /dev/kvm: tcg");
	ok(has(warn, "kvm is not usable (open '") && has(warn, "nodev/kvm': No such file"),
	   "auto without /dev/kvm: warning names the device and errno");
	tap_diag("warning: %s", warn ? warn : "(none)");
	free(warn);

	/* auto with a /dev/kvm that is not KVM */
	r = vmr_accel_resolve(VMR_ACCEL_AUTO, VMR_ACCEL_AUTO, filedev, sys_plain, &a, &warn, &err);
	ok(r == 0 && a == VMR_ACCEL_TCG && has(warn, "KVM_GET_API_VERSION"),
	   "auto with a non-KVM /dev/kvm: tcg, the failing ioctl named");
	free(warn);

	/* kvm_pvm rules KVM out whatever /dev/kvm does */
	r = vmr_accel_resolve(VMR_ACCEL_AUTO, VMR_ACCEL_AUTO, "/dev", sys_pvm, &a, &warn, &err);
	ok(r == 0 && a == VMR_ACCEL_TCG && has(warn, "kvm_pvm") && has(warn, "guests hang"),
	   "auto with kvm_pvm loaded: tcg with the reason");
	free(warn);
	ok(vmr_accel_kvm_usable("/dev", sys_pvm, &why) == 0 && has(why, "module/kvm_pvm' exists"),
	   "kvm_usable: kvm_pvm reported");
	free(why);
	ok(vmr_accel_kvm_usable(nodev, sys_plain, NULL) == 0, "kvm_usable: NULL ret_why accepted");

	/* kvm requested but unusable is an error, saying who asked */
	r = vmr_accel_resolve(VMR_ACCEL_KVM, VMR_ACCEL_TCG, nodev, sys_plain, &a, &warn, &err);
	ok(r < 0 && err && err->status == VMR_EXIT_FAILURE, "guest kvm, unusable: runtime error");
	ok(err && has(err->msg, "accel 'kvm' (set by the guest) is not usable: open '"),
	   "guest kvm, unusable: message");
	ok(err && has(err->hint, "accel: tcg"), "guest kvm, unusable: hint");
	vmr_error_clear(&err);
	r = vmr_accel_resolve(VMR_ACCEL_AUTO, VMR_ACCEL_KVM, "/dev", sys_pvm, &a, &warn, &err);
	ok(r < 0 && err && has(err->msg, "(set by the host configuration)") &&
	       has(err->msg, "kvm_pvm"),
	   "configuration kvm, kvm_pvm loaded: error naming the configuration");
	vmr_error_clear(&err);

	/* the positive path needs a real KVM */
	if (vmr_accel_kvm_usable("/dev", sys_plain, &why)) {
		r = vmr_accel_resolve(VMR_ACCEL_AUTO, VMR_ACCEL_AUTO, "/dev", sys_plain, &a, &warn,
				      &err);
		ok(r == 0 && a == VMR_ACCEL_KVM && warn == NULL,
		   "auto with a working /dev/kvm: kvm");
		r = vmr_accel_resolve(VMR_ACCEL_KVM, VMR_ACCEL_AUTO, "/dev", sys_plain, &a, &warn,
				      &err);
		ok(r == 0 && a == VMR_ACCEL_KVM, "kvm with a working /dev/kvm: kvm");
	} else {
		tap_skip(why, "auto with a working /dev/kvm: kvm");
		tap_skip(why, "kvm with a working /dev/kvm: kvm");
		free(why);
	}

	{
		static const char *const made[] = {
		    "filedev/kvm",
		    "filedev",
		    "nodev",
		    "sys-pvm/module/kvm_pvm",
		    "sys-pvm/module",
		    "sys-pvm",
		    "sys-plain/module/kvm",
		    "sys-plain/module",
		    "sys-plain",
		};

		for (size_t i = 0; i < ARRAY_SIZE(made); i++) {
			_cleanup_free_ char *p = mkpath(made[i]);

			remove(p);
		}
		rmdir(root);
	}
	return tap_done();
}
