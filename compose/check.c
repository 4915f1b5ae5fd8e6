/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What compose and kube need beyond the loader's validation (which already
 * checks placement on known hosts, cpuset overlaps per host, reserved CPUs
 * and PCI devices used twice): names that become service names.
 */
#include <stdio.h>

#include "compose/compose.h"
#include "lib/base/util.h"

static struct vmr_pos pos_or(struct vmr_pos p, struct vmr_pos fallback)
{
	return p.line ? p : fallback;
}

int compose_topology_check(const struct vmr_topology *t, struct vmr_diags *d)
{
	size_t before = d->n;

	for (size_t i = 0; i < t->nguests; i++) {
		const struct vmr_guest *g = &t->guests[i];
		struct vmr_pos p = pos_or(g->host_pos, g->pos);

		if (g->host && !vmr_topology_host(t, g->host))
			vmr_diags_add(d, t->file, p.line, p.col, NULL,
				      "guest '%s' host: '%s' is not defined under hosts", g->name,
				      g->host);
	}
	for (size_t i = 0; i < t->nhosts; i++) {
		const struct vmr_host *h = &t->hosts[i];
		_cleanup_free_ char *si = compose_host_service(h->name);

		/* the local machine gets that name when no host is primary */
		if (streq(h->name, VMR_COMPOSE_LOCAL_HOST) && !h->primary)
			vmr_diags_add(
			    d, t->file, h->pos.line, h->pos.col, "rename it or mark it primary",
			    "host '%s': the name is reserved for the local machine", h->name);
		for (size_t j = 0; j < i; j++) {
			_cleanup_free_ char *sj = compose_host_service(t->hosts[j].name);

			if (streq(si, sj))
				vmr_diags_add(
				    d, t->file, h->pos.line, h->pos.col, NULL,
				    "host '%s': service name '%s' is also that of host '%s'",
				    h->name, si, t->hosts[j].name);
		}
	}
	return d->n > before ? -EINVAL : 0;
}
