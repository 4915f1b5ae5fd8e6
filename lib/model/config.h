/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_CONFIG_H
#define VMR_CONFIG_H

/*
 * Host configuration: /etc/vmrun/vmrun.conf (INI, read with iniparser),
 * overridden by environment variables and then by command-line options.
 * docs/configuration.md lists every key.
 *
 *   [vmrun]
 *   qemu = /usr/bin/qemu-system-x86_64     ; VMRUN_QEMU
 *   state_dir = /run/vmrun                 ; VMRUN_STATE_DIR, --state-dir
 *   accel = auto                           ; used where a guest says auto
 *   image_dir = /var/lib/vmrun/images
 *   qemu_user = vmrun                      ; run QEMU as this user (root: stay root)
 *   sysfs_root = /sys                      ; VMRUN_SYSFS_ROOT
 *   sandbox = true                         ; VMRUN_NO_SANDBOX=1 forces false
 *   firmware_dir = /usr/share/OVMF         ; OVMF's code and vars templates
 *   swtpm = /usr/bin/swtpm                 ; swtpm_setup is looked up next to it
 *   private_mounts = auto                  ; QEMU's private /dev and read-only images
 *   cgroup = auto                          ; QEMU's cgroup leaf (v2, or v1 per controller)
 *   cgroup_root = /sys/fs/cgroup           ; VMRUN_CGROUP_ROOT
 */

#include <stdbool.h>

#include "lib/base/error.h"
#include "lib/model/topology.h"

#define VMR_CONFIG_DEFAULT_PATH "/etc/vmrun/vmrun.conf"
#define VMR_CONFIG_FIRMWARE_DIR "/usr/share/OVMF" /* Debian's ovmf */
#define VMR_CONFIG_SWTPM "/usr/bin/swtpm"
#define VMR_CONFIG_QEMU_USER "vmrun"	       /* made by make install, the package, the image */
#define VMR_CONFIG_QEMU_USER_FALLBACK "nobody" /* where there is no vmrun user */

#define VMR_CONFIG_CGROUP_ROOT "/sys/fs/cgroup"

/* auto, true, false: a setting whose default depends on the host */
enum vmr_switch {
	VMR_SWITCH_AUTO,
	VMR_SWITCH_TRUE,
	VMR_SWITCH_FALSE,
};

struct vmr_config {
	char *path; /* the file read, or NULL if none */
	char *qemu;
	char *state_dir;
	enum vmr_accel accel;
	char *image_dir;
	/*
	 * The user QEMU runs as; NULL: QEMU keeps the supervisor's uid
	 * (`qemu_user = root`, or by default a process without CAP_SETUID
	 * and CAP_SETGID).  Default: "vmrun", or "nobody" where that user
	 * does not exist (qemu_user_fallback, which the supervisor warns of).
	 */
	char *qemu_user;
	bool qemu_user_set;	 /* written in the file (an explicit root included) */
	bool qemu_user_fallback; /* the default, "nobody": no user "vmrun" on this host */
	char *sysfs_root;
	char *dev_root;	    /* "/dev"; VMRUN_DEV_ROOT, for tests */
	bool sandbox;	    /* the supervisor loads its seccomp filter (lib/sandbox.h) */
	char *firmware_dir; /* OVMF_CODE_4M*.fd and OVMF_VARS_4M*.fd (`firmware: uefi`) */
	char *swtpm;	    /* swtpm, for `tpm: true`; swtpm_setup is in its directory */
	/* QEMU in a private mount namespace (auto: outside a container) */
	enum vmr_switch private_mounts;
	/* QEMU in a cgroup leaf (auto: outside a container, where the controllers are) */
	enum vmr_switch cgroup;
	char *cgroup_root; /* "/sys/fs/cgroup"; VMRUN_CGROUP_ROOT, for tests */
};

/*
 * Load the configuration.  path NULL means the default path, which may be
 * absent; an explicit path must exist.  Unknown keys and bad values are
 * errors naming the file, key and value (usage status).  Then applies the
 * environment overrides.
 */
int vmr_config_load(const char *path, struct vmr_config *ret, struct vmr_error **err);
/* Free the strings of c and zero it; NULL is fine. */
void vmr_config_free(struct vmr_config *c);

#endif
