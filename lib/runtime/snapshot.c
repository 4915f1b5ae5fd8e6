/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest snapshots: QMP jobs while it runs, qemu-img while it is stopped (snapshot.h). */
#include <ctype.h>
#include <stdio.h>
#include <time.h>

#include "images/images.h"
#include "lib/base/util.h"
#include "lib/runtime/control.h"
#include "lib/runtime/snapshot.h"

const char *vmr_snapshot_name_problem(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	bool digits = true;

	if (n == 0)
		return "empty";
	if (n > VMR_SNAPSHOT_NAME_MAX)
		return "longer than 64 characters";
	if (name[0] == '-')
		return "starts with '-'";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return "only letters, digits, '.', '_' and '-' are allowed";
		digits = digits && isdigit(c);
	}
	if (digits)
		return "all digits (qemu-img would take it for a snapshot id)";
	return NULL;
}

int vmr_snapshot_disks(const char *state_dir, const struct vmr_guest_info *i, bool with_memory,
		       json_t **ret, struct vmr_error **err)
{
	json_t *out = json_array(), *d;
	size_t k;

	if (with_memory && json_array_size(i->unmigratable) > 0) {
		const char *dev = json_string_value(json_array_get(i->unmigratable, 0));

		json_decref(out);
		vmr_error_usage(err,
				"guest '%s': %s cannot have its state saved (vfio passthrough): no "
				"snapshot while it runs",
				i->name, dev ? dev : "a device");
		vmr_error_hint(err, "stop the guest for a disk-only snapshot");
		return -EINVAL;
	}
	json_array_foreach(i->disks, k, d)
	{
		const char *id = json_string_value(json_object_get(d, "id"));
		const char *file = json_string_value(json_object_get(d, "file"));
		_cleanup_free_ char *who = NULL;

		if (json_is_true(json_object_get(d, "readonly")) ||
		    json_is_true(json_object_get(d, "cdrom")))
			continue;
		if (!streq(json_string_value(json_object_get(d, "format")), "qcow2")) {
			json_decref(out);
			vmr_error_usage(err,
					"guest '%s': disk %s ('%s') is raw: snapshots need every "
					"writable disk in qcow2",
					i->name, id, file);
			vmr_error_hint(err, "make it readonly, or convert it with qemu-img convert "
					    "-O qcow2");
			return -EINVAL;
		}
		who = vmr_guest_disk_sharer(state_dir, i->name, file);
		if (who) {
			json_decref(out);
			return vmr_error_usage(err,
					       "guest '%s': disk %s ('%s') is shared with guest "
					       "'%s': a snapshot of one would revert the other",
					       i->name, id, file, who);
		}
		json_array_append(out, d);
	}
	if (json_array_size(out) == 0) {
		json_decref(out);
		return vmr_error_usage(
		    err, "guest '%s' has no writable qcow2 disk to snapshot%s", i->name,
		    i->have_record ? "" : " (it never ran here: give --topology FILE)");
	}
	*ret = out;
	return 0;
}

/* ---- running: QMP through the supervisor ---- */

static int qmp_call(const char *state_dir, const char *guest, const char *cmd, json_t *args,
		    json_t **ret, struct vmr_error **err)
{
	int r = vmr_control_qmp(state_dir, guest, cmd, args, 65000, ret, NULL, err);

	if (r < 0)
		vmr_error_wrap(err, "qmp '%s'", cmd);
	return r;
}

/* Start a job and wait for it to conclude; its error becomes ours. */
static int run_job(const char *state_dir, const char *guest, const char *cmd, json_t *args,
		   struct vmr_error **err)
{
	_cleanup_free_ char *id = xasprintf("vmrun-%s-%d", cmd, (int)getpid());
	uint64_t deadline = now_ms() + VMR_SNAPSHOT_JOB_TIMEOUT_MS;
	json_t *a = json_deep_copy(args);
	int r;

