/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_IMAGES_ISOFS_H
#define VMR_IMAGES_ISOFS_H

/*
 * libisofs, loaded on first use (lib/base/dlib.h), not linked: only a
 * guest with a cloud-init seed needs it.  Internal to images/.
 */

#include <stdint.h> /* libisofs.h needs it first */
/* we read the image through libisofs' copy of libburn's struct burn_source */
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

#include "lib/base/error.h"

#define IMAGES_ISOFS_SONAME "libisofs.so.6"

/* the functions used, without their iso_ prefix */
#define IMAGES_ISOFS_SYMS(X)                                                                       \
	X(init_with_flag)                                                                          \
	X(set_msgs_severities)                                                                     \
	X(error_to_msg)                                                                            \
	X(node_set_permissions)                                                                    \
	X(node_set_uid)                                                                            \
	X(node_set_gid)                                                                            \
	X(node_set_mtime)                                                                          \
	X(node_set_atime)                                                                          \
	X(node_set_ctime)                                                                          \
	X(memory_stream_new)                                                                       \
	X(stream_unref)                                                                            \
	X(image_new)                                                                               \
	X(image_unref)                                                                             \
	X(image_get_root)                                                                          \
	X(image_add_new_file)                                                                      \
	X(image_create_burn_source)                                                                \
	X(write_opts_new)                                                                          \
	X(write_opts_free)                                                                         \
	X(write_opts_set_iso_level)                                                                \
	X(write_opts_set_rockridge)                                                                \
	X(write_opts_set_joliet)                                                                   \
	X(write_opts_set_relaxed_vol_atts)                                                         \
	X(write_opts_set_no_force_dots)                                                            \
	X(write_opts_set_always_gmt)                                                               \
	X(write_opts_set_replace_timestamps)                                                       \
	X(write_opts_set_default_timestamp)                                                        \
	X(write_opts_set_dir_rec_mtime)                                                            \
	X(write_opts_set_pvd_times)                                                                \
	X(md5_start)                                                                               \
	X(md5_compute)                                                                             \
	X(md5_end)

struct images_isofs {
#define IMAGES_ISOFS_FN(f) __typeof__(iso_##f) *f;
	IMAGES_ISOFS_SYMS(IMAGES_ISOFS_FN)
#undef IMAGES_ISOFS_FN
};

/*
 * libisofs loaded and initialised (ASCII names whatever the locale, no
 * message printed), the first call in a process loading it; NULL with err
 * set when it cannot be loaded or initialised.
 */
const struct images_isofs *images_isofs(struct vmr_error **err);

#endif
