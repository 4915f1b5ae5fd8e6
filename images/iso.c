/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The seed ISO, built in-process with libisofs (loaded on first use). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "images/images.h"
#include "images/internal.h"
#include "images/isofs.h"
#include "lib/base/util.h"

/*
 * Every timestamp in the image is this fixed point, so the bytes depend only
 * on the seed's contents: an unchanged seed is recognised by comparing
 * bytes, and cloud-init goes by instance-id, not by dates.
 */
#define SEED_TIME ((time_t)946684800) /* 2000-01-01 00:00:00 UTC */
#define SEED_PVD_TIME "2000010100000000"
#define SEED_MAX_BYTES (64u << 20)

static int iso_fail(const struct images_isofs *L, struct vmr_error **err, int code,
		    const char *what)
{
	return vmr_error_set(err, EIO, "build the seed ISO: %s: %s", what, L->error_to_msg(code));
}

static void node_fix(const struct images_isofs *L, IsoNode *n, mode_t mode)
{
	L->node_set_permissions(n, mode);
	L->node_set_uid(n, 0);
	L->node_set_gid(n, 0);
	L->node_set_mtime(n, SEED_TIME);
	L->node_set_atime(n, SEED_TIME);
	L->node_set_ctime(n, SEED_TIME);
}

static int add_file(const struct images_isofs *L, IsoImage *image, const char *name,
		    const char *text, struct vmr_error **err)
{
	size_t n = strlen(text);
	/* the memory stream owns and frees its buffer */
	unsigned char *buf = xmalloc(n ? n : 1);
	IsoStream *stream = NULL;
	IsoFile *file = NULL;
	int r;

	memcpy(buf, text, n);
	r = L->memory_stream_new(buf, n, &stream);
	if (r < 0) {
		free(buf);
		return iso_fail(L, err, r, name);
	}
	/* on success the file takes over our reference to the stream */
	r = L->image_add_new_file(image, L->image_get_root(image), name, stream, &file);
	if (r < 0) {
		L->stream_unref(stream);
		return iso_fail(L, err, r, name);
	}
	node_fix(L, (IsoNode *)file, 0444);
	return 0;
}

int vmr_seed_iso_render(const struct vmr_seed *s, struct vmr_buf *out, struct vmr_error **err)
{
	const struct images_isofs *L = images_isofs(err);
	IsoImage *image = NULL;
	IsoWriteOpts *opts = NULL;
	struct burn_source *src = NULL;
	unsigned char block[2048];
	int r;

	if (!L)
		return vmr_error_wrap(err, "build the seed ISO");
	r = L->image_new(VMR_SEED_VOLUME_ID, &image);
	if (r < 0)
		return iso_fail(L, err, r, "new image");
	node_fix(L, (IsoNode *)L->image_get_root(image), 0555);
	if (add_file(L, image, "meta-data", s->meta_data, err) < 0 ||
	    add_file(L, image, "user-data", s->user_data, err) < 0 ||
	    add_file(L, image, "network-config", s->network_config, err) < 0)
		goto fail;

	/* Rock Ridge for Linux (names like "meta-data"), Joliet for the rest */
	r = L->write_opts_new(&opts, 0);
	if (r < 0) {
		iso_fail(L, err, r, "write options");
		goto fail;
	}
	L->write_opts_set_iso_level(opts, 2);
	L->write_opts_set_rockridge(opts, 1);
	L->write_opts_set_joliet(opts, 1);
	/* "cidata" as cloud-localds (genisoimage -V) writes it, not upper-cased */
	L->write_opts_set_relaxed_vol_atts(opts, 1);
	/* Joliet names exactly "meta-data", without the dot ECMA-119 forces */
	L->write_opts_set_no_force_dots(opts, 2);
	L->write_opts_set_always_gmt(opts, 1);
	L->write_opts_set_replace_timestamps(opts, 2);
	L->write_opts_set_default_timestamp(opts, SEED_TIME);
	L->write_opts_set_dir_rec_mtime(opts, 1);
	L->write_opts_set_pvd_times(opts, SEED_TIME, SEED_TIME, 0, 0, SEED_PVD_TIME);

	r = L->image_create_burn_source(image, opts, &src);
	if (r < 0) {
		iso_fail(L, err, r, "start writing");
		goto fail;
	}
	for (;;) {
		int n = src->read_xt(src, block, sizeof(block));

		if (n < 0) {
			vmr_error_set(err, EIO, "build the seed ISO: write failed");
			goto fail;
		}
		if (n == 0)
			break;
		vmr_buf_add(out, block, (size_t)n);
		if (out->len > SEED_MAX_BYTES) {
			vmr_error_set(err, EFBIG, "build the seed ISO");
			goto fail;
		}
	}
	src->free_data(src);
	free(src);
	L->write_opts_free(opts);
	L->image_unref(image);
	return 0;
fail:
	if (src) {
		/* stop the writer thread before freeing what it reads */
		if (src->cancel)
			src->cancel(src);
		src->free_data(src);
		free(src);
	}
	L->write_opts_free(opts);
	L->image_unref(image);
	return -1;
}

int vmr_seed_iso_write(const struct vmr_seed *s, const char *path, bool *ret_written,
		       struct vmr_error **err)
{
	struct vmr_buf iso = VMR_BUF_INIT;
	_cleanup_free_ char *old = NULL;
	size_t oldlen = 0;
	int r;

	if (ret_written)
		*ret_written = false;
	r = vmr_seed_iso_render(s, &iso, err);
	if (r < 0)
		return r;
	r = read_file(path, SEED_MAX_BYTES, &old, &oldlen);
	if (r == 0 && oldlen == iso.len && memcmp(old, iso.s, iso.len) == 0) {
		vmr_buf_free(&iso);
		return 0;
	}
	if (r < 0 && r != -ENOENT && r != -EFBIG) {
		vmr_buf_free(&iso);
		return vmr_error_set(err, -r, "read seed '%s'", path);
	}
	r = write_file_atomic(path, iso.s, iso.len, 0644);
	vmr_buf_free(&iso);
	if (r < 0)
		return vmr_error_set(err, -r, "write seed '%s'", path);
	if (ret_written)
		*ret_written = true;
	return 0;
}
