/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_MOUNTNS_H
#define VMR_MOUNTNS_H

/*
 * QEMU's private mount namespace (`private_mounts`, docs/security.md):
 * a tmpfs on /dev holding only the nodes the guest needs, bind-mounted
 * from the host's (owner and mode are the host node's: it is the same
 * inode), and read-only bind mounts of the files QEMU only reads (bases,
 * ISOs, kernel, initrd), so that even a compromised QEMU cannot write
 * them.  Everything else (the state directory, the guest's own disks) is
 * the host's, as before.  The namespace dies with QEMU, its last process.
 *
 * Split around fork like lib/base/caps.h: vmr_mountns_add_*() build the
 * plan before fork (they allocate and stat), vmr_mountns_apply() runs in
 * the forked child before the privilege drop (it needs CAP_SYS_ADMIN) and
 * makes only system calls on memory prepared here.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/base/error.h"

enum vmr_mount_kind {
	VMR_MOUNT_MKDIR, /* a directory in the private /dev */
	VMR_MOUNT_NODE,	 /* a host node bound onto a new file in the private /dev */
	VMR_MOUNT_TREE,	 /* a host directory (/dev/vfio) bound onto a new directory */
	VMR_MOUNT_RO,	 /* a host file bound onto itself, read-only */
};

struct vmr_mount {
	enum vmr_mount_kind kind;
	char *src;	 /* host path (NODE, TREE, RO) */
	char *dst;	 /* path as QEMU sees it ("/dev/kvm"); RO: == src */
	int fd;		 /* the child's O_PATH fd on src (NODE, TREE) */
	char fdpath[32]; /* "/proc/self/fd/N", written by the child */
};

struct vmr_mountns {
	struct vmr_mount *v;
	size_t n, alloc;
};

/* The steps of vmr_mountns_apply(), for error reports. */
enum vmr_mountns_step {
	VMR_MOUNTNS_UNSHARE,
	VMR_MOUNTNS_PRIVATE,
	VMR_MOUNTNS_OPEN,  /* the O_PATH open of entry's src */
	VMR_MOUNTNS_TMPFS, /* the tmpfs on /dev */
	VMR_MOUNTNS_MKDIR,
	VMR_MOUNTNS_MKNODE, /* the file a node is bound onto */
	VMR_MOUNTNS_BIND,
	VMR_MOUNTNS_DEV_RO, /* the tmpfs made read-only once filled */
	VMR_MOUNTNS_REMOUNT_RO,
};

/*
 * The nodes every QEMU gets (from the host's /dev): null, zero, full,
 * random, urandom.
 */
extern const char *const vmr_mountns_base_nodes[];

/*
 * Add host node src as dst ("/dev/..."): directories between /dev and dst
 * are made first.  A directory src is bound with its whole tree.  With
 * required false, a missing src is left out (returns 0); otherwise it is
 * an error naming it.
 */
int vmr_mountns_add_dev(struct vmr_mountns *m, const char *src, const char *dst, bool required,
			struct vmr_error **err);

/*
 * Add path (absolute) as a read-only bind mount of itself.  Only regular
 * files are added: a missing path or a device is left out (returns 0); a
 * path under /dev goes through vmr_mountns_add_dev() instead.
 */
int vmr_mountns_add_ro(struct vmr_mountns *m, const char *path, struct vmr_error **err);

/*
 * In the forked child: unshare(CLONE_NEWNS), make every mount private
 * (MS_REC|MS_PRIVATE: nothing propagates back to the host), open the
 * nodes' sources, mount a tmpfs on /dev (mode 0755, nosuid, noexec), make
 * its directories and bind the nodes, remount it read-only, then the
 * read-only bind mounts.  Returns 0, or -errno with the step in
 * *ret_step and the entry (or -1) in *ret_index.
 */
int vmr_mountns_apply(struct vmr_mountns *m, int *ret_step, int *ret_index);

/* What failed, for the parent's error: "bind '/dev/kvm' on '/dev/kvm'". */
char *vmr_mountns_step_text(const struct vmr_mountns *m, int step, int index);

/*
 * Before any host change: whether this process can make such a namespace
 * (a forked child tries unshare, MS_PRIVATE and a tmpfs, inside its own
 * namespace only).  Returns 0, or -errno with *err naming the step.
 */
int vmr_mountns_probe(struct vmr_error **err);

/* Free the plan; NULL and zeroed are fine. */
void vmr_mountns_free(struct vmr_mountns *m);

#endif
