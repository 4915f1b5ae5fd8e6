/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_DEVICES_IDE_H
#define VMR_DEVICES_IDE_H

#include "lib/model/device.h"

/*
 * The rules of a disk that takes an IDE slot (what: "bus 'ide'", "a
 * cdrom"): the machine must have IDE, and room for it after the disks
 * before it.  Shared by ide.c and cdrom.c.
 */
void vmr_ide_check(const struct vmr_devcheck *c, const char *what);

#endif
