/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_ACCEL_H
#define VMR_ACCEL_H

/*
 * Choosing the accelerator: `accel: auto` means KVM when it is usable on
 * this host, else TCG with a warning.  "Usable" is stricter than "/dev/kvm
 * exists": the device must open and create a VM, and the KVM module must
 * not be kvm_pvm (the PVM flavour loads, creates VMs and then hangs our
 * guests, see docs/qemu-argv.md).
 */

#include "lib/base/error.h"
#include "lib/model/topology.h"

/*
 * Resolve the accelerator of a guest.  want is the guest's `accel`;
 * when it is AUTO, config_default (the host configuration's `accel`)
 * decides, and when that is AUTO too, KVM is probed: dev_root/kvm must
 * open read-write and answer KVM_GET_API_VERSION and KVM_CREATE_VM, and
 * sys_root/module/kvm_pvm must not exist.  dev_root and sys_root are the
 * host's /dev and /sys (tests pass fake trees); NULL means "/dev", "/sys".
 *
 * On success returns 0, stores KVM or TCG (never AUTO) in *ret and, when
 * auto fell back to TCG, a new warning text in *ret_warning (caller frees;
 * NULL otherwise; ret_warning itself may be NULL).  KVM requested
 * explicitly (by the guest or the configuration) but unusable is an error
 * explaining why.
 */
int vmr_accel_resolve(enum vmr_accel want, enum vmr_accel config_default, const char *dev_root,
		      const char *sys_root, enum vmr_accel *ret, char **ret_warning,
		      struct vmr_error **err);

/*
 * Probe whether KVM is usable (the test vmr_accel_resolve() applies for
 * auto).  Returns 1 when usable, 0 when not, with the reason in *ret_why
 * (caller frees; may be NULL).  Never fails otherwise.
 */
int vmr_accel_kvm_usable(const char *dev_root, const char *sys_root, char **ret_why);

#endif
