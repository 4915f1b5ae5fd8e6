/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Removable media of a running guest (lib/runtime/media.h). */
#include <stdio.h>

#include "lib/base/buf.h"
#include "lib/base/util.h"
#include "lib/runtime/control.h"
#include "lib/runtime/media.h"

/* the supervisor gives QEMU 60 s per command; wait a little longer */
#define MEDIA_TIMEOUT_MS 65000
#define SEED_ID "seed" /* lib/plan/argv.c's id of the cloud-init seed */

static int media_qmp(const char *state_dir, const char *guest, const char *cmd, json_t *args,
		     json_t **ret, struct vmr_error **err)
{
	json_t *req = json_pack("{s:{s:s}}", "qmp", "execute", cmd);
	_cleanup_free_ char *cls = NULL;
	int r;

	if (args)
		json_object_set(json_object_get(req, "qmp"), "arguments", args);
	r = vmr_control_call(state_dir, guest, req, MEDIA_TIMEOUT_MS, ret, &cls, err);
	json_decref(req);
	return r;
}

static json_t *media_entry(const json_t *b)
{
	const json_t *ins = json_object_get(b, "inserted");
	const char *file = json_string_value(json_object_get(ins, "file"));

	return json_pack("{s:s, s:o, s:b, s:b}", "device",
			 json_string_value(json_object_get(b, "qdev")), "file",
			 file ? json_string(file) : json_null(), "tray_open",
			 json_is_true(json_object_get(b, "tray_open")), "locked",
			 json_is_true(json_object_get(b, "locked")));
}

/* query-block's removable devices, the seed included. */
static int media_blocks(const char *state_dir, const char *guest, json_t **ret,
			struct vmr_error **err)
{
	json_t *blocks = NULL, *out, *b;
	size_t i;
	int r;

	r = media_qmp(state_dir, guest, "query-block", NULL, &blocks, err);
	if (r < 0)
		return r;
	out = json_array();
	json_array_foreach(blocks, i, b)
	{
		if (json_is_true(json_object_get(b, "removable")) &&
		    json_is_string(json_object_get(b, "qdev")))
			json_array_append(out, b);
	}
	json_decref(blocks);
	*ret = out;
	return 0;
}

int vmr_guest_media_list(const char *state_dir, const char *guest, json_t **ret,
			 struct vmr_error **err)
{
	json_t *blocks = NULL, *out = json_array(), *b;
	size_t i;
	int r;

	r = media_blocks(state_dir, guest, &blocks, err);
	if (r < 0) {
		json_decref(out);
		return r;
	}
	json_array_foreach(blocks, i, b)
	{
		if (!streq(json_string_value(json_object_get(b, "qdev")), SEED_ID))
			json_array_append_new(out, media_entry(b));
	}
	json_decref(blocks);
	*ret = out;
	return 0;
}

/* "disk1, disk3" (caller frees) */
static char *media_names(const json_t *blocks)
{
	struct vmr_buf buf = VMR_BUF_INIT;
	const json_t *b;
	size_t i;

	json_array_foreach(blocks, i, b)
	{
		const char *id = json_string_value(json_object_get(b, "qdev"));

		if (!streq(id, SEED_ID))
			vmr_buf_addf(&buf, "%s%s", buf.len ? ", " : "", id);
	}
	return buf.len ? vmr_buf_detach(&buf) : xstrdup("none");
}

/* Delete a node QEMU started with once the device let go of it; one that is gone is fine. */
static int media_node_del(const char *state_dir, const char *guest, const char *node,
			  struct vmr_error **err)
{
	json_t *args = json_pack("{s:s}", "node-name", node);
	json_t *nodes = NULL, *n;
	bool there = false;
	size_t i;
	int r;

	r = media_qmp(state_dir, guest, "query-named-block-nodes", NULL, &nodes, err);
	if (r == 0) {
		json_array_foreach(nodes, i, n) there |=
		    streq(json_string_value(json_object_get(n, "node-name")), node);
		json_decref(nodes);
		if (there)
			r = media_qmp(state_dir, guest, "blockdev-del", args, NULL, err);
	}
	json_decref(args);
	return r;
}

int vmr_guest_media_change(const char *state_dir, const char *guest, const char *device,
			   const char *path, struct vmr_error **err)
{
	json_t *blocks = NULL, *b, *found = NULL, *args;
	_cleanup_free_ char *old = NULL, *old_file = NULL;
	size_t i;
	int r;

	if (streq(device, SEED_ID))
		return vmr_error_usage(err,
				       "guest '%s': '%s' is the cloud-init seed, which vmrun keeps "
				       "up to date itself",
				       guest, device);
	r = media_blocks(state_dir, guest, &blocks, err);
	if (r < 0)
		return r;
	json_array_foreach(blocks, i, b)
	{
		if (streq(json_string_value(json_object_get(b, "qdev")), device))
			found = b;
	}
	if (!found) {
		_cleanup_free_ char *names = media_names(blocks);

		json_decref(blocks);
		return vmr_error_usage(err, "guest '%s' has no removable device '%s' (it has: %s)",
				       guest, device, names);
	}
	old = xstrdup(
	    json_string_value(json_object_get(json_object_get(found, "inserted"), "node-name")));
	json_decref(blocks);

	/* force: the guest may hold the tray locked (a mounted CD) */
	if (path)
		args = json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", device, "filename", path,
				 "format", "raw", "read-only-mode", "read-only", "force", true);
	else
		args = json_pack("{s:s, s:b}", "id", device, "force", true);
	r = media_qmp(state_dir, guest, path ? "blockdev-change-medium" : "eject", args, NULL, err);
	json_decref(args);
	if (r < 0)
		return vmr_error_wrap(err, "%s '%s' of guest '%s'",
				      path ? "change the medium of" : "eject", device, guest);

	/*
	 * The nodes of the command line (named ID and ID-file) stay after the
	 * device let go of them; QEMU's own (named "#blockN") go by themselves.
	 */
	if (old && old[0] != '#') {
		old_file = xasprintf("%s-file", old);
		r = media_node_del(state_dir, guest, old, err);
		if (r == 0)
			r = media_node_del(state_dir, guest, old_file, err);
		if (r < 0)
			return vmr_error_wrap(err,
					      "guest '%s': %s has its new medium, but its old "
					      "node stays",
					      guest, device);
	}
	return 0;
}
