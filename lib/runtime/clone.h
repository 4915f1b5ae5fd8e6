/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_CLONE_H
#define VMR_CLONE_H

/*
 * `vmrun clone TOPOLOGY GUEST NEW` (docs/verbs.md): a new guest entry like
 * GUEST's, with MACs derived from NEW's name (where GUEST's were written
 * out), NEW's hostname and so a new seed and instance-id, and its own disks:
 * each writable qcow2 disk of GUEST (the root overlay included) copied from
 * a snapshot taken for the purpose (memory too while GUEST runs, then
 * deleted), as an overlay on the same base when the disk has one.  The new
 * topology is validated before any disk is written; a NIC address another
 * guest has refuses, as the model's own clashes (cpusets, PCI devices,
 * MACs) do.
 */

#include "lib/base/error.h"
#include "lib/base/strvec.h"
#include "lib/model/config.h"

struct vmr_clone_opts {
	const struct vmr_config *cfg;
	const char *topo_path;	      /* the source topology */
	const char *source;	      /* GUEST */
	const char *name;	      /* NEW */
	const struct vmr_strvec *ips; /* "NIC=ADDR/PFX" or "NIC=none", in order */
	const char *cpuset;	      /* NULL: as GUEST's; "none": without one */
	const char *out_path;	      /* where the full topology will be written (NULL: nowhere) */
	bool dry_run;		      /* check and describe, copy no disk */
};

struct vmr_clone_result {
	char *entry;		 /* NEW's entry, indented as the guests map's entries */
	char *topology;		 /* the whole topology with NEW's entry added */
	struct vmr_strvec disks; /* "ID SRC -> DST" per disk copied (or to copy, dry run) */
	struct vmr_strvec files; /* the disk files made (none on a dry run) */
	char *warning;		 /* the snapshot could not be deleted afterwards, or NULL */
};

int vmr_clone(const struct vmr_clone_opts *o, struct vmr_clone_result *ret, struct vmr_error **err);
void vmr_clone_result_free(struct vmr_clone_result *r);

/*
 * The name of a clone's copy of disk file path (pure): the source guest's
 * name as a word of its base name (between '-', '_', '.' or the ends)
 * becomes the new one's, else the new name and '-' come first
 * ("data/a-disk.qcow2" -> "data/b-disk.qcow2", "data-a.qcow2" ->
 * "data-b.qcow2", "x.qcow2" -> "b-x.qcow2").  Caller frees.
 */
char *vmr_clone_disk_name(const char *path, const char *source, const char *name);

#endif
