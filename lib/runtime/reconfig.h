/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_RECONFIG_H
#define VMR_RECONFIG_H

/*
 * `vmrun restart TOPOLOGY GUEST` (docs/verbs.md): what would change if the
 * guest started now from the topology, beside what its supervisor started
 * (STATE/GUEST/plan.json): QEMU's environment and command line, and the
 * host changes (vmr_plan_host_lines()).
 */

#include <stdbool.h>

#include "lib/base/error.h"
#include "lib/base/strvec.h"
#include "lib/model/config.h"
#include "lib/model/topology.h"

struct vmr_reconfig {
	bool have_old;	     /* plan.json exists (the guest started here before) */
	size_t changed_argv; /* lines that differ in QEMU's environment and command line */
	size_t changed_host; /* lines that differ in the host changes */
	struct vmr_strvec argv_diff, host_diff; /* "-LINE" / "+LINE" */
	struct vmr_strvec argv_new;		/* the new command line */
};

/*
 * Plan g of t (topo_path: its file) as a start would now, and compare with
 * the last plan.json of the guest.  A `vf:` NIC keeps the VF its
 * supervisor chose (the next start chooses again).  Free with
 * vmr_reconfig_free().
 */
int vmr_reconfig_diff(const struct vmr_config *cfg, const struct vmr_topology *t,
		      const struct vmr_guest *g, const char *topo_path, struct vmr_reconfig *ret,
		      struct vmr_error **err);
void vmr_reconfig_free(struct vmr_reconfig *r);

#endif
