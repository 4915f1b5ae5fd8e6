/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a guest's host changes need, checked before the first one (lib/runtime/preflight.h). */
#include <stdio.h>

#include "lib/base/netaddr.h"
#include "lib/base/util.h"
#include "lib/runtime/preflight.h"

static int require_nic(const struct vmr_config *cfg, const struct vmr_guest *g,
		       const struct vmr_nic *nic, struct vmr_error **err)
{
	static const cap_value_t net_admin[] = {CAP_NET_ADMIN};
	const char *sysfs = cfg && cfg->sysfs_root && cfg->sysfs_root[0] ? cfg->sysfs_root : "/sys";
	_cleanup_free_ char *what = NULL, *path = NULL;
	char bdf[13];
	int r;

	switch (nic->kind) {
	case VMR_NIC_USER:
		return 0;
	case VMR_NIC_PCI:
		vmr_pci_format(&nic->pci, bdf);
		what = xasprintf("binding '%s' (guest '%s' NIC '%s') to vfio-pci", bdf, g->name,
				 nic->name);
		path = xasprintf("%s/bus/pci/devices/%s/driver_override", sysfs, bdf);
		r = vmr_caps_require_writable(path, what, err);
		if (r < 0)
			return r;
		free(path);
		path = xasprintf("%s/bus/pci/drivers_probe", sysfs);
		return vmr_caps_require_writable(path, what, err);
	default:
		what = xasprintf("creating the %s NIC '%s' of guest '%s'",
				 vmr_nic_kind_name(nic->kind), nic->name, g->name);
		return vmr_caps_require(net_admin, ARRAY_SIZE(net_admin), what, err);
	}
}

int vmr_caps_preflight(const struct vmr_config *cfg, const struct vmr_guest *g,
		       struct vmr_error **err)
{
	int r;

	for (size_t i = 0; i < g->nnics; i++) {
		r = require_nic(cfg, g, &g->nics[i], err);
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
		if (g->has_cpuset) {
			free(what);
			what = xasprintf("pinning the vCPUs of guest '%s' when QEMU runs as '%s'",
					 g->name, cfg->qemu_user);
			r = vmr_caps_require(nice, ARRAY_SIZE(nice), what, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}
