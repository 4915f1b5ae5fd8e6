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
extern const struct vmr_device_ops vmr_device_rng;
/* firmware, TPM, display and USB, watchdog (issue 12) */
extern const struct vmr_device_ops vmr_device_firmware, vmr_device_secure_boot, vmr_device_tpm,
    vmr_device_vnc, vmr_device_tablet, vmr_device_usb, vmr_device_watchdog;

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
    NULL,
};

const struct vmr_device_ops *const *vmr_device_kinds(void)
{
	return kinds;
}
