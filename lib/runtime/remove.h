/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_REMOVE_H
#define VMR_REMOVE_H

/*
 * `vmrun rm TOPOLOGY GUEST` (docs/verbs.md): delete what vmrun made for a
 * stopped guest: its overlays (the `image:` root overlay, overlays on a
 * `backing:`), and its state directory (the seed, logs, status).  Never a
 * base image, nor a disk the topology names with `file:` alone (a blank
 * `size:` disk included: it holds the guest's data), nor a file another
 * guest's overlay is built on.
 */

#include <stdbool.h>

#include "lib/base/error.h"
#include "lib/base/strvec.h"
#include "lib/model/config.h"

struct vmr_rm_result {
	struct vmr_strvec removed; /* paths removed (or, dry run, to remove) */
	struct vmr_strvec kept;	   /* "PATH: why" for disks left alone */
};

/*
 * Remove (dry_run: only list) guest's files.  A running guest, or one whose
 * dead supervisor left host changes, fails (status 1) before anything is
 * removed; so does a file another guest's overlay uses.
 */
int vmr_guest_remove(const struct vmr_config *cfg, const char *topo_path, const char *guest,
		     bool dry_run, struct vmr_rm_result *ret, struct vmr_error **err);
void vmr_rm_result_free(struct vmr_rm_result *r);

#endif
