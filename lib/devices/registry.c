/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one list of device kinds (lib/model/device.h).  A new kind is one
 * file in this folder, its line below, and its keys in docs/topology.md.
 * Within a class the order is the documentation's; the first disk bus
 * is the default.
 */
#include "lib/devices/devices.h"

extern const struct vmr_device_ops vmr_device_virtio_blk, vmr_device_scsi, vmr_device_nvme,
    vmr_device_ide, vmr_device_cdrom;
extern const struct vmr_device_ops vmr_device_macvtap, vmr_device_bridge, vmr_device_tap,
    vmr_device_user, vmr_device_pci, vmr_device_vf;
extern const struct vmr_device_ops vmr_device_rng, vmr_device_agent;
/* firmware, TPM, display and USB, watchdog (issue 12) */
extern const struct vmr_device_ops vmr_device_firmware, vmr_device_secure_boot, vmr_device_tpm,
    vmr_device_vnc, vmr_device_tablet, vmr_device_usb, vmr_device_watchdog;
/* issue 12, second half: memory, vhost-user, thread placement, host PCI devices */
extern const struct vmr_device_ops vmr_device_vhost_user, vmr_device_memory,
    vmr_device_emulator_cpus, vmr_device_iothreads, vmr_device_iothread_cpus, vmr_device_hostdevs;

static const struct vmr_device_ops *const kinds[] = {
    /* disks: buses (the first is the default), then keyed media */
    &vmr_device_virtio_blk,
    &vmr_device_scsi,
    &vmr_device_nvme,
    &vmr_device_ide,
    &vmr_device_cdrom,
    /* NIC attachments */
    &vmr_device_macvtap,
    &vmr_device_bridge,
    &vmr_device_tap,
    &vmr_device_user,
    &vmr_device_pci,
    &vmr_device_vf,
    &vmr_device_vhost_user,
    /* guest keys */
    &vmr_device_rng,
    /* firmware first: secure_boot's check looks at it */
    &vmr_device_firmware,
    &vmr_device_secure_boot,
    &vmr_device_tpm,
    &vmr_device_vnc,
    &vmr_device_tablet,
    &vmr_device_usb,
    &vmr_device_watchdog,
    /* guest keys: memory and thread placement, host PCI devices */
    &vmr_device_memory,
    &vmr_device_emulator_cpus,
    &vmr_device_iothreads,
    &vmr_device_iothread_cpus,
    &vmr_device_hostdevs,
    &vmr_device_agent,
    NULL,
};

const struct vmr_device_ops *const *vmr_device_kinds(void)
{
	return kinds;
}