	json_object_set_new(a, "job-id", json_string(id));
	r = qmp_call(state_dir, guest, cmd, a, NULL, err);
	json_decref(a);
	if (r < 0)
		return r;
	for (;;) {
		struct timespec ts = {0, 100 * 1000000L};
		json_t *jobs = NULL, *j, *mine = NULL;
		size_t k;

		r = qmp_call(state_dir, guest, "query-jobs", NULL, &jobs, err);
		if (r < 0)
			return r;
		json_array_foreach(jobs, k, j)
		{
			if (streq(json_string_value(json_object_get(j, "id")), id))
				mine = j;
		}
		if (mine &&
		    streq(json_string_value(json_object_get(mine, "status")), "concluded")) {
			const char *e = json_string_value(json_object_get(mine, "error"));
			_cleanup_free_ char *why = e ? xstrdup(e) : NULL;
			json_t *dargs = json_pack("{s:s}", "id", id);

			json_decref(jobs);
			(void)qmp_call(state_dir, guest, "job-dismiss", dargs, NULL, NULL);
			json_decref(dargs);
			if (why)
				return vmr_error_set(err, 0, "guest '%s': %s: %s", guest, cmd, why);
			return 0;
		}
		json_decref(jobs);
		if (!mine)
			return vmr_error_set(err, EPROTO, "guest '%s': %s: job '%s' vanished",
					     guest, cmd, id);
		if (now_ms() >= deadline)
			return vmr_error_set(err, ETIMEDOUT,
					     "guest '%s': %s: not done within %d s (job '%s' "
					     "still runs)",
					     guest, cmd, VMR_SNAPSHOT_JOB_TIMEOUT_MS / 1000, id);
		nanosleep(&ts, NULL);
	}
}

/* Add one disk's snapshots to the list (merged by name). */
static void list_add(json_t *list, const char *disk, json_t *snaps)
{
	size_t k, m;
	json_t *s, *e;

	json_array_foreach(snaps, k, s)
	{
		const char *name = json_string_value(json_object_get(s, "name"));
		json_int_t vm = json_integer_value(json_object_get(s, "vm-state-size"));
		json_t *found = NULL;

		if (!name)
			continue;
		json_array_foreach(list, m, e)
		{
			if (streq(json_string_value(json_object_get(e, "name")), name))
				found = e;
		}
		if (!found) {
			found = json_pack(
			    "{s:s, s:I, s:I, s:I, s:[]}", "name", name, "date",
			    json_integer_value(json_object_get(s, "date-sec")), "vm_state_size",
			    (json_int_t)0, "vm_clock_nsec",
			    json_integer_value(json_object_get(s, "vm-clock-nsec")) +
				json_integer_value(json_object_get(s, "vm-clock-sec")) * 1000000000,
			    "disks");
			json_array_append_new(list, found);
		}
		if (vm > json_integer_value(json_object_get(found, "vm_state_size")))
			json_object_set_new(found, "vm_state_size", json_integer(vm));
		json_array_append_new(json_object_get(found, "disks"), json_string(disk));
	}
}

static int date_cmp(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "date"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "date"));

	return x < y ? -1 : x > y;
}

