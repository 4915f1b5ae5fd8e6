/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_DISKGROW_H
#define VMR_DISKGROW_H

/*
 * `vmrun disk grow` (docs/verbs.md): a guest's disk made larger, online
 * with QMP block_resize through the supervisor (the guest sees the new
 * capacity at once: virtio-blk and SCSI report it), or offline with
 * `qemu-img resize` while the guest's lock is held.  Never smaller.
 */

#include <stdbool.h>
#include <stdint.h>

#include "lib/base/error.h"
#include "lib/model/config.h"

struct vmr_disk_grow_result {
	uint64_t old_size, new_size;
	bool online;
	char file[4096];
	uint64_t topology_size; /* the topology's size: for the disk, 0 when none */
};

/*
 * Grow disk (its id "root"/"diskN" or its file) of guest to size bytes.
 * topo_path: the topology for a stopped guest's disks (NULL: its last
 * run's).  A size not above the current one, a CD-ROM, a read-only disk or
 * the seed is a usage error.
 */
int vmr_disk_grow(const struct vmr_config *cfg, const char *guest, const char *disk, uint64_t size,
		  const char *topo_path, struct vmr_disk_grow_result *ret, struct vmr_error **err);

#endif
