/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_PLAN_H
#define VMR_PLAN_H

/*
 * The plan: one guest of the validated model plus the host facts its QEMU
 * command line depends on (the accelerator, whether vhost-net opens), the
 * files vmrun makes for it (the seed, the root overlay), each device's
 * share (child fd numbers, host interface, PCI address) and QEMU's
 * environment.  One builder, vmr_plan_build(), serves `vmrun args`,
 * `vmrun run`, compose and kube; the argv builder (lib/plan/argv.h) only
 * reads the plan, so for the same plan it always gives the same argv, and
 * `vmrun args` prints exactly what `run` executes.
 *
 * Child fd numbering: the fds of every device's first phase (tap fds, in
 * device order, `queues` per NIC) from 3, then those of the next phases
 * (vhost-net fds, then other device nodes and sockets such as the guest
 * agent's), then the QMP
 * listening socket, then the console's, then the files vmrun makes for
 * the guest (its overlays, blank disks, seed, UEFI variables), which QEMU
 * gets as fds in fd sets (`-add-fd`, `/dev/fdset/N`) instead of opening
 * them by name: it needs no access to the state or image directories.
 */

#include <stdbool.h>
#include <stddef.h>

#include <stdint.h>

#include "lib/base/cpuset.h"
#include "lib/base/error.h"
#include "lib/base/strvec.h"
#include "lib/model/config.h"
#include "lib/model/device.h"
#include "lib/model/topology.h"

#define VMR_MAX_QUEUES 16

/* The order in which devices' child fds are numbered. */
enum vmr_fd_phase {
	VMR_FD_TAP,    /* tap and macvtap queues */
	VMR_FD_VHOST,  /* a vhost-net fd per tap queue */
	VMR_FD_DEV,    /* other nodes and sockets vmrun opens for QEMU: USB devices, swtpm's */
	VMR_FD_SOCKET, /* listening sockets the supervisor talks to (the guest agent) */
	VMR_FD_PHASES,
};

/* The host facts a plan depends on. */
struct vmr_facts {
	enum vmr_accel accel; /* KVM or TCG, never AUTO */
	bool vhost;	      /* DEV/vhost-net opens: tap-like NICs get vhost-net fds */
};

/* What the process running the guest needs; compose and the preflight read it. */
struct vmr_grants {
	bool kvm;	/* /dev/kvm */
	bool tun;	/* /dev/net/tun: taps */
	bool vhost;	/* /dev/vhost-net */
	bool tap_nodes; /* macvtap: its tap device node, made from sysfs (MKNOD) */
	bool net_admin; /* CAP_NET_ADMIN: links, VF settings */
	bool vfio;	/* /dev/vfio, locked memory, writable PCI sysfs */
	/* guest devices: firmware, tpm, vnc, usb */
	bool guest_dir; /* writes IMAGE_DIR/GUEST: UEFI variables, TPM state */
	bool usb;	/* host USB device nodes: DEV/bus/usb (character major 189) */
	/* guest RAM in hugepages of each size (bytes): kube's hugepages-2Mi/-1Gi limits */
	uint64_t hugepages_2m, hugepages_1g;
	bool numa; /* mbind (a host NUMA node): Docker's seccomp wants CAP_SYS_NICE for it */
	/* paths as written in the topology (relative: to its directory) */
	struct vmr_strvec dirs;	 /* directories shared read-write (vhost-user sockets) */
	struct vmr_strvec files; /* files read (a PCI device's ROM, a VNC password_file) */
};

/*
 * A file vmrun makes for the guest and passes as an fd: fd set N holds
 * child fd N, opened by the supervisor with the access mode QEMU asks of
 * the set (QEMU 7.2 matches O_ACCMODE exactly: O_RDWR for a writable
 * node, O_RDONLY for a read-only one).
 */
struct vmr_plan_file {
	char *path;   /* absolute */
	char *opaque; /* the fd set's label: "root", "disk1", "seed", "fw-vars" */
	bool writable;
	int fd; /* child fd number, also the fd set's id */
};

/* A device's share of the plan. */
struct vmr_plan_dev {
	const struct vmr_device *dev;
	const struct vmr_nic *nic;   /* a NIC's attachment: its NIC */
	const struct vmr_disk *disk; /* a disk's bus: its disk */
	size_t index;		     /* the disk's or NIC's index in the guest */
	unsigned nfds[VMR_FD_PHASES];
	int fds[VMR_FD_PHASES][VMR_MAX_QUEUES]; /* child fd numbers */
	char *ifname;				/* the host interface it attaches to, when known */
	char *hostdev; /* the PCI address QEMU gets (a VF: chosen at setup) */
	/* guest placement and memory a device asks for (vmr_plan_build() gathers them) */
	bool shared_memory; /* guest RAM shared with another process (vhost-user) */
	unsigned iothreads; /* iothread objects io0.. it adds */
	const struct vmr_cpuset *emulator_cpus; /* QEMU's non-vCPU threads */
	const struct vmr_cpuset *iothread_cpus; /* the iothreads' */
	bool memory_backend;			/* it writes the guest's RAM backend itself */
	/*
	 * A file vmrun makes for it that QEMU gets as an fd (a disk's overlay
	 * or blank image, the UEFI variables), with its fd set's label and
	 * access; NULL: none.  The plan hook or the builder sets it.
	 */
	char *fd_file;
	char *fd_file_label;
	bool fd_file_writable;
	/* a file QEMU opens by name, read-only (OVMF's code): checked for QEMU's user */
	char *reads;
};