static json_t *list_sorted(json_t *list)
{
	size_t n = json_array_size(list);
	json_t **v = xcalloc(n + 1, sizeof(*v)), *out = json_array();

	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(list, i);
	qsort(v, n, sizeof(*v), date_cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	json_decref(list);
	return out;
}

static int list_running(const char *state_dir, const char *guest, json_t *disks, json_t **ret,
			struct vmr_error **err)
{
	json_t *nodes = NULL, *nd, *d, *list = json_array();
	size_t k, m;
	int r;

	r = qmp_call(state_dir, guest, "query-named-block-nodes", NULL, &nodes, err);
	if (r < 0) {
		json_decref(list);
		return r;
	}
	json_array_foreach(disks, m, d)
	{
		const char *id = json_string_value(json_object_get(d, "id"));

		json_array_foreach(nodes, k, nd)
		{
			if (streq(json_string_value(json_object_get(nd, "node-name")), id))
				list_add(
				    list, id,
				    json_object_get(json_object_get(nd, "image"), "snapshots"));
		}
	}
	json_decref(nodes);
	*ret = list_sorted(list);
	return 0;
}

static int list_stopped(const char *qemu_img, json_t *disks, json_t **ret, struct vmr_error **err)
{
	json_t *list = json_array(), *d;
	size_t k;

	json_array_foreach(disks, k, d)
	{
		json_t *snaps = NULL;

		if (vmr_image_snapshots(qemu_img, json_string_value(json_object_get(d, "file")),
					&snaps, err) < 0) {
			json_decref(list);
			return -1;
		}
		list_add(list, json_string_value(json_object_get(d, "id")), snaps);
		json_decref(snaps);
	}
	*ret = list_sorted(list);
	return 0;
}

static json_t *list_find(json_t *list, const char *name)
{
	size_t k;
	json_t *e;

	json_array_foreach(list, k, e)
	{
		if (streq(json_string_value(json_object_get(e, "name")), name))
			return e;
	}
	return NULL;
}

static bool list_on_disk(json_t *entry, const char *id)
{
	size_t k;
	json_t *d;

	json_array_foreach(json_object_get(entry, "disks"), k, d)
	{
		if (streq(json_string_value(d), id))
			return true;
	}
	return false;
}

static json_t *disk_ids(json_t *disks)
{
	json_t *ids = json_array(), *d;
	size_t k;

	json_array_foreach(disks, k, d) json_array_append(ids, json_object_get(d, "id"));
	return ids;
}

static int do_running(const struct vmr_config *cfg, const struct vmr_guest_info *i,
		      enum vmr_snapshot_op op, const char *name, json_t *disks, json_t *list,
		      struct vmr_error **err)
{
	const char *guest = i->name, *first;
	json_t *e = name ? list_find(list, name) : NULL, *args;
	int r;

	first = json_string_value(json_object_get(json_array_get(disks, 0), "id"));
	switch (op) {
	case VMR_SNAPSHOT_CREATE:
		if (e)
			return vmr_error_usage(err, "guest '%s' already has a snapshot '%s'", guest,
					       name);
		args = json_pack("{s:s, s:s, s:o}", "tag", name, "vmstate", first, "devices",
				 disk_ids(disks));
		r = run_job(cfg->state_dir, guest, "snapshot-save", args, err);
		break;
	case VMR_SNAPSHOT_REVERT:
		if (!e)
			return vmr_error_usage(err, "guest '%s' has no snapshot '%s'", guest, name);
		if (json_integer_value(json_object_get(e, "vm_state_size")) <= 0 ||
		    !list_on_disk(e, first)) {
			vmr_error_usage(err,
					"guest '%s': snapshot '%s' has no memory state (it was "
					"taken while the guest was stopped)",
					guest, name);
			vmr_error_hint(err, "stop the guest to revert its disks to it");
			return -EINVAL;
		}
		args = json_pack("{s:s, s:s, s:o}", "tag", name, "vmstate", first, "devices",
				 disk_ids(disks));
		r = run_job(cfg->state_dir, guest, "snapshot-load", args, err);
		break;
	case VMR_SNAPSHOT_DELETE:
		if (!e)
			return vmr_error_usage(err, "guest '%s' has no snapshot '%s'", guest, name);
		args = json_pack("{s:s, s:o}", "tag", name, "devices",
				 json_incref(json_object_get(e, "disks")));
		r = run_job(cfg->state_dir, guest, "snapshot-delete", args, err);
		break;
	default:
		return 0;
	}
	json_decref(args);
	return r;
}

static int do_stopped(const char *qemu_img, const struct vmr_guest_info *i, enum vmr_snapshot_op op,
		      const char *name, json_t *disks, json_t *list, struct vmr_error **err)
{
	json_t *e = name ? list_find(list, name) : NULL, *d;
	size_t k, done = 0;

	switch (op) {
	case VMR_SNAPSHOT_CREATE:
		if (e)
			return vmr_error_usage(err, "guest '%s' already has a snapshot '%s'",
					       i->name, name);
		json_array_foreach(disks, k, d)
		{
			const char *file = json_string_value(json_object_get(d, "file"));

			if (vmr_image_snapshot(qemu_img, file, VMR_IMAGE_SNAP_CREATE, name, err) <
			    0) {
				/* all disks or none: take back the ones made */
				for (size_t u = 0; u < done; u++)
					(void)vmr_image_snapshot(
					    qemu_img,
					    json_string_value(
						json_object_get(json_array_get(disks, u), "file")),
					    VMR_IMAGE_SNAP_DELETE, name, NULL);
				return -1;
			}
			done++;
		}
		return 0;
	case VMR_SNAPSHOT_REVERT:
		if (!e)
			return vmr_error_usage(err, "guest '%s' has no snapshot '%s'", i->name,
					       name);
		json_array_foreach(disks, k, d)
		{
			const char *id = json_string_value(json_object_get(d, "id"));

			if (!list_on_disk(e, id))
				return vmr_error_usage(
				    err,
				    "guest '%s': snapshot '%s' is not on disk %s "
				    "('%s'): not reverting any disk",
				    i->name, name, id,
				    json_string_value(json_object_get(d, "file")));
		}
		json_array_foreach(disks, k, d)
		{
			if (vmr_image_snapshot(qemu_img,
					       json_string_value(json_object_get(d, "file")),
					       VMR_IMAGE_SNAP_APPLY, name, err) < 0)
				return -1;
		}
		return 0;
	case VMR_SNAPSHOT_DELETE:
		if (!e)
			return vmr_error_usage(err, "guest '%s' has no snapshot '%s'", i->name,
					       name);
		json_array_foreach(disks, k, d)
		{
			if (!list_on_disk(e, json_string_value(json_object_get(d, "id"))))
				continue;
			if (vmr_image_snapshot(qemu_img,
					       json_string_value(json_object_get(d, "file")),
					       VMR_IMAGE_SNAP_DELETE, name, err) < 0)
				return -1;
		}
		return 0;
	default:
		return 0;
	}
}

int vmr_snapshot_info_do(const struct vmr_config *cfg, const struct vmr_guest_info *i,
			 enum vmr_snapshot_op op, const char *name, json_t **ret_list,
			 struct vmr_error **err)
{
	_cleanup_free_ char *qemu_img = NULL;
	json_t *disks = NULL, *list = NULL;
	const char *why;
	int r;

	if (op != VMR_SNAPSHOT_LIST && (why = vmr_snapshot_name_problem(name)))
		return vmr_error_usage(err, "invalid snapshot name '%s': %s", name ? name : "",
				       why);
	r = vmr_snapshot_disks(
	    cfg->state_dir, i,
	    i->running && (op == VMR_SNAPSHOT_CREATE || op == VMR_SNAPSHOT_REVERT), &disks, err);
	if (r < 0)
		return r;
	if (!i->running) {
		r = vmr_image_qemu_img(cfg, &qemu_img, err);
		if (r >= 0)
			r = list_stopped(qemu_img, disks, &list, err);
	} else {
		r = list_running(cfg->state_dir, i->name, disks, &list, err);
	}
	if (r < 0)
		goto out;
	if (op == VMR_SNAPSHOT_LIST) {
		*ret_list = TAKE_PTR(list);
		goto out;
	}
	r = i->running ? do_running(cfg, i, op, name, disks, list, err)
		       : do_stopped(qemu_img, i, op, name, disks, list, err);
out:
	json_decref(disks);
	json_decref(list);
	return r < 0 ? r : 0;
}

int vmr_snapshot_do(const struct vmr_config *cfg, const char *guest, const char *topo_path,
		    enum vmr_snapshot_op op, const char *name, json_t **ret_list,
		    const char **ret_how, struct vmr_error **err)
{
	struct vmr_guest_info i = {.lock = {.lock_fd = -1}};
	const char *why;
	int r;

	if (op != VMR_SNAPSHOT_LIST && (why = vmr_snapshot_name_problem(name)))
		return vmr_error_usage(err, "invalid snapshot name '%s': %s", name ? name : "",
				       why);
	/* a stopped guest stays stopped while its images change */
	r = vmr_guest_info_get(cfg, guest, topo_path, op != VMR_SNAPSHOT_LIST, &i, err);
	if (r < 0)
		return r;
	if (ret_how)
		*ret_how = i.running ? "running" : "stopped";
	r = vmr_snapshot_info_do(cfg, &i, op, name, ret_list, err);
	vmr_guest_info_free(&i);
	return r;
}
