/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_ARGV_H
#define VMR_ARGV_H

/*
 * QEMU's command line as it is built: what the core of vmr_argv_build()
 * and each device's argv hook (lib/model/device.h) add to.  Values of
 * -device, -blockdev and -netdev are JSON objects, as libvirt builds them,
 * so paths with commas need no escaping and the same objects could be
 * sent with device_add, blockdev-add and netdev_add.  docs/qemu-argv.md
 * explains every argument.
 */

#include <jansson.h>
#include <stdbool.h>

#include "lib/base/error.h"
#include "lib/base/strvec.h"
#include "lib/plan/plan.h"

enum vmr_ide_kind { VMR_IDE_NONE, VMR_IDE_AHCI, VMR_IDE_PIIX };

#define VMR_Q35_AHCI_PORTS 6 /* ich9-ahci: buses ide.0 .. ide.5, one unit each */
#define VMR_PIIX_IDE_SLOTS 4 /* piix: ide.0 and ide.1, two units each */

struct vmr_argv {
	const struct vmr_plan *p;
	struct vmr_strvec *out;
	enum vmr_ide_kind ide;
	unsigned ide_next;  /* next free IDE slot */
	bool scsi_added;    /* the virtio-scsi controller is on the command line */
	unsigned scsi_next; /* next free scsi-id on it */
	bool boot_set;	    /* a device carries bootindex 1 */
	bool xhci_added;    /* the USB controller is on the command line */
};

/* The IDE controller of a machine type (the first comma-separated item of `machine`). */
enum vmr_ide_kind vmr_argv_machine_ide(const char *machine);
/* How many IDE devices a machine takes (0: none). */
unsigned vmr_argv_ide_slots(enum vmr_ide_kind ide);

/* Append opt and val. */
void vmr_argv_push(struct vmr_argv *b, const char *opt, const char *val);
/* Append opt and obj as compact JSON; obj is taken. */
void vmr_argv_push_json(struct vmr_argv *b, const char *opt, json_t *obj);

/* The cache of a disk, split over -blockdev's node and the device's write-cache. */
struct vmr_argv_cache {
	bool direct, no_flush, writeback;
};

/*
 * -blockdev nodes "ID-file" (the file) and "ID" (its format) for one image;
 * cache NULL: QEMU's default.
 */
void vmr_argv_blockdev(struct vmr_argv *b, const char *id, const char *path, const char *format,
		       bool readonly, const struct vmr_argv_cache *cache, enum vmr_disk_aio aio);

/* Put dev on the next IDE slot (bus, unit); fails when the machine has none left. */
int vmr_argv_ide_attach(struct vmr_argv *b, json_t *dev, const char *what, struct vmr_error **err);
/* Put dev on the virtio-scsi controller (added the first time). */
void vmr_argv_scsi_attach(struct vmr_argv *b, json_t *dev);
/* Put dev on the xHCI USB controller (added the first time). */
void vmr_argv_usb_attach(struct vmr_argv *b, json_t *dev);
/* bootindex 1 on the first bootable device, unless the guest boots -kernel. */
void vmr_argv_boot(struct vmr_argv *b, json_t *dev);

/*
 * A disk of the model: its -blockdev nodes ("diskN"), then the -device
 * object with driver, the bus placement fill() adds (may be NULL), drive,
 * serial "diskN" when serial is true, id, write-cache and boot order.
 */
int vmr_argv_disk(struct vmr_argv *b, const struct vmr_plan_dev *pd, const char *driver,
		  int (*fill)(struct vmr_argv *b, const struct vmr_plan_dev *pd, json_t *dev,
			      struct vmr_error **err),
		  bool serial, struct vmr_error **err);

/*
 * A read-only CD-ROM: ide-cd where the machine has IDE and scsi is false
 * (installer ISOs need no virtio driver), else scsi-cd.
 */
int vmr_argv_cdrom(struct vmr_argv *b, const char *id, const char *path, bool scsi,
		   const char *what, struct vmr_error **err);

/*
 * A NIC's guest device: model (default virtio-net-pci) with the NIC's MAC,
 * its netdev "net-NAME", multiqueue vectors for queues > 1 and host_mtu.
 */
void vmr_argv_nic_device(struct vmr_argv *b, const struct vmr_plan_dev *pd, const char *model,
			 unsigned queues);

/*
 * The guest's RAM from backend obj (an -object memory-backend-* with its
 * "id"; taken): -object, then -machine memory-backend=ID.
 */
void vmr_argv_memory_backend(struct vmr_argv *b, json_t *obj);

/* "3" or "3:4:5" for a netdev's fd list (caller frees). */
char *vmr_argv_fd_list(const int *fds, unsigned n);

#endif
