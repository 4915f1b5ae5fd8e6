/* SPDX-License-Identifier: GPL-2.0-or-later */
/* KVM usability detection for `accel: auto`. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "lib/plan/accel.h"
#include "lib/base/util.h"

int vmr_accel_kvm_usable(const char *dev_root, const char *sys_root, char **ret_why)
{
	_cleanup_free_ char *pvm = NULL, *dev = NULL;
	_cleanup_close_ int kvm = -1, vm = -1;
	struct stat st;
	char *why;
	int version;

	if (!dev_root)
		dev_root = "/dev";
	if (!sys_root)
		sys_root = "/sys";

	/*
	 * kvm_pvm passes every probe below (it creates VMs), yet QEMU guests
	 * hang under it, so its presence alone rules KVM out.
	 */
	pvm = xasprintf("%s/module/kvm_pvm", sys_root);
	if (stat(pvm, &st) == 0) {
		why = xasprintf("the kvm module is kvm_pvm ('%s' exists), under which guests hang",
				pvm);
		goto unusable;
	}

	dev = xasprintf("%s/kvm", dev_root);
	kvm = open(dev, O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		why = xasprintf("open '%s': %s", dev, strerror(errno));
		goto unusable;
	}
	version = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (version < 0) {
		why = xasprintf("KVM_GET_API_VERSION on '%s': %s", dev, strerror(errno));
		goto unusable;
	}
	if (version != KVM_API_VERSION) {
		why = xasprintf("'%s' has KVM API version %d, expected %d", dev, version,
				KVM_API_VERSION);
		goto unusable;
	}
	/* an open /dev/kvm is not enough: nested or locked-down hosts refuse VMs */
	vm = ioctl(kvm, KVM_CREATE_VM, 0UL);
	if (vm < 0) {
		why = xasprintf("KVM_CREATE_VM on '%s': %s", dev, strerror(errno));
		goto unusable;
	}
	if (ret_why)
		*ret_why = NULL;
	return 1;

unusable:
	if (ret_why)
		*ret_why = why;
	else
		free(why);
	return 0;
}

int vmr_accel_resolve(enum vmr_accel want, enum vmr_accel config_default, const char *dev_root,
		      const char *sys_root, enum vmr_accel *ret, char **ret_warning,
		      struct vmr_error **err)
{
	_cleanup_free_ char *why = NULL;
	const char *source = "the guest";

	if (want == VMR_ACCEL_AUTO) {
		want = config_default;
		source = "the host configuration";
	}

	switch (want) {
	case VMR_ACCEL_TCG:
		*ret = VMR_ACCEL_TCG;
		if (ret_warning)
			*ret_warning = NULL;
		return 0;
	case VMR_ACCEL_KVM:
		if (!vmr_accel_kvm_usable(dev_root, sys_root, &why)) {
			vmr_error_set(err, 0, "accel 'kvm' (set by %s) is not usable: %s", source,
				      why);
			vmr_error_hint(err, "use 'accel: tcg' or 'accel: auto'");
			return -1;
		}
		*ret = VMR_ACCEL_KVM;
		if (ret_warning)
			*ret_warning = NULL;
		return 0;
	case VMR_ACCEL_AUTO:
		break;
	}

	if (vmr_accel_kvm_usable(dev_root, sys_root, &why)) {
		*ret = VMR_ACCEL_KVM;
		if (ret_warning)
			*ret_warning = NULL;
		return 0;
	}
	*ret = VMR_ACCEL_TCG;
	if (ret_warning)
		*ret_warning = xasprintf("kvm is not usable (%s): using tcg, guests run "
					 "emulated and much slower",
					 why);
	return 0;
}
