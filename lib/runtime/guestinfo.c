/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A guest by name: running or not, its status and disks (lib/runtime/guestinfo.h). */
#include <stdio.h>

#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/runtime/control.h"
#include "lib/runtime/guestinfo.h"
#include "lib/runtime/guestplan.h"
#include "lib/runtime/plandesc.h"

/* The disks and unmigratable devices of guest in the topology at path. */
static int topology_disks(const struct vmr_config *cfg, const char *path, const char *guest,
			  json_t **ret_disks, json_t **ret_unmig, struct vmr_error **err)
{
	struct vmr_diags diags = {0};
	struct vmr_topology *t = NULL;
	const struct vmr_guest *g;
	struct vmr_guest_plan_opts po = {.topo_path = path, .vhost = 0};
	struct vmr_plan plan = {0};
	int r;

	r = vmr_topology_load(path, vmr_device_kinds(), &t, &diags);
	if (r < 0) {
		r = vmr_error_usage(err, "topology '%s' is not valid (see `vmrun validate %s`)",
				    path, path);
		vmr_diags_clear(&diags);
		return r;
	}
	vmr_diags_clear(&diags);
	g = vmr_topology_guest(t, guest);
	if (!g) {
		vmr_topology_free(t);
		return vmr_error_usage(err, "guest '%s' not found in '%s'", guest, path);
	}
	/* the accelerator changes no disk: do not probe it */
	po.accel = VMR_ACCEL_TCG;
	r = vmr_guest_plan(cfg, t, g, &po, &plan, NULL, err);
	if (r >= 0) {
		*ret_disks = vmr_plan_disks_json(&plan);
		*ret_unmig = vmr_plan_unmigratable_json(&plan);
		vmr_plan_free(&plan);
	}
	vmr_topology_free(t);
	return r;
}

int vmr_guest_info_get(const struct vmr_config *cfg, const char *guest, const char *topo_path,
		       bool lock_stopped, struct vmr_guest_info *ret, struct vmr_error **err)
{
	struct vmr_guest_info i = {.name = xstrdup(guest), .lock = {.lock_fd = -1}};
	json_t *d, *u;
	int r;

	if (!vmr_guest_name_valid(guest)) {
		free(i.name);
		return vmr_error_usage(err, "invalid guest name '%s'", guest);
	}
	r = vmr_guest_status(cfg->state_dir, guest, 5000, &i.status, err);
	if (r < 0)
		goto fail;
	i.running = json_is_true(json_object_get(i.status, "supervisor_alive"));
	if (!i.running && lock_stopped) {
		r = vmr_statedir_lock(cfg->state_dir, guest, &i.lock, err);
		if (r < 0)
			goto fail;
		/* status.json may have changed before we got the lock */
		json_decref(i.status);
		i.status = NULL;
		r = vmr_guest_status(cfg->state_dir, guest, 5000, &i.status, err);
		if (r < 0)
			goto fail;
	}
	d = json_object_get(i.status, "disks");
	u = json_object_get(i.status, "unmigratable");
	if (!i.running && topo_path) {
		r = topology_disks(cfg, topo_path, guest, &i.disks, &i.unmigratable, err);
		if (r < 0)
			goto fail;
		i.have_record = true;
	} else {
		i.have_record = json_is_array(d);
		i.disks = json_is_array(d) ? json_incref(d) : json_array();
		i.unmigratable = json_is_array(u) ? json_incref(u) : json_array();
	}
	*ret = i;
	return 0;
fail:
	vmr_guest_info_free(&i);
	return r;
}

void vmr_guest_info_free(struct vmr_guest_info *i)
{
	if (!i)
		return;
	free(i->name);
	json_decref(i->status);
	json_decref(i->disks);
	json_decref(i->unmigratable);
	vmr_statedir_release(&i->lock);
	*i = (struct vmr_guest_info){.lock = {.lock_fd = -1}};
}

json_t *vmr_guest_info_disk(const struct vmr_guest_info *i, const char *id)
{
	size_t k;
	json_t *d;

	json_array_foreach(i->disks, k, d)
	{
		if (streq(json_string_value(json_object_get(d, "id")), id) ||
		    streq(json_string_value(json_object_get(d, "file")), id))
			return d;
	}
	return NULL;
}

char *vmr_guest_disk_sharer(const char *state_dir, const char *guest, const char *file)
{
	struct vmr_strvec names = VMR_STRVEC_INIT;
	char *who = NULL;

	if (vmr_guest_list(state_dir, &names, NULL) < 0)
		return NULL;
	for (size_t n = 0; n < names.n && !who; n++) {
		_cleanup_free_ char *path = NULL;
		json_t *st, *disks, *d;
		size_t k;

		if (streq(names.v[n], guest))
			continue;
		path = vmr_statedir_path(state_dir, names.v[n], "status.json");
		st = json_load_file(path, 0, NULL);
		disks = json_object_get(st, "disks");
		json_array_foreach(disks, k, d)
		{
			if (json_is_true(json_object_get(d, "readonly")))
				continue;
			if (streq(json_string_value(json_object_get(d, "file")), file)) {
				who = xstrdup(names.v[n]);
				break;
			}
		}
		json_decref(st);
	}
	vmr_strvec_clear(&names);
	return who;
}
