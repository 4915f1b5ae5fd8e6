/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_PREFLIGHT_H
#define VMR_PREFLIGHT_H

#include "lib/base/caps.h"
#include "lib/base/error.h"
#include "lib/model/config.h"
#include "lib/model/topology.h"

/*
 * Every check above for running guest g with host configuration cfg,
 * before anything changes on the host: CAP_NET_ADMIN for macvtap, tap,
 * bridge and VF NICs; write access to driver_override and drivers_probe
 * for PCI passthrough; CAP_SETUID/CAP_SETGID (the drop), CAP_SYS_NICE
 * (pinning threads of another uid) and CAP_KILL (stopping them) when
 * cfg->qemu_user is set.  Returns 0 or negative with *err.
 */
int vmr_caps_preflight(const struct vmr_config *cfg, const struct vmr_guest *g,
		       struct vmr_error **err);

#endif
