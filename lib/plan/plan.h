/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_PLAN_H
#define VMR_PLAN_H

/*
 * The plan: one guest of the validated model plus the host facts the QEMU
 * command line needs (resolved accelerator, fd numbers in the child, host
 * interface names, the VF chosen for a `vf:` NIC, the seed ISO).  The
 * supervisor fills the host facts; the argv builder only reads the plan, so
 * for the same plan it always produces the same argv.
 *
 * Child fd numbering (vmr_plan_assign_fds): tap fds of all tap-like NICs
 * (macvtap, bridge, tap) in NIC order starting at 3, `queues` per NIC; then
 * one vhost-net fd per tap fd of each virtio-net NIC when vhost is on; then
 * the QMP listening socket; then the console listening socket.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/base/error.h"
#include "lib/base/strvec.h"
#include "lib/model/topology.h"

#define VMR_MAX_QUEUES 16

struct vmr_plan_nic {
	const struct vmr_nic *nic; /* points into the topology */
	char *ifname;		   /* host-side interface (macvtap/tap), or NULL */
	unsigned ntapfds;	   /* == nic->queues for tap-like NICs, else 0 */
	int tapfd[VMR_MAX_QUEUES]; /* child fd numbers */
	unsigned nvhostfds;
	int vhostfd[VMR_MAX_QUEUES];
	char *vfio_host; /* "0000:1a:00.1": pci device or chosen VF */
};

struct vmr_plan {
	const struct vmr_topology *topo;
	const struct vmr_guest *guest;
	char *qemu;	      /* QEMU binary */
	char *topo_dir;	      /* relative paths in the topology resolve here */
	enum vmr_accel accel; /* KVM or TCG, never AUTO */
	bool vhost;	      /* vhost-net fds passed for tap-like NICs */
	bool sandbox;	      /* pass QEMU's -sandbox (off for tests that need it) */
	int qmp_fd;	      /* child fd of the QMP listening socket */
	int console_fd;	      /* child fd of the console listening socket */
	int nfds;	      /* child fds 3 .. 3+nfds-1 are passed */
	char *seed_iso;	      /* cloud-init seed, attached as a CD-ROM, or NULL */
	char *root_disk;      /* overlay on guest->image (IMAGE_DIR/GUEST/root.qcow2), or NULL */
	struct vmr_plan_nic *nics; /* guest->nnics entries */
	size_t nnics;
};

/*
 * Initialise a plan for guest g of topology t with the resolved accelerator.
 * Allocates plan->nics, copies strings, sets sandbox=true, vhost=true and
 * assigns child fd numbers.  Pure: touches no host state.
 */
void vmr_plan_init(struct vmr_plan *p, const struct vmr_topology *t, const struct vmr_guest *g,
		   const char *qemu, const char *topo_dir, enum vmr_accel accel);

/* Re-number child fds after changing p->vhost (called by vmr_plan_init). */
void vmr_plan_assign_fds(struct vmr_plan *p);

/* Release what the plan owns (not the topology). */
void vmr_plan_free(struct vmr_plan *p);

/*
 * Build QEMU's argv (argv[0] = plan->qemu) into *ret.  Pure: no syscalls,
 * no environment, no clock.  Fails (usage status) only on a plan it cannot
 * express, e.g. a `vf:` NIC without a resolved vfio_host.
 */
int vmr_argv_build(const struct vmr_plan *p, struct vmr_strvec *ret, struct vmr_error **err);

/* Absolute form of a topology path (joined with plan->topo_dir); caller frees. */
char *vmr_plan_path(const struct vmr_plan *p, const char *path);

#endif
