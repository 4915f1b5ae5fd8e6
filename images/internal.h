/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_IMAGES_INTERNAL_H
#define VMR_IMAGES_INTERNAL_H

/* Helpers shared by the files of images/ (not part of its interface). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/base/buf.h"
#include "lib/base/error.h"

/* A program run to completion without a shell, its output captured. */
struct images_run {
	char *const *argv;   /* argv[0]: absolute path */
	struct vmr_buf *out; /* stdout, or NULL to discard */
	/* or, instead of out: called with each chunk of stdout as it arrives */
	void (*on_output)(const char *chunk, size_t n, void *userdata);
	void *userdata;
	volatile int *cancel; /* non-zero: terminate the program; may be NULL */
};

/*
 * Run r->argv with stdin from /dev/null, an environment of LC_ALL=C only,
 * and PDEATHSIG set.  Returns 0 when it exits with status 0.  Otherwise
 * fails naming the program and quoting the last line of its stderr
 * ("qemu-img: Could not open 'x': No such file or directory"); *ret_status
 * (may be NULL) gets the exit status, or 128+signal.  Cancellation kills
 * the program and fails with ECANCELED.
 */
int images_run(const struct images_run *r, int *ret_status, struct vmr_error **err);

/* Join dir and a relative path (an absolute path is returned as is). */
char *images_path_join(const char *dir, const char *path);

/*
 * A unique temporary name next to path (".NAME.tmp-XXXXXX" in the same
 * directory), created empty with mode 0600 so no one else can take it.
 */
int images_tmp_create(const char *path, char **ret, struct vmr_error **err);

/*
 * Put the finished temporary file tmp in place at path: give it the mode a
 * new file gets (0666 less the umask; mkostemp made it 0600), then rename.
 * With noreplace, an existing path fails with EEXIST and is kept.
 */
int images_tmp_commit(const char *tmp, const char *path, bool noreplace, struct vmr_error **err);

/* An overlay checked against its base, and what bringing it in line takes. */
struct images_overlay {
	char *file;
	char *base;	   /* canonical path of the base */
	char *format;	   /* the base's format */
	uint64_t size;	   /* wanted; 0 = the base's */
	uint64_t cur_size; /* the existing overlay's, for GROW */
	enum { IMAGES_OVERLAY_CREATE, IMAGES_OVERLAY_KEEP, IMAGES_OVERLAY_GROW } action;
	/*
	 * An existing overlay records its base by a relative name: rewrite it
	 * as the absolute one (metadata only), since QEMU gets the overlay as
	 * /dev/fdset/N and would resolve a relative name against that.
	 */
	bool rebase;
};

/*
 * Check everything about an overlay without writing: the base exists and
 * has a supported format, size is not below the base's, an existing file is
 * an overlay on the same base and not larger.  Fails with usage status on
 * invalid input.
 */
int images_overlay_plan(const char *qemu_img, const char *file, const char *backing, uint64_t size,
			struct images_overlay *ret, struct vmr_error **err);
/*
 * The same for a blank image (a disk with `size:` and no `backing:`): an
 * existing file of that format is kept or grown; base is NULL.
 */
int images_blank_plan(const char *qemu_img, const char *file, const char *format, uint64_t size,
		      struct images_overlay *ret, struct vmr_error **err);
/* Create (temporary name, then rename without replacing) or grow the overlay. */
int images_overlay_apply(const char *qemu_img, const struct images_overlay *o,
			 struct vmr_error **err);
void images_overlay_free(struct images_overlay *o);

/* "20G", "512M" or plain bytes: the largest exact binary unit. */
int images_size_text(uint64_t n, char buf[static 32]);

#endif
