/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_CGROUP_H
#define VMR_CGROUP_H

/*
 * QEMU's cgroup (`cgroup` in vmrun.conf, docs/security.md): a cgroup v2
 * leaf CGROUP_ROOT/vmrun/GUEST with cpuset.cpus (the guest's CPUs, its
 * emulator and iothread CPUs), memory.max (guest memory plus
 * VMR_CGROUP_MEMORY_OVERHEAD) and pids.max.  The supervisor makes it
 * before QEMU starts (journaled before mkdir), QEMU's spawn child joins
 * it through a cgroup.procs fd opened before fork, and the journal's undo
 * kills what is left in it (cgroup.kill) and removes it, at teardown or
 * when the next start reclaims a dead run.
 *
 * cgroup v1 (and the hybrid layout: v1 controllers, v2 without them at
 * ROOT/unified): one leaf per controller, ROOT/CONTROLLER/OWN/vmrun/GUEST,
 * where OWN is the supervisor's own cgroup of that controller (in v1 a
 * cgroup may hold processes and children, so QEMU stays inside whatever
 * confines the supervisor), with cpuset.cpus and cpuset.mems (copied from
 * the parent, as v1 requires before a process may join),
 * memory.limit_in_bytes and pids.max.
 *
 * The root is a path, like sysfs_root: tests drive a fake tree.  A root
 * that is not a cgroup file system is taken for one: its files are plain
 * files, the undo kills nothing and removes the files vmrun wrote.
 */

#include <stdbool.h>
#include <stdint.h>

#include "lib/base/cpuset.h"
#include "lib/base/error.h"
#include "lib/base/journal.h"

/* QEMU's own memory beyond the guest's RAM: code, TCG's translation cache, I/O buffers */
#define VMR_CGROUP_MEMORY_OVERHEAD (UINT64_C(512) << 20)
/* QEMU's threads: per vCPU one, plus its thread pool (64), RCU, I/O, vhost workers */
#define VMR_CGROUP_PIDS_BASE 256
/* The directory under the root that holds one leaf per guest */
#define VMR_CGROUP_DIR "vmrun"

struct vmr_cgroup_limits {
	struct vmr_cpuset cpus; /* sorted; empty: cpuset.cpus not written */
	uint64_t memory_max;	/* bytes */
	uint64_t pids_max;
};

/*
 * The limits for a guest (pure): cpus the sorted union of vcpus,
 * emulator and iothreads (each may be NULL); memory_max memory +
 * VMR_CGROUP_MEMORY_OVERHEAD; pids_max VMR_CGROUP_PIDS_BASE + 4 per vCPU.
 * Free with vmr_cgroup_limits_free().
 */
void vmr_cgroup_limits(const struct vmr_cpuset *vcpus, const struct vmr_cpuset *emulator,
		       const struct vmr_cpuset *iothreads, uint64_t memory, unsigned nvcpus,
		       struct vmr_cgroup_limits *ret);
void vmr_cgroup_limits_free(struct vmr_cgroup_limits *l);

/* ROOT/vmrun/GUEST (caller frees). */
char *vmr_cgroup_path(const char *root, const char *guest);

/*
 * Whether a leaf with limits l can be made under root, changing nothing:
 * cgroup v2 there (root/cgroup.controllers) with the controllers the
 * limits need (memory, pids, and cpuset with cpus) in the root's
 * cgroup.subtree_control; else cgroup v1 with those controllers mounted
 * at root/CONTROLLER.  Returns 2 or 1 (the version), or -1 with *ret_why
 * (caller frees) saying why not.
 */
int vmr_cgroup_usable(const char *root, const struct vmr_cgroup_limits *l, char **ret_why);

/*
 * This process's cgroup of controller ctl in the text of /proc/self/cgroup
 * ("4:memory:/a/b" -> "/a/b"; v1 lines only, "cpu,cpuacct" lists match
 * each); "/" when none (pure).  Caller frees.
 */
char *vmr_cgroup_v1_own(const char *proc_cgroup, const char *ctl);

#define VMR_CGROUP_MAX_LEAVES 3

/* A made cgroup: its leaf (v2; v1: the memory one) and O_WRONLY fds on each leaf's cgroup.procs. */
struct vmr_cgroup {
	char *path;
	int procs_fd[VMR_CGROUP_MAX_LEAVES];
	int nfds;
};

/*
 * Record {"type": "cgroup", "path": LEAF} in j for each leaf, then make it:
 * v2 (version 2) ROOT/vmrun (with the controllers enabled in its
 * cgroup.subtree_control) and the leaf; v1 each controller's
 * .../vmrun and leaf.  Write the limits and open cgroup.procs.  A leaf
 * already there (a dead run's the journal did not name) is removed first.
 * On failure the journal entries stay: their undo removes what was made.
 */
int vmr_cgroup_create(const char *root, int version, const char *guest,
		      const struct vmr_cgroup_limits *l, struct vmr_journal *j,
		      struct vmr_cgroup *ret, struct vmr_error **err);

/* Close the fd and free the path; NULL and zeroed are fine. */
void vmr_cgroup_close(struct vmr_cgroup *c);

/*
 * Kill every process left in the leaf at path (cgroup.kill, else SIGKILL
 * to each pid of cgroup.procs), wait until it is empty (at most 2 s),
 * remove it, and ROOT/vmrun when that is empty.  A missing leaf is fine.
 */
int vmr_cgroup_remove(const char *path, struct vmr_error **err);

/* Register the journal's undo for "cgroup" entries. */
void vmr_cgroup_register_undo(void);

#endif
