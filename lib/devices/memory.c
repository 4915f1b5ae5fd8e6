/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `memory: {size: 8G, hugepages: 2M|1G, numa_node: N, prealloc: true}`:
 * the guest's RAM from a memory-backend-memfd -- in hugepages of that size
 * (MFD_HUGETLB: no hugetlbfs mount needed), bound to host NUMA node N
 * (policy bind), touched at startup with prealloc -- and shared (share=on)
 * when a vhost-user NIC maps it.  The short form `memory: 8G` is the
 * guest's own key and adds no device.  `vmrun run` counts the free
 * hugepages (and checks the node) before it changes anything on the host.
 */
#include <stdio.h>

#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

#define NUMA_NODE_MAX 1023u

enum hugepages { HUGE_NONE, HUGE_2M, HUGE_1G };
static const char *const huge_names[] = {"2M", "1G", NULL};
static const char *const huge_shown[] = {"none", "2M", "1G", NULL};

struct memory {
	uint64_t size; /* the guest's memory: also g->memory (lib/model/guest.c) */
	unsigned hugepages;
	bool has_node;
	unsigned numa_node;
	bool prealloc;
};

static uint64_t huge_bytes(unsigned h)
{
	return h == HUGE_2M ? UINT64_C(2) << 20 : h == HUGE_1G ? UINT64_C(1) << 30 : 0;
}

static bool node_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field, void *obj)
{
	struct memory *m = obj;

	if (!vmr_key_uint(c, n, "numa_node", 0, NUMA_NODE_MAX, field))
		return false;
	m->has_node = true;
	return true;
}

static json_t *node_json(const void *field)
{
	const struct memory *m =
	    (const struct memory *)((const char *)field - offsetof(struct memory, numa_node));

	return m->has_node ? json_integer(m->numa_node) : json_null();
}

static const struct vmr_key keys[] = {
    {.name = "size",
     .type = VMR_KEY_SIZE,
     .off = offsetof(struct memory, size),
     .min = VMR_GUEST_MEMORY_MIN},
    {.name = "hugepages",
     .type = VMR_KEY_ENUM,
     .off = offsetof(struct memory, hugepages),
     .names = huge_names,
     .base = HUGE_2M,
     .shown = huge_shown},
    {.name = "numa_node",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct memory, numa_node),
     .parse = node_parse,
     .json = node_json},
    {.name = "prealloc", .type = VMR_KEY_BOOL, .off = offsetof(struct memory, prealloc)},
    VMR_KEYS_END,
};

/* the mapping's keys are read from the table; the guest's key took the size */
static bool memory_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *conf)
{
	return vmr_key_want_map(c, n, "memory");
}

static void memory_check(const struct vmr_devcheck *c, const struct vmr_device *d)
{
	const struct memory *m = VMR_DEVICE_CONF(d, struct memory);
	const struct vmr_ynode *size = vmr_key_get(c->map, "size");
	uint64_t page = huge_bytes(m->hugepages);

	if (page && m->size && size && m->size % page)
		VMR_KEY_ERR(c->kc, size->pos, "make it a multiple of the page size",
			    "%s: memory size '%s' is not a whole number of %s hugepages",
			    c->kc->ctx, size->value, huge_names[m->hugepages - HUGE_2M]);
}

static void memory_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd)
{
	pd->memory_backend = true;
}

static int memory_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		       struct vmr_error **err)
{
	const struct memory *m = VMR_DEVICE_CONF(pd->dev, struct memory);
	json_t *o = json_pack("{s:s, s:s, s:I}", "qom-type", "memory-backend-memfd", "id", "mem0",
			      "size", (json_int_t)p->guest->memory);

	if (m->hugepages) {
		json_object_set_new(o, "hugetlb", json_true());
		json_object_set_new(o, "hugetlbsize",
				    json_integer((json_int_t)huge_bytes(m->hugepages)));
	}
	if (p->shared_memory)
		json_object_set_new(o, "share", json_true());
	if (m->prealloc)
		json_object_set_new(o, "prealloc", json_true());
	if (m->has_node) {
		json_object_set_new(o, "host-nodes", json_pack("[i]", (int)m->numa_node));
		json_object_set_new(o, "policy", json_string("bind"));
	}
	vmr_argv_memory_backend(b, o);
	return 0;
}

static void memory_grants(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
			  struct vmr_grants *g)
{
	const struct memory *m = VMR_DEVICE_CONF(pd->dev, struct memory);

	g->numa |= m->has_node;
	if (m->hugepages == HUGE_2M)
		g->hugepages_2m += p->guest->memory;
	else if (m->hugepages == HUGE_1G)
		g->hugepages_1g += p->guest->memory;
}

