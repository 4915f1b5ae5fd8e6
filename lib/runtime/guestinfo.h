/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_GUESTINFO_H
#define VMR_GUESTINFO_H

/*
 * A guest by name, for the verbs that act on its disks or describe it
 * (snapshot, disk grow, rm, inspect): whether a supervisor runs it, its
 * status (live when it runs, else the last status.json) and its disks
 * (what runs, or the topology's plan when one is given, or what the last
 * run recorded).
 */

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "lib/base/error.h"
#include "lib/base/statedir.h"
#include "lib/model/config.h"

struct vmr_guest_info {
	char *name;
	bool running;		  /* a supervisor holds the guest's lock */
	json_t *status;		  /* vmr_guest_status()'s object (never NULL) */
	json_t *disks;		  /* status.json's "disks" form (never NULL; may be empty) */
	json_t *unmigratable;	  /* devices whose state cannot be saved (never NULL) */
	bool have_record;	  /* disks came from a supervisor or a topology */
	struct vmr_statedir lock; /* held while the guest is stopped, with lock_stopped */
};

/*
 * Fill *ret for guest.  topo_path (may be NULL): the topology to take the
 * disks from when no supervisor runs the guest.  lock_stopped: when no
 * supervisor runs it, take its lock (creating STATE/GUEST) and hold it
 * until vmr_guest_info_free(), so no start races an offline operation; a
 * start that wins the race fails it with "already running".
 */
int vmr_guest_info_get(const struct vmr_config *cfg, const char *guest, const char *topo_path,
		       bool lock_stopped, struct vmr_guest_info *ret, struct vmr_error **err);
void vmr_guest_info_free(struct vmr_guest_info *i);

/*
 * The disk of i named id ("root", "diskN", "seed") or whose file is id
 * (borrowed), or NULL.
 */
json_t *vmr_guest_info_disk(const struct vmr_guest_info *i, const char *id);

/*
 * Which other guest of state_dir uses file as a writable disk, by their
 * last status.json (caller frees), or NULL.
 */
char *vmr_guest_disk_sharer(const char *state_dir, const char *guest, const char *file);

#endif
