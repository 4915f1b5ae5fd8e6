/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A plan described: its disks, its host changes, plan.json (lib/runtime/plandesc.h). */
#include <stdio.h>

#include "lib/base/util.h"
#include "lib/runtime/guestplan.h"
#include "lib/runtime/plandesc.h"

static json_t *disk_json(const char *id, const char *file, const char *format, bool readonly,
			 bool cdrom, const char *backing, bool made)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:b, s:s?, s:b}", "id", id, "file", file, "format",
			 format, "readonly", readonly, "cdrom", cdrom, "backing", backing, "made",
			 made);
}

json_t *vmr_plan_disks_json(const struct vmr_plan *p)
{
	const struct vmr_guest *g = p->guest;
	json_t *a = json_array();

	if (p->root_disk) {
		_cleanup_free_ char *base = vmr_plan_path(p, g->image);

		json_array_append_new(
		    a, disk_json("root", p->root_disk, "qcow2", false, false, base, true));
	}
	for (size_t i = 0; i < g->ndisks; i++) {
		const struct vmr_disk *d = &g->disks[i];
		_cleanup_free_ char *file = vmr_plan_path(p, d->file);
		_cleanup_free_ char *base = d->backing ? vmr_plan_path(p, d->backing) : NULL;
		char id[32];

		snprintf(id, sizeof(id), "disk%zu", i);
		json_array_append_new(
		    a,
		    disk_json(id, file,
			      vmr_disk_effective_format(d) == VMR_FORMAT_QCOW2 ? "qcow2" : "raw",
			      d->readonly, d->cdrom, base, !d->cdrom && (d->backing || d->size)));
	}
	if (p->seed_iso)
		json_array_append_new(
		    a, disk_json("seed", p->seed_iso, "raw", true, true, NULL, true));
	return a;
}

json_t *vmr_plan_unmigratable_json(const struct vmr_plan *p)
{
	json_t *a = json_array();

	for (size_t i = 0; i < p->ndevs; i++) {
		const struct vmr_plan_dev *pd = &p->devs[i];

		if (!pd->dev->ops || !pd->dev->ops->unmigratable)
			continue;
		if (pd->nic)
			json_array_append_new(
			    a, json_sprintf("nic %s (%s)", pd->nic->name, pd->dev->ops->name));
		else
			json_array_append_new(a, json_string(pd->dev->ops->name));
	}
	return a;
}

void vmr_plan_host_lines(const struct vmr_plan *p, struct vmr_strvec *ret)
{
	const struct vmr_guest *g = p->guest;
	json_t *disks = vmr_plan_disks_json(p), *d;
	size_t i;

	vmr_strvec_pushf(ret, "accel %s", vmr_accel_name(p->facts.accel));
	if (g->has_cpuset) {
		_cleanup_free_ char *cs = vmr_cpuset_format(&g->cpuset);

		vmr_strvec_pushf(ret, "cpuset %s (vCPU i pinned to its i-th CPU)", cs);
	}
	json_array_foreach(disks, i, d)
	{
		const char *backing = json_string_value(json_object_get(d, "backing"));
		const struct vmr_disk *md = NULL;

		if (startswith(json_string_value(json_object_get(d, "id")), "disk"))
			md = &g->disks[atoi(json_string_value(json_object_get(d, "id")) + 4)];
		vmr_strvec_pushf(
		    ret, "disk %s: %s (%s%s%s%s%s)", json_string_value(json_object_get(d, "id")),
		    json_string_value(json_object_get(d, "file")),
		    json_string_value(json_object_get(d, "format")),
		    json_is_true(json_object_get(d, "cdrom"))	   ? ", cdrom"
		    : json_is_true(json_object_get(d, "readonly")) ? ", read-only"
								   : "",
		    backing ? ", overlay on " : "", backing ? backing : "",
		    md && md->size && !md->backing ? ", blank, made when missing" : "");
		if (md && md->size) {
			char sz[32];

			snprintf(sz, sizeof(sz), "%llu", (unsigned long long)md->size);
			vmr_strvec_pushf(ret, "disk %s: size %s bytes",
					 json_string_value(json_object_get(d, "id")), sz);
		}
	}
	json_decref(disks);
	for (size_t k = 0; k < p->ndevs; k++) {
		const struct vmr_plan_dev *pd = &p->devs[k];
		json_t *dj;
		char *text;

		if (!pd->dev->ops || pd->disk)
			continue;
		dj = vmr_device_json(pd->dev, false);
		text = json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(dj);
		if (pd->nic) {
			char mac[18];

			vmr_strvec_pushf(
			    ret, "nic %s %s: %s%s%s%s%s", pd->nic->name,
			    vmr_mac_format(&pd->nic->mac, mac), text ? text : "?",
			    pd->ifname ? " on host interface " : "", pd->ifname ? pd->ifname : "",
			    pd->hostdev ? " on PCI device " : "", pd->hostdev ? pd->hostdev : "");
		} else {
			vmr_strvec_pushf(ret, "device %s", text ? text : "?");
		}
		free(text);
	}
}

