/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_PLANDESC_H
#define VMR_PLANDESC_H

/*
 * A plan described for people and for later verbs: its disks as JSON
 * (status.json's "disks": what `snapshot`, `disk grow` and `rm` work on
 * without the topology), its host changes as lines, and STATE/GUEST/plan.json
 * (what the supervisor started: argv, environment, host changes), which
 * `vmrun restart` compares with the topology's plan now (vmr_plan_diff()).
 */

#include <jansson.h>

#include "lib/base/error.h"
#include "lib/base/strvec.h"
#include "lib/model/config.h"
#include "lib/model/topology.h"
#include "lib/plan/plan.h"

#define VMR_PLAN_FILE "plan.json"

/*
 * The guest's block devices in QEMU's order of their nodes: the root
 * overlay ("root"), each disk ("diskN", N its index in `disks:`), the seed
 * ("seed"), each {id, file (absolute), format, readonly, cdrom, backing
 * (absolute or null), made (vmrun creates it: an overlay or a blank
 * disk)} and for diskN its topology `size` (bytes, 0 when none).  A new
 * reference.
 */
json_t *vmr_plan_disks_json(const struct vmr_plan *p);

/*
 * The same for guest g of topology t (read from topo_path), planned as
 * under TCG (the disks do not depend on the accelerator): what `clone` and
 * `rm` read of a guest that may not run.  NULL on failure.
 */
json_t *vmr_guest_disks_json(const struct vmr_config *cfg, const struct vmr_topology *t,
			     const struct vmr_guest *g, const char *topo_path,
			     struct vmr_error **err);

/*
 * The devices whose state cannot be saved (vfio passthrough): a new array
 * of names such as "nic n1 (pci)"; empty when the guest can be snapshotted.
 */
json_t *vmr_plan_unmigratable_json(const struct vmr_plan *p);

/*
 * One line per host-side fact of the plan, in a stable order: the
 * accelerator, the cpuset, each disk and what vmrun makes of it, the
 * seed, each NIC's attachment with its settings and host interface, each
 * guest device.  Appended to ret.
 */
void vmr_plan_host_lines(const struct vmr_plan *p, struct vmr_strvec *ret);

/* plan.json's object: {"argv": [...], "env": [...], "host": [...]}. */
json_t *vmr_plan_record(const struct vmr_plan *p, const struct vmr_strvec *argv);

/*
 * The differences between two lists of lines as a unified diff body:
 * lines only in a are "-LINE", only in b "+LINE", common ones " LINE"
 * (longest common subsequence).  Returns how many lines differ; appends
 * the body (with context lines when context is true) to out.
 */
size_t vmr_lines_diff(const char *const *a, size_t na, const char *const *b, size_t nb,
		      bool context, struct vmr_strvec *out);

#endif
