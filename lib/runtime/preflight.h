/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_PREFLIGHT_H
#define VMR_PREFLIGHT_H

#include "lib/base/caps.h"
#include "lib/base/error.h"
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

#endif
