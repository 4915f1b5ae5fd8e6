/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plan now beside the plan that runs (lib/runtime/reconfig.h). */
#include <jansson.h>
#include <stdio.h>

#include "lib/base/statedir.h"
#include "lib/base/util.h"
#include "lib/runtime/guestplan.h"
#include "lib/runtime/plandesc.h"
#include "lib/runtime/reconfig.h"

static void strings(json_t *arr, const char *prefix, struct vmr_strvec *out)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	    vmr_strvec_pushf(out, "%s%s", prefix, json_string_value(v) ?: "");
}

/* The VF each vf NIC had (status.json's nics), so the argv compares like for like. */
static void keep_vfs(const struct vmr_config *cfg, struct vmr_plan *p)
{
	_cleanup_free_ char *path =
	    vmr_statedir_path(cfg->state_dir, p->guest->name, "status.json");
	json_t *st = json_load_file(path, 0, NULL), *n;
	size_t i;

	json_array_foreach(json_object_get(st, "nics"), i, n)
	{
		const char *name = json_string_value(json_object_get(n, "name"));
		const char *pci = json_string_value(json_object_get(n, "pci"));
		struct vmr_plan_dev *pd = name ? vmr_plan_nic(p, name) : NULL;

		if (pd && pci && !pd->hostdev && streq(pd->dev->ops->name, "vf"))
			pd->hostdev = xstrdup(pci);
	}
	json_decref(st);
	/* a VF no run chose yet: the next start chooses one */
	for (size_t k = 0; k < p->ndevs; k++)
		if (p->devs[k].nic && !p->devs[k].hostdev && streq(p->devs[k].dev->ops->name, "vf"))
			p->devs[k].hostdev = xstrdup("(a VF chosen at start)");
}

int vmr_reconfig_diff(const struct vmr_config *cfg, const struct vmr_topology *t,
		      const struct vmr_guest *g, const char *topo_path, struct vmr_reconfig *ret,
		      struct vmr_error **err)
{
	_cleanup_free_ char *path = vmr_statedir_path(cfg->state_dir, g->name, VMR_PLAN_FILE);
	struct vmr_guest_plan_opts po = {.topo_path = topo_path, .vhost = -1};
	struct vmr_strvec argv = VMR_STRVEC_INIT, oldl = VMR_STRVEC_INIT, newl = VMR_STRVEC_INIT;
	struct vmr_strvec oldh = VMR_STRVEC_INIT, newh = VMR_STRVEC_INIT;
	struct vmr_reconfig r = {.argv_diff = VMR_STRVEC_INIT,
				 .host_diff = VMR_STRVEC_INIT,
				 .argv_new = VMR_STRVEC_INIT};
	struct vmr_plan plan = {0};
	json_t *old;
	int rc;

	rc = vmr_guest_plan(cfg, t, g, &po, &plan, NULL, err);
	if (rc < 0)
		return rc;
	keep_vfs(cfg, &plan);
	rc = vmr_argv_build(&plan, &argv, err);
	if (rc < 0) {
		vmr_plan_free(&plan);
		return rc;
	}
	for (size_t i = 0; i < plan.env.n; i++)
		vmr_strvec_pushf(&newl, "env %s", plan.env.v[i]);
	for (size_t i = 0; i < argv.n; i++)
		vmr_strvec_push(&newl, argv.v[i]);
	vmr_plan_host_lines(&plan, &newh);
	old = json_load_file(path, 0, NULL);
	r.have_old = json_is_object(old);
	strings(json_object_get(old, "env"), "env ", &oldl);
	strings(json_object_get(old, "argv"), "", &oldl);
	strings(json_object_get(old, "host"), "", &oldh);
	json_decref(old);
	r.changed_argv = vmr_lines_diff((const char *const *)oldl.v, oldl.n,
					(const char *const *)newl.v, newl.n, false, &r.argv_diff);
	r.changed_host = vmr_lines_diff((const char *const *)oldh.v, oldh.n,
					(const char *const *)newh.v, newh.n, false, &r.host_diff);
	r.argv_new = argv;
	vmr_strvec_clear(&oldl);
	vmr_strvec_clear(&newl);
	vmr_strvec_clear(&oldh);
	vmr_strvec_clear(&newh);
	vmr_plan_free(&plan);
	*ret = r;
	return 0;
}

void vmr_reconfig_free(struct vmr_reconfig *r)
{
	vmr_strvec_clear(&r->argv_diff);
	vmr_strvec_clear(&r->host_diff);
	vmr_strvec_clear(&r->argv_new);
}
