/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_DEVICE_H
#define VMR_DEVICE_H

/*
 * The device model (docs/architecture.md).  Every kind of guest device --
 * a disk bus or the cdrom, a NIC attachment (macvtap, bridge, ...), a
 * device a guest key adds (rng, ...) -- is one file in lib/devices/ that
 * fills one struct vmr_device_ops: its keys, its validation, what it
 * claims on the host, its part of the plan and of QEMU's command line, the
 * grants its container needs, its host setup (journaled, so it is undone)
 * and its host-level setup.  lib/devices/registry.c lists them; the
 * topology loader is given that list (vmr_device_kinds()) and knows no
 * kind by name.
 *
 * This header is the interface between the layers: the model keeps each
 * device's parsed keys as an opaque conf; the plan, the supervisor and
 * compose call the hooks.  The hooks' context types belong to the layers
 * that call them and are only declared here.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/base/error.h"
#include "lib/base/netaddr.h"
#include "lib/model/diag.h"
#include "lib/model/keys.h"

struct vmr_topology;
struct vmr_guest;
struct vmr_nic;
struct vmr_disk;
struct vmr_device;
struct vmr_plan;      /* lib/plan/plan.h */
struct vmr_plan_dev;  /* lib/plan/plan.h: a device's share of the plan */
struct vmr_argv;      /* lib/plan/argv.h: the command line being built */
struct vmr_grants;    /* lib/plan/plan.h: what the supervisor's process needs */
struct vmr_setup;     /* lib/devices/devices.h: one guest's host setup */
struct vmr_hostsetup; /* lib/devices/devices.h: `vmrun host up` */
struct vmr_config;    /* lib/model/config.h */
struct vmr_prestart;  /* lib/devices/devices.h: QMP before the guest runs */

enum vmr_device_class {
	VMR_DEVICE_GUEST, /* selected by a key of the guest: `rng: true` */
	VMR_DEVICE_NIC,	  /* a NIC's attachment, selected by its key: `macvtap: eth1` */
	VMR_DEVICE_DISK,  /* a disk's bus (`bus: nvme`, default virtio) or `cdrom: PATH` */
};

/* A host resource a device takes, checked for clashes across the topology. */
enum vmr_claim_type {
	VMR_CLAIM_PCI, /* a PCI device, whole: no one else on the host may use it */
	VMR_CLAIM_VF,  /* a VF of this PF: several may share the PF */
};

struct vmr_claim {
	enum vmr_claim_type type;
	struct vmr_pci_addr pci;
};

/* Where a device's own validation reports and what it may look at. */
struct vmr_devcheck {
	struct vmr_keyctx *kc;
	const struct vmr_guest *guest; /* the guest as loaded so far */
	const struct vmr_nic *nic;     /* a NIC's attachment: its NIC */
	const struct vmr_disk *disk;   /* a disk's bus: its disk */
	const struct vmr_ynode *map;   /* the mapping the device's keys were read from */
};

struct vmr_device_ops {
	const char *name; /* the selecting key, or the bus value */
	enum vmr_device_class cls;
	const char *summary; /* one line for `vmrun validate` and the docs */
	size_t conf_size;    /* its parsed keys (a struct of its own) */
	/*
	 * The selecting key's value: `macvtap: eth1`, `rng: true`,
	 * `user: {forward: [...]}`.  Disks have none (the bus is a value).
	 * NULL: the value must be `true` (a device with no settings there).
	 */
	bool (*parse)(struct vmr_keyctx *c, const struct vmr_ynode *n, void *conf);
	/*
	 * GUEST: `true` selects it with its defaults, `false` selects none,
	 * and a mapping sets its keys (`vnc: true`, `vnc: {port: 5901}`);
	 * parse, if any, then sees only mappings.
	 */
	bool toggle;
	/*
	 * DISK: selected by its own key, whose value is the disk's file
	 * (`cdrom: PATH`: removable read-only media); else a value of `bus`.
	 */
	bool keyed;
	bool ide; /* DISK: takes a slot of the machine's IDE controller */
	/* its other keys: siblings of the selecting key (a NIC's map, a disk's) */
	const struct vmr_key *keys;
	void (*init)(void *conf); /* defaults before parsing; NULL: zeroes */
	/* rules across keys, reported at their positions; NULL: none */
	void (*check)(const struct vmr_devcheck *c, const struct vmr_device *d);
	/*
	 * Rules that need the whole guest (its disks, NICs and devices all
	 * loaded): called once the guest is loaded, for each of its devices
	 * that has it; c->map is NULL.  NULL: none.
	 */
	void (*check_guest)(const struct vmr_devcheck *c, const struct vmr_device *d);
	/*
	 * GUEST: selected only when the key's value is a mapping; any other
	 * value is the guest's own key (`memory: 8G` vs `memory: {size: 8G,
	 * hugepages: 2M}`).
	 */
	bool map_only;
	/* the guest sees nothing of it (host placement): not in the instance-id */
	bool host_only;
	void (*free)(void *conf); /* what parse() allocated beyond keys; NULL: none */
	/* the selecting key's value as JSON (`vmrun validate --json`, tests); NULL: none */
	json_t *(*json)(const void *conf);

