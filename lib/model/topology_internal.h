/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_TOPOLOGY_INTERNAL_H
#define VMR_TOPOLOGY_INTERNAL_H

/*
 * Internals of the topology loader, shared by its files: topology.c (the
 * file, hosts, ctrlif, checks across guests) and guest.c (a guest's keys,
 * disks, NICs and devices).  Not for other modules.
 */

#include "lib/model/keys.h"
#include "lib/model/topology.h"
#include "lib/model/yamltree.h"

struct loader {
	struct vmr_yreport r;
	const struct vmr_ynode *defaults; /* NULL while checking defaults themselves */
	const struct vmr_device_ops *const *kinds;
	struct vmr_topology *t;
};

#define ERR(L, pos, hint, ...) vmr_yreport_add(&(L)->r, (pos), (hint), __VA_ARGS__)

/* A key context for messages about ctx ("guest 'a'"). */
static inline struct vmr_keyctx loader_ctx(struct loader *L, const char *ctx)
{
	return (struct vmr_keyctx){.r = &L->r, .ctx = ctx};
}

/*
 * Load guest g from own (its mapping, NULL when it is just a name), each
 * key falling back to defaults (values from defaults were checked once on
 * their own: errors they cause again are counted, not repeated).
 */
void guest_load(struct loader *L, struct vmr_guest *g, const struct vmr_ynode *own,
		const char *ctx);
void guest_free(struct vmr_guest *g);

#endif
