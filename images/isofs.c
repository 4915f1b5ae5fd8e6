/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libisofs, loaded on first use (isofs.h). */
#include <pthread.h>
#include <stdio.h>

#include "images/isofs.h"
#include "lib/base/dlib.h"
#include "lib/base/util.h"

static struct images_isofs isofs;
static int load_errnum;
static char load_msg[512];

static void load_once(void)
{
#define IMAGES_ISOFS_SYM(f) {"iso_" #f, (void **)&isofs.f},
	static const struct vmr_dlib_sym syms[] = {IMAGES_ISOFS_SYMS(IMAGES_ISOFS_SYM)};
#undef IMAGES_ISOFS_SYM
	struct vmr_error *e = NULL;
	int r;

	if (vmr_dlib_load(IMAGES_ISOFS_SONAME, "the cloud-init seed (Debian package libisofs6)",
			  syms, ARRAY_SIZE(syms), &e) < 0) {
		load_errnum = e->errnum;
		snprintf(load_msg, sizeof(load_msg), "%s", e->msg);
		vmr_error_free(e);
		return;
	}
	/* bit0: the seed's names are ASCII, the locale must not matter */
	r = isofs.init_with_flag(1);
	if (r < 0) {
		load_errnum = EIO;
		snprintf(load_msg, sizeof(load_msg), "initialise libisofs: %s",
			 isofs.error_to_msg(r));
		return;
	}
	/* library code never prints: no message goes to stderr */
	isofs.set_msgs_severities("NEVER", "NEVER", "vmrun");
}

const struct images_isofs *images_isofs(struct vmr_error **err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_once);
	if (load_errnum) {
		vmr_error_set(err, load_errnum, "%s", load_msg);
		return NULL;
	}
	return &isofs;
}
