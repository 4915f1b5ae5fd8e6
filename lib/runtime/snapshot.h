/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_SNAPSHOT_H
#define VMR_SNAPSHOT_H

/*
 * Snapshots of a guest (`vmrun snapshot`, docs/verbs.md): internal qcow2
 * snapshots of every writable disk, with the memory and device state when
 * the guest runs.
 *
 * - Running: QMP's snapshot-save, snapshot-load and snapshot-delete jobs
 *   through the supervisor (the memory state goes into the first disk).
 *   A device whose state cannot be saved (vfio passthrough) refuses.
 * - Stopped: `qemu-img snapshot` on each disk, disk state only, with the
 *   guest's lock held so it cannot start meanwhile.
 *
 * Every writable disk must be qcow2 (a raw disk cannot hold snapshots) and
 * used by this guest only (another guest's last run listing the same file
 * refuses); read-only disks, CD-ROMs and the seed are left out.
 */

#include <jansson.h>
#include <stdbool.h>

#include "lib/base/error.h"
#include "lib/model/config.h"
#include "lib/runtime/guestinfo.h"

#define VMR_SNAPSHOT_NAME_MAX 64
#define VMR_SNAPSHOT_JOB_TIMEOUT_MS 600000

enum vmr_snapshot_op {
	VMR_SNAPSHOT_CREATE,
	VMR_SNAPSHOT_LIST,
	VMR_SNAPSHOT_REVERT,
	VMR_SNAPSHOT_DELETE,
};

/*
 * A snapshot name: [A-Za-z0-9._-]{1,64}, not starting with '-' and not all
 * digits (qemu-img would take a number for a snapshot id).  Returns NULL
 * when valid, else why not (static).
 */
const char *vmr_snapshot_name_problem(const char *name);

/*
 * The disks that hold the guest's snapshots (a new array of status.json
 * disk objects) or a usage error naming the disk or device that forbids
 * them: a raw writable disk, a disk another guest uses, and (when
 * with_memory) a device that cannot be migrated.
 */
int vmr_snapshot_disks(const char *state_dir, const struct vmr_guest_info *i, bool with_memory,
		       json_t **ret, struct vmr_error **err);

/*
 * Do op on guest's snapshot name (NULL for LIST).  For LIST, *ret_list
 * gets a new array of {name, date, vm_state_size, vm_clock_nsec, disks:
 * [ids]} sorted by date.  *ret_how (static; may be NULL) tells how:
 * "running" (memory and disks) or "stopped" (disks only).  topo_path: the
 * topology for a stopped guest's disks (NULL: its last run's).
 */
int vmr_snapshot_do(const struct vmr_config *cfg, const char *guest, const char *topo_path,
		    enum vmr_snapshot_op op, const char *name, json_t **ret_list,
		    const char **ret_how, struct vmr_error **err);

/* The same on a guest already looked up (and locked when stopped) by the caller. */
int vmr_snapshot_info_do(const struct vmr_config *cfg, const struct vmr_guest_info *i,
			 enum vmr_snapshot_op op, const char *name, json_t **ret_list,
			 struct vmr_error **err);

#endif
