/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A guest's disk grown online (block_resize) or offline (qemu-img) (diskgrow.h). */
#include <stdio.h>

#include "images/images.h"
#include "lib/base/buf.h"
#include "lib/base/util.h"
#include "lib/runtime/control.h"
#include "lib/runtime/diskgrow.h"
#include "lib/runtime/guestinfo.h"

static int qmp_call(const char *state_dir, const char *guest, const char *cmd, json_t *args,
		    json_t **ret, struct vmr_error **err)
{
	int r = vmr_control_qmp(state_dir, guest, cmd, args, 65000, ret, NULL, err);

	if (r < 0)
		vmr_error_wrap(err, "qmp '%s'", cmd);
	return r;
}

/* The virtual size QEMU's node of id has now. */
static int online_size(const char *state_dir, const char *guest, const char *id, uint64_t *ret,
		       struct vmr_error **err)
{
	json_t *nodes = NULL, *n;
	size_t k;
	int r;

	r = qmp_call(state_dir, guest, "query-named-block-nodes", NULL, &nodes, err);
	if (r < 0)
		return r;
	r = vmr_error_set(err, ENOENT, "guest '%s': QEMU has no block node '%s'", guest, id);
	json_array_foreach(nodes, k, n)
	{
		json_t *vs = json_object_get(json_object_get(n, "image"), "virtual-size");

		if (streq(json_string_value(json_object_get(n, "node-name")), id) &&
		    json_is_integer(vs)) {
			vmr_error_clear(err);
			*ret = (uint64_t)json_integer_value(vs);
			r = 0;
			break;
		}
	}
	json_decref(nodes);
	return r;
}

static void disk_names(const struct vmr_guest_info *i, struct vmr_error **err)
{
	struct vmr_buf b = VMR_BUF_INIT;
	size_t k;
	json_t *d;

	json_array_foreach(i->disks, k, d) vmr_buf_addf(
	    &b, "%s%s", b.len ? ", " : "", json_string_value(json_object_get(d, "id")));
	if (b.len)
		vmr_error_hint(err, "disks: %s", vmr_buf_str(&b));
	else if (!i->have_record)
		vmr_error_hint(err, "it never ran here: give --topology FILE");
	vmr_buf_free(&b);
}

int vmr_disk_grow(const struct vmr_config *cfg, const char *guest, const char *disk, uint64_t size,
		  const char *topo_path, struct vmr_disk_grow_result *ret, struct vmr_error **err)
{
	struct vmr_guest_info i = {.lock = {.lock_fd = -1}};
	_cleanup_free_ char *qemu_img = NULL;
	const char *id, *file, *format;
	json_t *d;
	int r;

	r = vmr_guest_info_get(cfg, guest, topo_path, true, &i, err);
	if (r < 0)
		return r;
	d = vmr_guest_info_disk(&i, disk);
	if (!d) {
		r = vmr_error_usage(err, "guest '%s' has no disk '%s'", guest, disk);
		disk_names(&i, err);
		goto out;
	}
	id = json_string_value(json_object_get(d, "id"));
	file = json_string_value(json_object_get(d, "file"));
	format = json_string_value(json_object_get(d, "format"));
	if (json_is_true(json_object_get(d, "cdrom")) ||
	    json_is_true(json_object_get(d, "readonly"))) {
		r = vmr_error_usage(err, "guest '%s': disk %s ('%s') is read-only: it cannot grow",
				    guest, id, file);
		goto out;
	}
	*ret = (struct vmr_disk_grow_result){
	    .online = i.running,
	    .new_size = size,
	    .topology_size = (uint64_t)json_integer_value(json_object_get(d, "size")),
	};
	snprintf(ret->file, sizeof(ret->file), "%s", file);
	if (i.running) {
		r = online_size(cfg->state_dir, guest, id, &ret->old_size, err);
	} else {
		struct vmr_image_info info = {0};

		r = vmr_image_qemu_img(cfg, &qemu_img, err);
		if (r >= 0)
			r = vmr_image_info_get(qemu_img, file, &info, err);
		ret->old_size = info.virtual_size;
		vmr_image_info_free(&info);
	}
	if (r < 0)
		goto out;
	if (size <= ret->old_size) {
		char have[32], want[32];

		snprintf(have, sizeof(have), "%llu", (unsigned long long)ret->old_size);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)size);
		r = vmr_error_usage(err,
				    "guest '%s': disk %s is %s bytes already: %s would not grow it "
				    "(disks never shrink: that loses data)",
				    guest, id, have, want);
		goto out;
	}
	if (i.running) {
		json_t *args = json_pack("{s:s, s:I}", "node-name", id, "size", (json_int_t)size);

		r = qmp_call(cfg->state_dir, guest, "block_resize", args, NULL, err);
		json_decref(args);
	} else {
		r = vmr_image_resize(qemu_img, file, format, size, err);
	}
	if (r < 0)
		vmr_error_wrap(err, "guest '%s': grow disk %s", guest, id);
out:
	vmr_guest_info_free(&i);
	return r < 0 ? r : 0;
}