	/* host resources it takes; returns how many it wrote (at most max) */
	size_t (*claims)(const struct vmr_device *d, struct vmr_claim *out, size_t max);
	/* NIC: the guest sees the device's own MAC unless `mac` is given (passthrough) */
	bool mac_from_device;
	/* GUEST: a channel to a QEMU guest agent (`ready_when: agent` needs one) */
	bool guest_agent;
	/* its state cannot be saved or migrated (vfio): no snapshot, no clone */
	bool unmigratable;
	/*
	 * What it keeps in IMAGE_DIR/GUEST across runs (UEFI variables, TPM
	 * state), names NULL-terminated, a directory with a trailing '/':
	 * `vmrun rm` removes them.  NULL: nothing.
	 */
	const char *const *kept;
	/* NIC: the MAC of the host link it creates for the NIC (reclaimed by it), if any */
	bool (*link_mac)(const struct vmr_nic *nic, struct vmr_mac *ret);

	/*
	 * Plan (pure): the child fds it needs (pd's counts) and other facts of
	 * the plan; then its part of QEMU's command line; then what the
	 * process running it needs (capabilities, device nodes).
	 */
	void (*plan)(const struct vmr_plan *p, struct vmr_plan_dev *pd);
	int (*argv)(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		    struct vmr_error **err);
	void (*grants)(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
		       struct vmr_grants *g);

	/*
	 * Host setup before QEMU starts: every change journaled first (the
	 * journal's undo handlers undo it), fds stored for the child, facts
	 * learnt written into pd (the host interface, the VF chosen).
	 */
	int (*setup)(struct vmr_setup *s, struct vmr_plan_dev *pd, struct vmr_error **err);
	/* what `vmrun host up` must prepare on its host for this device (SR-IOV VFs) */
	void (*host_needs)(struct vmr_hostsetup *h, const struct vmr_device *d);

	/*
	 * Checks of this host that change nothing, made by `vmrun run` before
	 * any host change: free hugepages, a NUMA node, files and programs it
	 * needs, a host device it names.  A fault of the topology's (too few
	 * hugepages, a bad password_file) is a usage error (status 2) and
	 * nothing is created.  NULL: none.
	 */
	int (*preflight)(const struct vmr_config *cfg, const struct vmr_plan *p,
			 const struct vmr_plan_dev *pd, struct vmr_error **err);
	/*
	 * Once QEMU answers QMP and before the guest runs (`cont`): commands
	 * it must send, e.g. the VNC password, which must never be on QEMU's
	 * command line.  Returns 0, 1 when a stop came first, or negative.
	 */
	int (*prestart)(struct vmr_prestart *ps, const struct vmr_plan_dev *pd,
			struct vmr_error **err);
};

/* A device in the model: its kind, where it was selected, its keys. */
struct vmr_device {
	const struct vmr_device_ops *ops;
	struct vmr_pos pos; /* the selecting key's value (a disk's own position) */
	void *conf;	    /* ops->conf_size bytes */
};

/* Free d's conf (its keys, then ops->free); d may be unset. */
void vmr_device_free(struct vmr_device *d);

/*
 * d as JSON: {"kind": NAME, "value": the selecting key's value, KEY: ...};
 * hw_only: the kind and the keys the guest sees (the instance-id's part).
 */
json_t *vmr_device_json(const struct vmr_device *d, bool hw_only);

/* The conf of d as its kind's struct. */
#define VMR_DEVICE_CONF(d, type) ((const type *)(d)->conf)

#endif
