/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_GUESTPLAN_H
#define VMR_GUESTPLAN_H

/*
 * A guest's plan on this host, as `vmrun run` starts it and `vmrun args`
 * prints it: the topology's directory, the host facts probed (unless
 * forced), vmr_plan_build(); then, once the host is set up, the devices'
 * setup hooks.  One path for both, so the command line `args` prints is
 * the one `run` executes, byte for byte.
 */

#include "lib/base/error.h"
#include "lib/base/journal.h"
#include "lib/model/config.h"
#include "lib/model/topology.h"
#include "lib/plan/plan.h"

struct vmr_guest_plan_opts {
	const char *topo_path; /* relative paths in the topology resolve from its directory */
	enum vmr_accel accel;  /* AUTO: the guest's and the host's say; else this one */
	int vhost;	       /* -1: whether DEV/vhost-net opens; 0 or 1: that */
	bool no_sandbox;       /* leave out QEMU's -sandbox */
};

/*
 * The plan of guest g.  *ret_warning (may be NULL) gets the TCG fallback
 * warning of `accel: auto` without KVM.  Free with vmr_plan_free().
 */
int vmr_guest_plan(const struct vmr_config *cfg, const struct vmr_topology *t,
		   const struct vmr_guest *g, const struct vmr_guest_plan_opts *o,
		   struct vmr_plan *ret, char **ret_warning, struct vmr_error **err);

/*
 * The devices' checks of this host that change nothing (their preflight
 * hooks: free hugepages, a vhost-user backend's socket, OVMF's files,
 * swtpm, a VNC password file, a USB device): run before any host change.
 * A fault of the topology's is a usage error (status 2).
 */
int vmr_guest_preflight(const struct vmr_config *cfg, const struct vmr_plan *p,
			struct vmr_error **err);

/*
 * The host setup of the plan's devices (lib/devices/): each journaled in
 * j, the fds QEMU gets stored in fds[child_fd - 3] (p->nfds entries, -1
 * until set; the caller owns them), facts learnt written into p (the VF
 * chosen, host interfaces).  Helper processes devices start (swtpm) run
 * with the privilege drop caps (NULL: none) and are recorded in helpers,
 * which the caller supervises and stops, also after a failure.  On failure the fds opened are
 * closed and this setup's own changes are rolled back; the caller replays the journal anyway.
 */
struct vmr_caps_drop;
struct vmr_helpers;
int vmr_guest_setup(const struct vmr_config *cfg, struct vmr_journal *j, struct vmr_plan *p,
		    int *fds, const struct vmr_caps_drop *caps, struct vmr_helpers *helpers,
		    struct vmr_error **err);

/*
 * The devices' QMP commands once QEMU answers, before the guest runs
 * (their prestart hooks).  Returns 0, 1 when a stop came first, or negative.
 */
struct vmr_prestart;
int vmr_guest_prestart(struct vmr_prestart *ps, struct vmr_error **err);

#endif
