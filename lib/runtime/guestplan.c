/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A guest's plan on this host, and its devices' host setup (lib/runtime/guestplan.h). */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>

#include "lib/base/strvec.h"
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/runtime/guestplan.h"

int vmr_guest_plan(const struct vmr_config *cfg, const struct vmr_topology *t,
		   const struct vmr_guest *g, const struct vmr_guest_plan_opts *o,
		   struct vmr_plan *ret, char **ret_warning, struct vmr_error **err)
{
	_cleanup_free_ char *real = realpath(o->topo_path, NULL);
	_cleanup_free_ char *dir = NULL;
	struct vmr_plan_opts po = {.cfg = cfg, .no_sandbox = o->no_sandbox};
	int r;

	if (ret_warning)
		*ret_warning = NULL;
	if (!real)
		return vmr_error_set(err, errno, "resolve '%s'", o->topo_path);
	dir = xstrdup(dirname(real));
	po.topo_dir = dir;
	r = vmr_facts_probe(cfg, g, o->accel, &po.facts, ret_warning, err);
	if (r < 0)
		return r;
	if (o->vhost >= 0)
		po.facts.vhost = o->vhost;
	return vmr_plan_build(t, g, &po, ret, err);
}

int vmr_guest_preflight(const struct vmr_config *cfg, const struct vmr_plan *p,
			struct vmr_error **err)
{
	for (size_t i = 0; i < p->ndevs; i++) {
		const struct vmr_plan_dev *pd = &p->devs[i];
		int r;

		if (!pd->dev->ops || !pd->dev->ops->preflight)
			continue;
		r = pd->dev->ops->preflight(cfg, p, pd, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static void close_device_fds(const struct vmr_plan *p, int *fds)
{
	/* the device fds only: the QMP and console slots are the caller's */
	for (int i = 0; i < p->nfds; i++) {
		if (i == p->qmp_fd - 3 || i == p->console_fd - 3 || fds[i] < 0)
			continue;
		close(fds[i]);
		fds[i] = -1;
	}
}

int vmr_guest_prestart(struct vmr_prestart *ps, struct vmr_error **err)
{
	const struct vmr_plan *p = ps->plan;

	for (size_t i = 0; i < p->ndevs; i++) {
		const struct vmr_plan_dev *pd = &p->devs[i];
		int r;

		if (!pd->dev->ops || !pd->dev->ops->prestart)
			continue;
		r = pd->dev->ops->prestart(ps, pd, err);
		if (r < 0)
			return vmr_error_wrap(err, "%s", pd->dev->ops->name);
		if (r > 0)
			return r;
	}
	return 0;
}

int vmr_guest_setup(const struct vmr_config *cfg, struct vmr_journal *j, struct vmr_plan *p,
		    int *fds, const struct vmr_caps_drop *caps, struct vmr_helpers *helpers,
		    struct vmr_error **err)
{
	struct vmr_strvec together = VMR_STRVEC_INIT;
	struct vmr_setup s = {
	    .cfg = cfg, .plan = p, .fds = fds, .journal = j, .caps = caps, .helpers = helpers};
	int r;

	r = vmr_net_open(cfg, j, &s.net, err);
	if (r < 0)
		return r;
	/* devices passed through together may share an IOMMU group */
	for (size_t i = 0; i < p->ndevs; i++) {
		struct vmr_claim c[16];
		const struct vmr_device *d = p->devs[i].dev;
		size_t n = d->ops && d->ops->claims ? d->ops->claims(d, c, ARRAY_SIZE(c)) : 0;
		char bdf[13];

		for (size_t k = 0; k < n; k++)
			if (c[k].type == VMR_CLAIM_PCI)
				vmr_strvec_push(&together, vmr_pci_format(&c[k].pci, bdf));
	}
	s.together = (const char *const *)together.v;
	for (size_t i = 0; i < p->ndevs && r >= 0; i++) {
		struct vmr_plan_dev *pd = &p->devs[i];

		if (!pd->dev->ops || !pd->dev->ops->setup)
			continue;
		r = pd->dev->ops->setup(&s, pd, err);
		if (r < 0 && pd->nic)
			vmr_error_wrap(err, "NIC '%s'", pd->nic->name);
		else if (r < 0 && pd->disk)
			vmr_error_wrap(err, "disk #%zu", pd->index + 1);
		else if (r < 0)
			vmr_error_wrap(err, "%s", pd->dev->ops->name);
	}
	if (r < 0) {
		/* closing the fds first lets non-persistent taps vanish */
		close_device_fds(p, fds);
		vmr_net_rollback(s.net);
	}
	vmr_net_close(s.net);
	vmr_strvec_clear(&together);
	return r;
}
