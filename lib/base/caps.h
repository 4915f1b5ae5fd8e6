/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_CAPS_H
#define VMR_CAPS_H

/*
 * Capabilities, with libcap (docs/security.md).
 *
 * Two jobs:
 *
 * 1. Pre-flight checks for the supervisor: before it changes anything on
 *    the host, say which capability (or writable path) a step needs and
 *    that this process lacks, instead of failing half-way with EPERM.
 *
 * 2. QEMU's privilege drop, split in two halves around fork (after git's
 *    run-command.c): vmr_caps_drop_prepare() runs in the parent, may
 *    allocate, looks things up and checks the drop can work;
 *    vmr_caps_drop_apply() runs in the forked child right before
 *    PR_SET_PDEATHSIG and execve, and only makes system calls.
 *
 * Why not libcap's cap_launch(): its child calls cap_get_proc()/cap_dup()
 * (malloc after fork), runs the only caller hook *before* the uid change
 * (PR_SET_PDEATHSIG set there is cleared by setresuid), and reports a
 * bare errno.  The child makes single system calls on memory prepared in
 * the parent: cap_drop_bound(3) (one PR_CAPBSET_DROP), capset(2) from plain
 * bits, and PR_CAP_AMBIENT_CLEAR_ALL (cap_reset_ambient(3) would first read
 * every capability's ambient flag).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "lib/base/error.h"

/*
 * The capabilities a QEMU that stays root keeps in its bounding set: only
 * CAP_IPC_LOCK, which VFIO needs to pin guest memory for DMA (without it
 * the pinned pages count against RLIMIT_MEMLOCK, 8 MiB by default).  Taps,
 * vhost-net, QMP and console sockets are passed as fds, and root owns
 * /dev/kvm and the /dev/vfio nodes vmrun creates, so QEMU needs nothing
 * else.  docs/security.md has the reasoning per capability.
 */
/* clang-format off */
#define VMR_CAPS_QEMU_ROOT_KEEP { CAP_IPC_LOCK }
/* clang-format on */

/* Bit n of a capability mask: capability n. */
#define VMR_CAP_BIT(cap) (UINT64_C(1) << (cap))

/* True when cap is in this process's effective set. */
bool vmr_caps_have(cap_value_t cap);

/*
 * True when this process's permitted set holds any capability (root, a
 * container's root, a program with file capabilities).  When it holds
 * none, a program it starts with NoNewPrivs cannot have any either, so
 * there is nothing to drop.
 */
bool vmr_caps_any_permitted(void);

/*
 * Check that every capability in caps[0..n) is effective in this process.
 * what says what they are needed for ("creating macvtap links").  On
 * failure returns -EPERM with *err "creating macvtap links needs
 * CAP_NET_ADMIN, which this process lacks" and a hint on how to grant it.
 */
int vmr_caps_require(const cap_value_t *caps, size_t n, const char *what, struct vmr_error **err);

/*
 * Check that this process may write path (faccessat with AT_EACCESS, so
 * a read-only /sys mount shows up as EROFS).  A missing path is not an
 * error here (returns 0): the step that writes it names it better.
 * Otherwise returns -errno with *err "binding '0000:3b:00.0' to vfio-pci
 * needs write access to '/sys/bus/pci/drivers_probe': Read-only file system".
 */
int vmr_caps_require_writable(const char *path, const char *what, struct vmr_error **err);

/*
 * What this process would need beyond its uid and groups to unlink path
 * (vmr_caps_dac_unlink) or open it for writing (vmr_caps_dac_write), from
 * the mode bits of path and of every directory above it: 0, or the bits of
 * CAP_DAC_OVERRIDE (a directory it may not search or write, a file it may
 * not write) and CAP_FOWNER (a sticky directory, neither it nor the file
 * ours).  A missing file still needs its directory written; a missing
 * directory counts from the last one that exists.
 * Access control lists are not read: on Linux they can only grant an
 * owner more, so at worst a capability is kept that was not needed.
 */
uint64_t vmr_caps_dac_unlink(const char *path);
uint64_t vmr_caps_dac_write(const char *path);
/* Only reaching path: search permission on the directories above it. */
uint64_t vmr_caps_dac_reach(const char *path);

