/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_PREFLIGHT_H
#define VMR_PREFLIGHT_H

#include "lib/base/caps.h"
#include "lib/base/error.h"
#include "lib/base/spawn.h"
#include "lib/model/config.h"
#include "lib/model/topology.h"
#include "lib/plan/plan.h"

/*
 * What starting the guest of plan p needs, checked before anything changes
 * on the host: for each device what its grants say (CAP_NET_ADMIN for
 * macvtap, tap, bridge and VF NICs; write access to driver_override and
 * drivers_probe for a PCI device passed through); CAP_SETUID/CAP_SETGID
 * (the drop), CAP_SYS_NICE (pinning threads of another uid) and CAP_KILL
 * (stopping them) when cfg->qemu_user is set.  Returns 0 or negative with
 * *err.
 */
int vmr_caps_preflight(const struct vmr_config *cfg, const struct vmr_plan *p,
		       struct vmr_error **err);

/*
 * That QEMU, as user_name (u: its ids and groups), can reach every file
 * of plan p it still opens by name -- its binary (run), the kernel and
 * initrd, the bases of `image:` and `backing:` disks, `file:` disks
 * (read, and write unless read-only), CD-ROM images, OVMF's code --
 * judged by the mode bits of each file and of every directory on the way
 * (vmr_path_access()).  The files vmrun makes are fds (p->files) and not
 * checked.  A missing file is left to the checks that name it.  Fails
 * with usage status: "guest 'a': QEMU runs as user 'vmrun' (uid 999) and
 * cannot read '/root/k': directory '/root' is mode 0700 owner root".
 */
int vmr_qemu_files_preflight(const struct vmr_plan *p, const char *user_name,
			     const struct vmr_spawn_user *u, struct vmr_error **err);

#endif