/* A count from a sysfs file; -errno when it cannot be read. */
static int read_count(const char *path, unsigned long long *ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = read_file(path, 64, &buf, &len);
	if (r < 0)
		return r;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return parse_uint(buf, UINT64_MAX, ret);
}

int vmr_memory_free_hugepages(const char *sysfs_root, uint64_t page_bytes, int node,
			      unsigned long long *ret, struct vmr_error **err)
{
	const char *sys = sysfs_root ? sysfs_root : "/sys";
	unsigned long long kib = page_bytes >> 10, free_pages, resv = 0;
	_cleanup_free_ char *dir = NULL, *fpath = NULL, *resvp = NULL;
	int r;

	if (node >= 0)
		dir = xasprintf("%s/devices/system/node/node%d/hugepages/hugepages-%llukB", sys,
				node, kib);
	else
		dir = xasprintf("%s/kernel/mm/hugepages/hugepages-%llukB", sys, kib);
	fpath = xasprintf("%s/free_hugepages", dir);
	r = read_count(fpath, &free_pages);
	if (r < 0)
		return vmr_error_set(err, -r, "read '%s'", fpath);
	/* reserved pages are free but promised to a mapping already (global count only) */
	if (node < 0) {
		resvp = xasprintf("%s/resv_hugepages", dir);
		if (read_count(resvp, &resv) < 0)
			resv = 0;
	}
	*ret = free_pages > resv ? free_pages - resv : 0;
	return 0;
}

static int memory_preflight(const struct vmr_config *cfg, const struct vmr_plan *p,
			    const struct vmr_plan_dev *pd, struct vmr_error **err)
{
	const struct memory *m = VMR_DEVICE_CONF(pd->dev, struct memory);
	const char *sys = cfg && cfg->sysfs_root ? cfg->sysfs_root : "/sys";
	uint64_t page = huge_bytes(m->hugepages);
	unsigned long long need, avail;
	const char *pname;
	int r;

	if (m->has_node) {
		_cleanup_free_ char *node =
		    xasprintf("%s/devices/system/node/node%u", sys, m->numa_node);

		if (access(node, F_OK) < 0)
			return vmr_error_usage(err,
					       "guest '%s': memory: the host has no NUMA node %u "
					       "(no '%s')",
					       p->guest->name, m->numa_node, node);
	}
	if (!page)
		return 0;
	pname = huge_names[m->hugepages - HUGE_2M];
	need = p->guest->memory / page;
	r = vmr_memory_free_hugepages(sys, page, -1, &avail, err);
	if (r < 0) {
		vmr_error_clear(err);
		return vmr_error_usage(err,
				       "guest '%s': memory: the host has no %s hugepages (no "
				       "'%s/kernel/mm/hugepages/hugepages-%llukB')",
				       p->guest->name, pname, sys,
				       (unsigned long long)(page >> 10));
	}
	if (avail < need) {
		r = vmr_error_usage(
		    err,
		    "guest '%s': memory: %llu %s hugepages needed, %llu free on the "
		    "host: %llu short",
		    p->guest->name, need, pname, avail, need - avail);
		vmr_error_hint(err,
			       "reserve them: echo N > %s/kernel/mm/hugepages/"
			       "hugepages-%llukB/nr_hugepages",
			       sys, (unsigned long long)(page >> 10));
		return r;
	}
	if (m->has_node) {
		r = vmr_memory_free_hugepages(sys, page, (int)m->numa_node, &avail, err);
		if (r < 0)
			return vmr_error_wrap(err, "guest '%s': memory", p->guest->name);
		if (avail < need) {
			r = vmr_error_usage(err,
					    "guest '%s': memory: %llu %s hugepages needed on NUMA "
					    "node %u, %llu free there: %llu short",
					    p->guest->name, need, pname, m->numa_node, avail,
					    need - avail);
			vmr_error_hint(
			    err,
			    "reserve them: echo N > %s/devices/system/node/node%u/hugepages/"
			    "hugepages-%llukB/nr_hugepages",
			    sys, m->numa_node, (unsigned long long)(page >> 10));
			return r;
		}
	}
	return 0;
}

const struct vmr_device_ops vmr_device_memory = {
    .name = "memory",
    .cls = VMR_DEVICE_GUEST,
    .summary = "guest RAM in hugepages, on a host NUMA node, preallocated",
    .conf_size = sizeof(struct memory),
    .parse = memory_parse,
    .keys = keys,
    .check = memory_check,
    .map_only = true,
    .host_only = true,
    .plan = memory_plan,
    .argv = memory_argv,
    .grants = memory_grants,
    .preflight = memory_preflight,
};