/*
 * The supervisor's own drop once its guest runs (docs/security.md): keep
 * the capabilities in keep (bit n: capability n) that this process has
 * permitted, and drop every other one from its bounding set (libcap
 * cap_drop_bound, while CAP_SETPCAP is still effective; left as it is
 * without CAP_SETPCAP), then its permitted and effective sets (the kept
 * ones stay both), its inheritable set (emptied) and its ambient set.
 * The uid stays.  *ret_kept (may be NULL) gets what the permitted set
 * holds afterwards.  Returns 0, 1 when this process holds no capability
 * (nothing to do), negative with *err.
 */
int vmr_caps_keep_only(uint64_t keep, uint64_t *ret_kept, struct vmr_error **err);

/* "CAP_KILL CAP_NET_ADMIN" for a mask (lowest first), "none" for 0. */
char *vmr_caps_mask_names(uint64_t mask);

/* What QEMU should run as; see vmr_caps_drop_prepare(). */
struct vmr_caps_drop_opts {
	bool change_ids; /* false: QEMU keeps uid 0 (with a small bounding set) */
	uid_t uid;	 /* with change_ids */
	gid_t gid;
	const gid_t *groups; /* supplementary groups (copied) */
	size_t ngroups;
	/*
	 * With change_ids: also join the group owning this device (e.g.
	 * "/dev/kvm") when the user lacks access; NULL: none.  Refused when
	 * even that would not let the user open it read-write.
	 */
	const char *device;
	/* Without change_ids: kept in the bounding set.  NULL:
	 * VMR_CAPS_QEMU_ROOT_KEEP. */
	const cap_value_t *keep;
	size_t nkeep;
	/* > 0: set RLIMIT_MEMLOCK (soft and hard) to this many bytes while
	 * still privileged; what VFIO needs when QEMU is not root. */
	uint64_t memlock;
};

/* A prepared drop.  Fields are private to lib/caps.c. */
struct vmr_caps_drop {
	bool change_ids;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	uint64_t drop_bound; /* bit n: drop capability n from the bounding set */
	int last_cap;
	/* capset last: P=E=final_caps (none for a user), I empty; plain
	 * bits, not a cap_t, so a forked child holds no heap object */
	bool set_final;
	uint64_t final_caps;
	bool set_memlock;
	struct rlimit memlock;
};

/* The steps of vmr_caps_drop_apply(), in order, for error reports. */
enum vmr_caps_step {
	VMR_CAPS_STEP_MEMLOCK,
	VMR_CAPS_STEP_BOUNDING,
	VMR_CAPS_STEP_SETGROUPS,
	VMR_CAPS_STEP_SETRESGID,
	VMR_CAPS_STEP_SETRESUID,
	VMR_CAPS_STEP_CAPSET,
	VMR_CAPS_STEP_AMBIENT,
	VMR_CAPS_STEP_NO_NEW_PRIVS,
};

/* "setresuid", "drop capability bounding set", ...; never NULL. */
const char *vmr_caps_step_name(int step);

/*
 * Before fork: resolve and check everything the drop in o needs, so the
 * child cannot fail for a reason knowable here (missing CAP_SETPCAP,
 * CAP_SETUID, CAP_SETGID or CAP_SYS_RESOURCE, a device the user cannot
 * open, an unknown capability).  On success fills *ret (free with
 * vmr_caps_drop_free()).
 */
int vmr_caps_drop_prepare(const struct vmr_caps_drop_opts *o, struct vmr_caps_drop *ret,
			  struct vmr_error **err);

/*
 * In the forked child, after the fds are in place and before
 * PR_SET_PDEATHSIG (which a uid change clears) and execve.  Only
 * async-signal-safe system calls, in crun's order: RLIMIT_MEMLOCK,
 * PR_CAPBSET_DROP, setgroups, setresgid, setresuid, capset, clear the
 * ambient set, PR_SET_NO_NEW_PRIVS.  Afterwards an exec'd QEMU has
 * CapEff/CapPrm/CapInh/CapAmb/CapBnd 0 (or just the kept set as root)
 * and NoNewPrivs 1.  Returns 0, or -errno with the failed step in
 * *ret_step.
 */
int vmr_caps_drop_apply(const struct vmr_caps_drop *d, int *ret_step);

/*
 * Whether the prepared drop d changes ids (QEMU as qemu_user): true with
 * the uid and gid it changes to.  NULL is false.
 */
bool vmr_caps_drop_ids(const struct vmr_caps_drop *d, uid_t *ret_uid, gid_t *ret_gid);

/* Release what vmr_caps_drop_prepare() allocated; NULL and zeroed are fine. */
void vmr_caps_drop_free(struct vmr_caps_drop *d);

#endif
