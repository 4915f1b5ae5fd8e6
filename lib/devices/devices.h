/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_DEVICES_H
#define VMR_DEVICES_H

/*
 * The device kinds (lib/model/device.h): one file each in this folder,
 * listed in registry.c.  This header has the list and the contexts the
 * runtime gives the host hooks.
 */

#include <sys/types.h>

#include "lib/base/caps.h"
#include "lib/base/error.h"
#include "lib/base/journal.h"
#include "lib/model/config.h"
#include "lib/model/device.h"
#include "lib/model/topology.h"
#include "lib/plan/plan.h"
#include "net/net.h"

/* Every device kind, NULL-terminated, in the order the docs list them. */
const struct vmr_device_ops *const *vmr_device_kinds(void);

/*
 * A process a device starts for the guest and the supervisor watches with
 * QEMU (swtpm): its death stops the guest; it is stopped after QEMU.
 */
struct vmr_helper {
	char *name; /* "swtpm" */
	pid_t pid;
	bool exited;
	int wstatus;
};

/*
 * A listening socket a device leaves to the supervisor (vnc.sock): it
 * accepts each client and hands the connection to QEMU over QMP (`getfd`
 * with the fd, then `add_client` with protocol), so QEMU needs no path
 * into the state directory and the socket stays the supervisor's (0600).
 */
struct vmr_relay {
	char *protocol; /* add_client's: "vnc" */
	char *path;	/* the socket, for messages */
	int fd;		/* listening, non-blocking, close-on-exec */
};

/* The helpers of one guest (the supervisor's), and its relays. */
struct vmr_helpers {
	struct vmr_helper *v;
	size_t n;
	struct vmr_relay *relays;
	size_t nrelays;
};

/* One guest's host setup, given to each device's setup hook. */
struct vmr_setup {
	const struct vmr_config *cfg;
	const struct vmr_plan *plan;
	struct vmr_net *net;	     /* links, taps, vfio: each change journaled */
	int *fds;		     /* child fd N is fds[N - 3]; -1: not opened yet */
	const char *const *together; /* PCI devices the guest passes through whole */
	struct vmr_journal *journal; /* other host changes (a socket in the state directory) */
	/*
	 * QEMU's privilege drop (lib/base/caps.h), which helpers get too;
	 * NULL: QEMU keeps vmrun's uid.  Files QEMU or a helper writes belong
	 * to the uid and gid it changes to.
	 */
	const struct vmr_caps_drop *caps;
	struct vmr_helpers *helpers; /* where started helpers are recorded */
};

/* Record helper pid (started by a setup hook) in s->helpers. */
void vmr_setup_helper(struct vmr_setup *s, const char *name, pid_t pid);

/*
 * Leave the listening socket fd (taken) at path to the supervisor, which
 * hands its clients to QEMU with add_client protocol.  Fails (closing fd)
 * without a supervisor (s->helpers NULL).
 */
int vmr_setup_relay(struct vmr_setup *s, const char *protocol, const char *path, int fd,
		    struct vmr_error **err);

/* Close and free the relays of h. */
void vmr_helpers_relays_free(struct vmr_helpers *h);

/*
 * Give path to QEMU's user (a file QEMU or a helper writes): chown to the
 * uid and gid of s->caps when it changes ids; nothing otherwise.
 */
int vmr_setup_own(const struct vmr_setup *s, const char *path, struct vmr_error **err);

/*
 * Journal removing path (a socket made in the state directory) when the
 * guest's changes are undone; before making it.
 */
int vmr_setup_journal_file(struct vmr_setup *s, const char *path, struct vmr_error **err);

/* Register the journal's undo handler for vmr_setup_journal_file(). */
void vmr_devices_register_undo(void);

/* The prestart hooks' context: one QMP command at a time, waited for. */
struct vmr_prestart {
	const struct vmr_config *cfg;
	const struct vmr_plan *plan;
	/*
	 * Run cmd with args (borrowed, may be NULL); *ret (may be NULL) gets a
	 * new reference to its return.  Returns 0, 1 when a stop came first
	 * or QEMU exited, negative with *err.
	 */
	int (*call)(void *userdata, const char *cmd, json_t *args, json_t **ret,
		    struct vmr_error **err);
	void *userdata;
};

/* Hand fd (taken) to the child as pd's fd of phase ph, queue q. */
void vmr_setup_give(struct vmr_setup *s, const struct vmr_plan_dev *pd, enum vmr_fd_phase ph,
		    unsigned q, int fd);

/* `vmrun host up`: what the devices of the guests on the host need from it. */
struct vmr_hostsetup {
	const struct vmr_topology *topo;
	const struct vmr_guest *guest; /* whose device host_needs() is asked about */
	struct vmr_net_vf_want *vfs;
	size_t nvfs, alloc;
};

/* Ask every device of the guests placed on host (NULL: the primary) what it needs. */
void vmr_hostsetup_collect(struct vmr_hostsetup *h, const struct vmr_topology *t, const char *host);
void vmr_hostsetup_free(struct vmr_hostsetup *h);

/*
 * The links the guest's NICs own on the host (for vmr_net_reclaim()): the
 * name, owner mark and MAC of each link a NIC's kind creates.  *ret is a
 * new array of *ret_n entries; free with vmr_devices_owned_free().
 */
void vmr_devices_owned(const struct vmr_guest *g, struct vmr_net_owned **ret, size_t *ret_n);
void vmr_devices_owned_free(struct vmr_net_owned *v, size_t n);

/* The guest's `iothreads: N` (0 without it), for its disks' `iothread: K` (threads.c). */
unsigned vmr_device_iothreads_count(const struct vmr_guest *g);

/*
 * Free hugepages of page_bytes on this host (node < 0) or on NUMA node
 * node, read under sysfs_root (NULL: /sys): free_hugepages less those
 * reserved for mappings (lib/devices/memory.c).
 */
int vmr_memory_free_hugepages(const char *sysfs_root, uint64_t page_bytes, int node,
			      unsigned long long *ret, struct vmr_error **err);

#endif
