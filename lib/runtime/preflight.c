/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a guest's host changes need, checked before the first one (lib/runtime/preflight.h). */
#include <stdio.h>

#include "lib/base/util.h"
#include "lib/runtime/preflight.h"

/* What one device's host setup needs, given its grants (lib/plan/plan.h). */
static int require_grants(const struct vmr_config *cfg, const struct vmr_plan *p,
			  const struct vmr_plan_dev *pd, const struct vmr_grants *gr,
			  struct vmr_error **err)
{
	static const cap_value_t net_admin[] = {CAP_NET_ADMIN};
	const char *sysfs = cfg && cfg->sysfs_root && cfg->sysfs_root[0] ? cfg->sysfs_root : "/sys";
	const struct vmr_guest *g = p->guest;
	_cleanup_free_ char *what = NULL, *path = NULL;
	int r;

	if (gr->net_admin) {
		what = pd->nic ? xasprintf("creating the %s NIC '%s' of guest '%s'",
					   pd->dev->ops->name, pd->nic->name, g->name)
			       : xasprintf("the %s of guest '%s'", pd->dev->ops->name, g->name);
		r = vmr_caps_require(net_admin, ARRAY_SIZE(net_admin), what, err);
		if (r < 0)
			return r;
	}
	/* a device known before the start (a VF is chosen at setup) */
	if (gr->vfio && pd->hostdev) {
		free(what);
		what = xasprintf("binding '%s' (guest '%s'%s%s%s) to vfio-pci", pd->hostdev,
				 g->name, pd->nic ? " NIC '" : "", pd->nic ? pd->nic->name : "",
				 pd->nic ? "'" : "");
		path = xasprintf("%s/bus/pci/devices/%s/driver_override", sysfs, pd->hostdev);
		r = vmr_caps_require_writable(path, what, err);
		if (r < 0)
			return r;
		free(path);
		path = xasprintf("%s/bus/pci/drivers_probe", sysfs);
		return vmr_caps_require_writable(path, what, err);
	}
	return 0;
}

/* What one device's host setup needs: its own grants. */
static int require_device(const struct vmr_config *cfg, const struct vmr_plan *p,
			  const struct vmr_plan_dev *pd, struct vmr_error **err)
{
	struct vmr_grants gr = {0};
	int r;

	if (!pd->dev->ops || !pd->dev->ops->grants)
		return 0;
	pd->dev->ops->grants(p, pd, &gr);
	r = require_grants(cfg, p, pd, &gr, err);
	vmr_strvec_clear(&gr.dirs);
	vmr_strvec_clear(&gr.files);
	return r;
}

int vmr_caps_preflight(const struct vmr_config *cfg, const struct vmr_plan *p,
		       struct vmr_error **err)
{
	const struct vmr_guest *g = p->guest;
	int r;

	for (size_t i = 0; i < p->ndevs; i++) {
		r = require_device(cfg, p, &p->devs[i], err);
		if (r < 0)
			return r;
	}
	if (cfg && cfg->qemu_user) {
		static const cap_value_t ids[] = {CAP_SETUID, CAP_SETGID, CAP_KILL};
		static const cap_value_t nice[] = {CAP_SYS_NICE};
		_cleanup_free_ char *what = xasprintf("running QEMU as '%s'", cfg->qemu_user);

		r = vmr_caps_require(ids, ARRAY_SIZE(ids), what, err);
		if (r < 0)
			return r;
		if (g->has_cpuset || p->emulator_cpus || p->iothread_cpus) {
			free(what);
			what = xasprintf("placing the threads of guest '%s' when QEMU runs as '%s'",
					 g->name, cfg->qemu_user);
			r = vmr_caps_require(nice, ARRAY_SIZE(nice), what, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}
