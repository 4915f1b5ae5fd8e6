/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What vmrun asks of qemu-img for a stopped guest's disks: internal
 * snapshots (create, apply, delete, list), growing an image, a new image
 * from a snapshot's state, the backing chain (images/images.h).
 */
#include <jansson.h>
#include <stdio.h>

#include "images/images.h"
#include "images/internal.h"
#include "lib/base/util.h"

int vmr_image_resize(const char *qemu_img, const char *path, const char *format, uint64_t size,
		     struct vmr_error **err)
{
	char sz[32];
	char *argv[] = {(char *)qemu_img, "resize", "-q", "-f", (char *)format, "--",
			(char *)path,	  sz,	    NULL};
	struct images_run r = {.argv = argv};

	snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size);
	if (images_run(&r, NULL, err) < 0)
		return vmr_error_wrap(err, "resize '%s' to %s bytes", path, sz);
	return 0;
}

int vmr_image_snapshot(const char *qemu_img, const char *path, enum vmr_image_snap_op op,
		       const char *name, struct vmr_error **err)
{
	static const char *const flags[] = {"-c", "-a", "-d"};
	static const char *const what[] = {"create snapshot", "revert to snapshot",
					   "delete snapshot"};
	char *argv[] = {(char *)qemu_img, "snapshot", "-q",	    (char *)flags[op],
			(char *)name,	  "--",	      (char *)path, NULL};
	struct images_run r = {.argv = argv};

	if (images_run(&r, NULL, err) < 0)
		return vmr_error_wrap(err, "%s '%s' of '%s'", what[op], name, path);
	return 0;
}

int vmr_image_snapshots(const char *qemu_img, const char *path, json_t **ret,
			struct vmr_error **err)
{
	char *argv[] = {(char *)qemu_img, "info", "--output=json", "-U", "--", (char *)path, NULL};
	struct vmr_buf out = VMR_BUF_INIT;
	struct images_run r = {.argv = argv, .out = &out};
	json_t *root, *snaps;
	int rc;

	rc = images_run(&r, NULL, err);
	if (rc < 0) {
		vmr_buf_free(&out);
		return vmr_error_wrap(err, "list the snapshots of '%s'", path);
	}
	root = json_loads(vmr_buf_str(&out), 0, NULL);
	vmr_buf_free(&out);
	if (!json_is_object(root)) {
		json_decref(root);
		return vmr_error_set(err, EPROTO, "'%s': unexpected qemu-img info output", path);
	}
	snaps = json_object_get(root, "snapshots");
	*ret = json_is_array(snaps) ? json_incref(snaps) : json_array();
	json_decref(root);
	return 0;
}

int vmr_image_from_snapshot(const char *qemu_img, const char *src, const char *snapshot,
			    const char *dst, const char *backing, const char *backing_format,
			    struct vmr_error **err)
{
	_cleanup_free_ char *tmp = NULL, *snap = xasprintf("snapshot.name=%s", snapshot);
	struct vmr_strvec argv = VMR_STRVEC_INIT;
	struct images_run r;
	int rc;

	if (images_tmp_create(dst, &tmp, err) < 0)
		return vmr_error_wrap(err, "create '%s'", dst);
	/*
	 * -U: the source may be in use by its running guest; the snapshot's
	 * clusters are not written while the snapshot exists.  -B: only what
	 * differs from the base is copied, so the new image is an overlay on
	 * the same base as the source.
	 */
	vmr_strvec_pushv(&argv, (const char *const[]){qemu_img, "convert", "-U", "-f", "qcow2",
						      "-l", snap, "-O", "qcow2", NULL});
	if (backing)
		vmr_strvec_pushv(
		    &argv, (const char *const[]){"-B", backing, "-F",
						 backing_format ? backing_format : "raw", NULL});
	vmr_strvec_pushv(&argv, (const char *const[]){"--", src, tmp, NULL});
	r = (struct images_run){.argv = argv.v};
	rc = images_run(&r, NULL, err);
	vmr_strvec_clear(&argv);
	if (rc >= 0)
		rc = images_tmp_commit(tmp, dst, true, err);
	if (rc < 0) {
		unlink(tmp);
		return vmr_error_wrap(err, "copy snapshot '%s' of '%s' to '%s'", snapshot, src,
				      dst);
	}
	return 0;
}

int vmr_image_chain(const char *qemu_img, const char *path, json_t **ret, struct vmr_error **err)
{
	char *argv[] = {(char *)qemu_img, "info", "--output=json", "--backing-chain", "-U", "--",
			(char *)path,	  NULL};
	struct vmr_buf out = VMR_BUF_INIT;
	struct images_run r = {.argv = argv, .out = &out};
	json_t *root;
	int rc;

	rc = images_run(&r, NULL, err);
	if (rc < 0) {
		vmr_buf_free(&out);
		return vmr_error_wrap(err, "probe the backing chain of '%s'", path);
	}
	root = json_loads(vmr_buf_str(&out), 0, NULL);
	vmr_buf_free(&out);
	if (!json_is_array(root)) {
		json_decref(root);
		return vmr_error_set(err, EPROTO, "'%s': unexpected qemu-img info output", path);
	}
	*ret = root;
	return 0;
}
