/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `vmrun image import`: qemu-img convert, verified with qemu-img compare. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "images/images.h"
#include "images/internal.h"
#include "lib/base/util.h"

/* Source formats accepted: what TrueNAS and the usual hypervisors export. */
static const char *const src_formats[] = {"qcow2", "raw", "vmdk", "vdi", "vpc", "qed"};

struct progress {
	const struct vmr_import_opts *o;
	char line[64];
	size_t len;
};

/* qemu-img -p writes "    (12.34/100%)" followed by '\r', over and over. */
static void progress_chunk(const char *chunk, size_t n, void *userdata)
{
	struct progress *p = userdata;

	for (size_t i = 0; i < n; i++) {
		char c = chunk[i];

		if (c != '\r' && c != '\n') {
			if (p->len + 1 < sizeof(p->line))
				p->line[p->len++] = c;
			continue;
		}
		p->line[p->len] = '\0';
		p->len = 0;
		const char *open = strchr(p->line, '(');
		char *end;
		double pct = open ? strtod(open + 1, &end) : -1;
		if (open && end != open + 1 && startswith(end, "/100%)") && pct >= 0 &&
		    pct <= 100 && p->o->progress)
			p->o->progress(pct, p->o->userdata);
	}
}

static int fsync_path(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

int vmr_image_import(const struct vmr_import_opts *o, struct vmr_error **err)
{
	const char *outfmt = o->format == VMR_IMPORT_RAW ? "raw" : "qcow2";
	struct vmr_image_info info = {0};
	struct stat sst, dst;
	bool fmt_ok = false;
	int r, status = 0;

	if (stat(o->src, &sst) < 0)
		return errno == ENOENT
			   ? vmr_error_usage(err, "source '%s': %s", o->src, strerror(ENOENT))
			   : vmr_error_set(err, errno, "source '%s'", o->src);
	if (!S_ISREG(sst.st_mode) && !S_ISBLK(sst.st_mode))
		return vmr_error_usage(err, "source '%s' is not a file", o->src);
	if (stat(o->dest, &dst) == 0) {
		if (dst.st_dev == sst.st_dev && dst.st_ino == sst.st_ino)
			return vmr_error_usage(err, "destination '%s' is the source", o->dest);
		if (!o->force) {
			r = vmr_error_usage(err, "destination '%s' exists", o->dest);
			vmr_error_hint(err, "use --force to replace it");
			return r;
		}
		if (!S_ISREG(dst.st_mode))
			return vmr_error_usage(err, "destination '%s' is not a regular file",
					       o->dest);
	} else if (errno != ENOENT) {
		return vmr_error_set(err, errno, "destination '%s'", o->dest);
	}

	if (vmr_image_info_get(o->qemu_img, o->src, &info, err) < 0)
		return vmr_error_wrap(err, "source '%s'", o->src);
	for (size_t i = 0; i < ARRAY_SIZE(src_formats); i++)
		fmt_ok |= streq(info.format, src_formats[i]);
	if (!fmt_ok) {
		r = vmr_error_usage(err, "source '%s': unsupported format '%s'", o->src,
				    info.format);
		vmr_error_hint(err, "supported: qcow2, raw, vmdk, vdi, vpc (vhd), qed");
		vmr_image_info_free(&info);
		return r;
	}
	if (info.backing) {
		/* converting flattens the chain; say so rather than surprise */
		r = vmr_error_usage(err,
				    "source '%s' is an overlay on '%s': import its base, or "
				    "flatten it first",
				    o->src, info.backing);
		vmr_image_info_free(&info);
		return r;
	}
	_cleanup_free_ char *srcfmt = TAKE_PTR(info.format);
	vmr_image_info_free(&info);

	_cleanup_free_ char *tmp = NULL;
	if (images_tmp_create(o->dest, &tmp, err) < 0)
		return vmr_error_wrap(err, "import '%s'", o->src);

	struct progress prog = {.o = o};
	char *conv[] = {(char *)o->qemu_img, "convert", "-p",		"-f", srcfmt, "-O",
			(char *)outfmt,	     "--",	(char *)o->src, tmp,  NULL};
	struct images_run run = {
	    .argv = conv, .on_output = progress_chunk, .userdata = &prog, .cancel = o->cancel};
	r = images_run(&run, NULL, err);
	if (r < 0) {
		vmr_error_wrap(err, "convert '%s' (%s) to '%s' (%s)", o->src, srcfmt, o->dest,
			       outfmt);
		goto fail;
	}

	/* exit 0: identical, 1: different, 2: error (qemu-img(1)) */
	char *cmp[] = {(char *)o->qemu_img, "compare", "-q",	       "-f", srcfmt, "-F",
		       (char *)outfmt,	    "--",      (char *)o->src, tmp,  NULL};
	struct images_run crun = {.argv = cmp, .cancel = o->cancel};
	r = images_run(&crun, &status, err);
	if (r < 0 && status == 1) {
		vmr_error_clear(err);
		r = vmr_error_set(err, EIO, "verify '%s': its contents differ from '%s'", o->dest,
				  o->src);
		goto fail;
	}
	if (r < 0) {
		vmr_error_wrap(err, "verify '%s'", o->dest);
		goto fail;
	}
	r = fsync_path(tmp);
	if (r < 0) {
		vmr_error_set(err, -r, "import '%s': fsync '%s'", o->src, tmp);
		goto fail;
	}
	r = images_tmp_commit(tmp, o->dest, !o->force, err);
	if (r < 0)
		goto fail;
	return 0;
fail:
	unlink(tmp);
	return -1;
}