json_t *vmr_plan_record(const struct vmr_plan *p, const struct vmr_strvec *argv)
{
	struct vmr_strvec host = VMR_STRVEC_INIT;
	json_t *o = json_object(), *a = json_array(), *e = json_array(), *h = json_array();

	for (size_t i = 0; i < argv->n; i++)
		json_array_append_new(a, json_string(argv->v[i]));
	for (size_t i = 0; i < p->env.n; i++)
		json_array_append_new(e, json_string(p->env.v[i]));
	vmr_plan_host_lines(p, &host);
	for (size_t i = 0; i < host.n; i++)
		json_array_append_new(h, json_string(host.v[i]));
	vmr_strvec_clear(&host);
	json_object_set_new(o, "argv", a);
	json_object_set_new(o, "env", e);
	json_object_set_new(o, "host", h);
	return o;
}

size_t vmr_lines_diff(const char *const *a, size_t na, const char *const *b, size_t nb,
		      bool context, struct vmr_strvec *out)
{
	/* lcs[i][j]: the longest common subsequence of a[i..] and b[j..] */
	size_t *lcs = xcalloc((na + 1) * (nb + 1), sizeof(*lcs));
	size_t i = 0, j = 0, changed = 0;

#define LCS(x, y) lcs[(x) * (nb + 1) + (y)]
	for (size_t x = na; x-- > 0;)
		for (size_t y = nb; y-- > 0;)
			LCS(x, y) = streq(a[x], b[y])		     ? LCS(x + 1, y + 1) + 1
				    : LCS(x + 1, y) >= LCS(x, y + 1) ? LCS(x + 1, y)
								     : LCS(x, y + 1);
	while (i < na || j < nb) {
		if (i < na && j < nb && streq(a[i], b[j])) {
			if (context)
				vmr_strvec_pushf(out, " %s", a[i]);
			i++, j++;
		} else if (i < na && (j == nb || LCS(i + 1, j) >= LCS(i, j + 1))) {
			vmr_strvec_pushf(out, "-%s", a[i++]);
			changed++;
		} else {
			vmr_strvec_pushf(out, "+%s", b[j++]);
			changed++;
		}
	}
#undef LCS
	free(lcs);
	return changed;
}

json_t *vmr_guest_disks_json(const struct vmr_config *cfg, const struct vmr_topology *t,
			     const struct vmr_guest *g, const char *topo_path,
			     struct vmr_error **err)
{
	struct vmr_guest_plan_opts po = {.topo_path = topo_path, .accel = VMR_ACCEL_TCG};
	struct vmr_plan plan = {0};
	json_t *d;

	if (vmr_guest_plan(cfg, t, g, &po, &plan, NULL, err) < 0)
		return NULL;
	d = vmr_plan_disks_json(&plan);
	vmr_plan_free(&plan);
	return d;
}
