/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_FSUTIL_H
#define VMR_FSUTIL_H

/* Small file-system helpers shared by the modules. */

#include <sys/types.h>

/*
 * mkdir -p: make path and its missing parents.  The parents get 0755, path
 * itself mode (both less the umask); an existing path keeps its mode.  An
 * existing directory is fine, anything else there fails with -ENOTDIR.
 * Returns 0 or -errno.
 */
int vmr_mkdir_p(const char *path, mode_t mode);

#endif
