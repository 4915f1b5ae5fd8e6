/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_MEDIA_H
#define VMR_MEDIA_H

/*
 * Removable media of a running guest (`vmrun media`, docs/verbs.md):
 * through its supervisor's control socket (lib/runtime/control.h), with
 * QMP's query-block, blockdev-change-medium and eject.  Devices are named
 * by their QEMU id, as `vmrun args` and query-block show them: a
 * `{cdrom: PATH}` disk is "diskN", N its place in `disks:` from 0.  The
 * cloud-init seed is vmrun's and is never changed here.  A change lasts
 * until QEMU exits: the next start takes the topology's file again.
 */

#include <jansson.h>

#include "lib/base/error.h"

/*
 * The guest's removable devices as a new JSON array of {"device": ID,
 * "file": PATH or null (empty), "tray_open": BOOL, "locked": BOOL}, the
 * seed left out.
 */
int vmr_guest_media_list(const char *state_dir, const char *guest, json_t **ret,
			 struct vmr_error **err);

/*
 * Put the file at path (absolute, read-only raw media) into device, or
 * with path NULL eject its medium, even while the guest holds the tray
 * locked.  The nodes QEMU started the device with ("ID", "ID-file") are
 * deleted once nothing uses them.  An unknown or non-removable device,
 * or the seed, fails with usage status.
 */
int vmr_guest_media_change(const char *state_dir, const char *guest, const char *device,
			   const char *path, struct vmr_error **err);

#endif