struct vmr_plan {
	const struct vmr_topology *topo;
	const struct vmr_guest *guest;
	struct vmr_facts facts;
	char *qemu;	       /* QEMU binary */
	char *topo_dir;	       /* relative paths in the topology resolve here */
	char *state_dir;       /* the guest's: STATE/GUEST */
	bool sandbox;	       /* pass QEMU's -sandbox */
	struct vmr_strvec env; /* QEMU's whole environment */
	char *seed_iso;	       /* STATE/GUEST/seed.iso when the guest has a seed, else NULL */
	char *root_disk;       /* IMAGE_DIR/GUEST/root.qcow2 for `image:`, else NULL */
	char *guest_dir;       /* IMAGE_DIR/GUEST: what the guest keeps across runs */
	char *firmware_dir;    /* OVMF's files (`firmware: uefi`) */
	struct vmr_plan_dev
	    *devs; /* the disks' buses, the NICs' attachments, the guest's devices */
	size_t ndevs;
	int qmp_fd;		     /* child fd of the QMP listening socket */
	int console_fd;		     /* child fd of the console listening socket */
	struct vmr_plan_file *files; /* passed as fds, after the console's */
	size_t nfiles;
	int nfds; /* child fds 3 .. 3+nfds-1 are passed */
	struct vmr_grants grants;
	/*
	 * What devices asked of the whole guest: shared RAM (a memfd backend
	 * with share=on unless a device writes the backend), iothreads, where
	 * QEMU's other threads run (lib/runtime/pin.c).
	 */
	bool shared_memory;
	bool memory_backend; /* a device (memory: {...}) writes -object memory-backend-* */
	unsigned iothreads;
	const struct vmr_cpuset *emulator_cpus, *iothread_cpus; /* NULL: not placed */
};

struct vmr_plan_opts {
	const struct vmr_config *cfg; /* qemu, state_dir, image_dir */
	const char *topo_dir;	      /* canonical directory of the topology file */
	struct vmr_facts facts;
	bool no_sandbox; /* leave out QEMU's -sandbox (`vmrun args --no-sandbox`) */
};

/*
 * Build the plan of guest g of topology t (pure: no host access; t may be
 * NULL, compose plans a guest on its own).  The facts must be resolved
 * (vmr_facts_probe(), or chosen).  Free with vmr_plan_free().
 */
int vmr_plan_build(const struct vmr_topology *t, const struct vmr_guest *g,
		   const struct vmr_plan_opts *o, struct vmr_plan *ret, struct vmr_error **err);

/* Release what the plan owns (not the topology); a zeroed plan is fine. */
void vmr_plan_free(struct vmr_plan *p);

/* The plan's share of the NIC named name, or NULL. */
struct vmr_plan_dev *vmr_plan_nic(const struct vmr_plan *p, const char *name);

/* The file at path that the plan passes as an fd, or NULL (QEMU opens path by name). */
const struct vmr_plan_file *vmr_plan_file_find(const struct vmr_plan *p, const char *path);

/* Absolute form of a topology path (joined with plan->topo_dir); caller frees. */
char *vmr_plan_path(const struct vmr_plan *p, const char *path);

/* IMAGE_DIR/GUEST/root.qcow2 for a guest with `image:`, else NULL; caller frees. */
char *vmr_plan_root_disk(const struct vmr_config *cfg, const struct vmr_guest *g);
/* IMAGE_DIR/GUEST: what the guest keeps across runs (caller frees). */
char *vmr_plan_guest_dir(const struct vmr_config *cfg, const struct vmr_guest *g);
#define VMR_PLAN_SEED_FILE "seed.iso" /* in the guest's state directory */
#define VMR_PLAN_ROOT_FILE "root.qcow2"

/*
 * Resolve the facts on this host for guest g: its accelerator (accel, or
 * when that is AUTO the guest's and then the configuration's; `auto`:
 * KVM when vmrun's probe says it runs guests, else TCG with *ret_warning
 * set) and whether vhost-net opens.  Fails when the guest asks for KVM
 * and KVM is not usable (a forced accel is taken as it is).
 */
int vmr_facts_probe(const struct vmr_config *cfg, const struct vmr_guest *g, enum vmr_accel accel,
		    struct vmr_facts *ret, char **ret_warning, struct vmr_error **err);

/*
 * Build QEMU's argv (argv[0] = plan->qemu) into *ret.  Pure: no syscalls,
 * no environment, no clock.  Fails (usage status) only on a plan missing
 * a host fact, e.g. a `vf:` NIC whose VF is not chosen yet.
 */
int vmr_argv_build(const struct vmr_plan *p, struct vmr_strvec *ret, struct vmr_error **err);

#endif
