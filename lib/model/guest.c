/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A guest of the topology: its keys (one table), its disks and NICs (a
 * table of common keys each, and a device for the bus or attachment), and
 * the devices its keys add.  Every rule of docs/topology.md that concerns
 * one guest is checked here; rules across guests are in topology.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lib/base/buf.h"
#include "lib/base/util.h"
#include "lib/model/topology_internal.h"

static const char *const accel_names[] = {"auto", "kvm", "tcg", NULL};
static const char *const format_names[] = {"auto", "qcow2", "raw", NULL};
static const char *const cache_names[] = {"default",	"none",	  "writeback", "writethrough",
					  "directsync", "unsafe", NULL};
static const char *const aio_names[] = {"default", "threads", "native", "io_uring", NULL};
static const char *const restart_names[] = {"no", "on-failure", "always", NULL};
static const char *const ready_names[] = {"running", "console", "cloud-init", "tcp", "agent", NULL};

const char *vmr_accel_name(enum vmr_accel a)
{
	return (unsigned)a < ARRAY_SIZE(accel_names) - 1 ? accel_names[a] : "?";
}

const char *vmr_restart_name(enum vmr_restart r)
{
	return (unsigned)r < ARRAY_SIZE(restart_names) - 1 ? restart_names[r] : "?";
}

char *vmr_ready_text(const struct vmr_ready *r)
{
	const char *name =
	    (unsigned)r->kind < ARRAY_SIZE(ready_names) - 1 ? ready_names[r->kind] : "?";

	switch (r->kind) {
	case VMR_READY_CONSOLE:
		return xasprintf("%s: %s", name, r->regex);
	case VMR_READY_TCP:
		return strchr(r->address ? r->address : "", ':')
			   ? xasprintf("%s: [%s]:%u", name, r->address, r->port)
			   : xasprintf("%s: %s:%u", name, r->address ? r->address : "?", r->port);
	default:
		return xstrdup(name);
	}
}

bool vmr_guest_has_agent(const struct vmr_guest *g)
{
	for (size_t i = 0; i < g->ndevices; i++)
		if (g->devices[i].ops && g->devices[i].ops->guest_agent)
			return true;
	return false;
}

const char *vmr_disk_cache_name(enum vmr_disk_cache c)
{
	return (unsigned)c < ARRAY_SIZE(cache_names) - 1 ? cache_names[c] : "?";
}

const char *vmr_disk_aio_name(enum vmr_disk_aio a)
{
	return (unsigned)a < ARRAY_SIZE(aio_names) - 1 ? aio_names[a] : "?";
}

enum vmr_disk_format vmr_disk_effective_format(const struct vmr_disk *d)
{
	size_t n;

	if (d->format != VMR_FORMAT_AUTO)
		return d->format;
	if (d->cdrom)
		return VMR_FORMAT_RAW;
	if (d->backing)
		return VMR_FORMAT_QCOW2;
	n = d->file ? strlen(d->file) : 0;
	if (n >= 6 && streq(d->file + n - 6, ".qcow2"))
		return VMR_FORMAT_QCOW2;
	return VMR_FORMAT_RAW;
}

/* The kinds of one class, in registry order. */
static size_t kinds_of(struct loader *L, enum vmr_device_class cls,
		       const struct vmr_device_ops **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; L->kinds && L->kinds[i]; i++)
		if (L->kinds[i]->cls == cls && n < max)
			out[n++] = L->kinds[i];
	return n;
}

#define MAX_KINDS 64

/* Make d a device of kind ops at pos, its conf initialised. */
static void device_init(struct vmr_device *d, const struct vmr_device_ops *ops, struct vmr_pos pos)
{
	d->ops = ops;
	d->pos = pos;
	d->conf = xcalloc(1, ops->conf_size ? ops->conf_size : 1);
	if (ops->init)
		ops->init(d->conf);
}

void vmr_device_free(struct vmr_device *d)
{
	if (!d || !d->ops)
		return;
	vmr_keys_free(d->ops->keys, d->conf);
	if (d->ops->free)
		d->ops->free(d->conf);
	free(d->conf);
	d->conf = NULL;
	d->ops = NULL;
}

/*
 * The selecting key's value: ops->parse, or true/false for a kind without
 * one.  Returns 1 for a device, 0 for none (false), -1 when invalid.
 */
static int device_value(struct vmr_keyctx *c, struct vmr_device *d, const struct vmr_ynode *n)
{
	bool b;

	if (d->ops->toggle && n->type == VMR_YNODE_MAP)
		return !d->ops->parse || d->ops->parse(c, n, d->conf) ? 1 : -1;
	if (d->ops->toggle && n->type == VMR_YNODE_SCALAR &&
	    (streq(n->value, "true") || streq(n->value, "false"))) {
		if (!vmr_key_bool(c, n, d->ops->name, &b))
			return -1;
		return b ? 1 : 0;
	}
	if (d->ops->toggle) {
		VMR_KEY_ERR(c, n->pos, NULL, "%s: '%s' must be true, false or a mapping", c->ctx,
			    d->ops->name);
		return -1;
	}
	if (d->ops->parse)
		return d->ops->parse(c, n, d->conf) ? 1 : -1;
	if (!vmr_key_bool(c, n, d->ops->name, &b))
		return -1;
	return b ? 1 : 0;
}

/* ---- disks ---- */

/* "macvtap and vf": the kinds whose keys include key */
static char *kinds_with_key(const struct vmr_device_ops *const *k, size_t nk, const char *key)
{
	const char *names[MAX_KINDS];
	size_t n = 0;

	for (size_t i = 0; i < nk; i++)
		if (vmr_keys_find(k[i]->keys, key))
			names[n++] = k[i]->name;
	return n ? vmr_key_join(names, n, " and ") : NULL;
}

static void str_free(void *field)
{
	free(*(char **)field);
	*(char **)field = NULL;
}

static json_t *str_json(const void *field)
{
	const char *s = *(char *const *)field;

	return s ? json_string(s) : json_null();
}

/* a disk's common keys; its bus device may add its own */
static const struct vmr_key disk_keys[] = {
    {.name = "file",
     .type = VMR_KEY_STR,
     .off = offsetof(struct vmr_disk, file),
     .flags = VMR_KEY_HW},
    {.name = "format",
     .type = VMR_KEY_ENUM,
     .off = offsetof(struct vmr_disk, format),
     .flags = VMR_KEY_HW,
     .names = format_names + 1,
     .base = 1,
     .shown = format_names},
    {.name = "backing",
     .type = VMR_KEY_STR,
     .off = offsetof(struct vmr_disk, backing),
     .flags = VMR_KEY_HW},
    {.name = "size",
     .type = VMR_KEY_SIZE,
     .off = offsetof(struct vmr_disk, size),
     .flags = VMR_KEY_HW,
     .min = 1ull << 20},
    {.name = "bus",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct vmr_disk, bus_name),
     .free = str_free},
    {.name = "cache",
     .type = VMR_KEY_ENUM,
     .off = offsetof(struct vmr_disk, cache),
     .names = cache_names + 1,
     .base = 1,
     .shown = cache_names},
    {.name = "aio",
     .type = VMR_KEY_ENUM,
     .off = offsetof(struct vmr_disk, aio),
     .names = aio_names + 1,
     .base = 1,
     .shown = aio_names},
    {.name = "readonly",
     .type = VMR_KEY_BOOL,
     .off = offsetof(struct vmr_disk, readonly),
     .flags = VMR_KEY_HW},
    VMR_KEYS_END,
};

/* Keys a disk may have: its own and every disk kind's, for "unknown key". */
static const char **disk_known(struct loader *L, size_t *ret_n)
{
	const struct vmr_device_ops *k[MAX_KINDS];
	size_t nk = kinds_of(L, VMR_DEVICE_DISK, k, MAX_KINDS), n = 0, m;
	const char **own = vmr_keys_names(disk_keys, &m), **v;

	v = xcalloc(m + 16 * nk + 1, sizeof(*v));
	for (size_t i = 0; i < m; i++)
		v[n++] = own[i];
	for (size_t i = 0; i < nk; i++) {
		if (k[i]->keyed)
			v[n++] = k[i]->name;
		for (const struct vmr_key *key = k[i]->keys; key && key->name && n < m + 16 * nk;
		     key++)
			v[n++] = key->name;
	}
	free(own);
	*ret_n = n;
	return v;
}

static void disk_load(struct loader *L, const struct vmr_guest *g, struct vmr_disk *d,
		      const struct vmr_ynode *map, const char *gctx, size_t idx)
{
	_cleanup_free_ char *ctx = xasprintf("%s disk #%zu", gctx, idx + 1);
	struct vmr_keyctx kc = loader_ctx(L, ctx), gkc = loader_ctx(L, gctx);
	const struct vmr_device_ops *k[MAX_KINDS], *kind = NULL;
	_cleanup_free_ const char **known = NULL, **buses = NULL;
	const struct vmr_ynode *n, *cd = NULL, *bus;
	size_t nk, nknown, nbuses = 0;
	unsigned v;

	d->pos = map->pos;
	if (!vmr_key_want_map(&gkc, map, "disks"))
		return;
	known = disk_known(L, &nknown);
	vmr_key_check_unknown(&kc, map, known, nknown);
	nk = kinds_of(L, VMR_DEVICE_DISK, k, MAX_KINDS);
	buses = xcalloc(nk + 1, sizeof(*buses));
	for (size_t i = 0; i < nk; i++) {
		/* keyed kinds are selected by their own key (cdrom: PATH), buses by `bus` */
		if (k[i]->keyed) {
			if ((n = vmr_key_get(map, k[i]->name)) && !cd) {
				cd = n;
				kind = k[i];
			}
		} else {
			buses[nbuses++] = k[i]->name;
		}
	}
	if (cd) {
		d->cdrom = true;
		d->readonly = true;
		vmr_key_str(&kc, cd, kind->name, &d->file);
		for (size_t i = 0; i < map->n; i++) {
			const struct vmr_ypair *p = &map->pairs[i];

			if (!p->skip && !vmr_ynode_is_null(p->value) &&
			    !streq(p->key->value, kind->name) &&
			    vmr_keys_find(disk_keys, p->key->value))
				ERR(L, p->key->pos, NULL, "%s: key '%s' does not apply to a %s",
				    ctx, p->key->value, kind->name);
		}
		device_init(&d->bus, kind, cd->pos);
	} else {
		n = vmr_key_get(map, "file");
		if (n)
			vmr_key_str(&kc, n, "file", &d->file);
		else
			ERR(L, map->pos, NULL, "%s: missing 'file' (or 'cdrom')", ctx);
		bus = vmr_key_get(map, "bus");
		kind = NULL;
		if (bus && vmr_key_enum(&kc, bus, "bus", buses, nbuses, &v)) {
			d->bus_name = xstrdup(buses[v]);
			for (size_t i = 0; i < nk && !kind; i++)
				if (streq(k[i]->name, buses[v]))
					kind = k[i];
		} else if (!bus && nbuses) {
			for (size_t i = 0; i < nk && !kind; i++)
				if (!k[i]->keyed)
					kind = k[i]; /* the first bus is the default: virtio */
		}
		for (const struct vmr_key *key = disk_keys; key->name; key++) {
			if (streq(key->name, "file") || streq(key->name, "bus"))
				continue;
			if ((n = vmr_key_get(map, key->name)))
				vmr_key_parse(&kc, key, n, d);
		}
		if (kind)
			device_init(&d->bus, kind, bus ? bus->pos : map->pos);
	}
	if (d->bus.ops) {
		struct vmr_devcheck dc = {.kc = &kc, .guest = g, .disk = d, .map = map};

		/* keys of other disk kinds (a null is no value) */
		for (size_t i = 0; i < map->n; i++) {
			const struct vmr_ypair *p = &map->pairs[i];
			_cleanup_free_ char *which = NULL;

			if (p->skip || vmr_ynode_is_null(p->value) ||
			    vmr_keys_find(disk_keys, p->key->value) ||
			    vmr_keys_find(d->bus.ops->keys, p->key->value))
				continue;
			which = kinds_with_key(k, nk, p->key->value);
			if (which)
				ERR(L, p->key->pos, NULL,
				    "%s: key '%s' does not apply to a '%s' disk (only %s)", ctx,
				    p->key->value, d->bus.ops->name, which);
		}

		vmr_keys_parse(&kc, d->bus.ops->keys, map, d->bus.conf);
		if (d->bus.ops->check)
			d->bus.ops->check(&dc, &d->bus);
	}
	if (d->cdrom)
		return;
	if (d->backing && d->format == VMR_FORMAT_RAW)
		ERR(L, vmr_key_get(map, "format")->pos, NULL,
		    "%s: format 'raw' cannot have a backing image (overlays are qcow2)", ctx);
	if ((n = vmr_key_get(map, "size")) && d->readonly && !d->backing)
		ERR(L, n->pos, NULL,
		    "%s: 'size' creates or grows the image, which a readonly disk cannot be", ctx);
	if (d->backing && d->readonly)
		ERR(L, vmr_key_get(map, "backing")->pos, NULL,
		    "%s: an overlay on 'backing' cannot be readonly", ctx);
	if (d->aio == VMR_AIO_NATIVE && d->cache != VMR_CACHE_NONE &&
	    d->cache != VMR_CACHE_DIRECTSYNC)
		ERR(L, vmr_key_get(map, "aio")->pos, "add 'cache: none'",
		    "%s: aio 'native' needs cache 'none' or 'directsync' (O_DIRECT)", ctx);
}

static void disk_free(struct vmr_disk *d)
{
	vmr_keys_free(disk_keys, d);
	vmr_device_free(&d->bus);
}

/* ---- NICs ---- */

static bool nic_mac_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field, void *obj)
{
	struct vmr_nic *nic = obj;
	char buf[18];

	(void)field;
	nic->mac_pos = n->pos;
	if (!vmr_key_want_scalar(c, n, "mac"))
		return false;
	if (vmr_mac_parse(n->value, &nic->mac) < 0) {
		VMR_KEY_ERR(c, n->pos, NULL, "%s: invalid MAC address '%s'", c->ctx, n->value);
		return false;
	}
	if (vmr_mac_is_multicast(&nic->mac)) {
		VMR_KEY_ERR(c, n->pos, "the lowest bit of the first byte must be 0",
			    "%s: MAC address '%s' is multicast (a guest needs a unicast MAC)",
			    c->ctx, vmr_mac_format(&nic->mac, buf));
		return false;
	}
	if (vmr_mac_is_zero(&nic->mac)) {
		VMR_KEY_ERR(c, n->pos, NULL, "%s: MAC address '%s' is all zeros", c->ctx, n->value);
		return false;
	}
	nic->mac_given = true;
	return true;
}

static json_t *nic_mac_json(const void *field)
{
	char buf[18];

	return json_string(vmr_mac_format(field, buf));
}

static bool nic_ip_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field, void *obj)
{
	struct vmr_nic *nic = obj;

	(void)field;
	if (!vmr_key_want_scalar(c, n, "ip"))
		return false;
	if (vmr_cidr_parse(n->value, &nic->ip) < 0) {
		VMR_KEY_ERR(c, n->pos, "write ADDRESS/PREFIX, e.g. 172.25.160.3/24",
			    "%s: invalid address '%s' for 'ip'", c->ctx, n->value);
		return false;
	}
	nic->has_ip = true;
	return true;
}

static json_t *nic_ip_json(const void *field)
{
	const struct vmr_nic *nic =
	    (const struct vmr_nic *)((const char *)field - offsetof(struct vmr_nic, ip));
	char buf[64];

	return nic->has_ip ? json_string(vmr_cidr_format(&nic->ip, buf)) : json_null();
}

static bool nic_gateway_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field,
			      void *obj)
{
	struct vmr_nic *nic = obj;
	struct in6_addr a;
	int fam;

	if (!vmr_key_str(c, n, "gateway", field))
		return false;
	fam = inet_pton(AF_INET, nic->gateway, &a) == 1	   ? AF_INET
	      : inet_pton(AF_INET6, nic->gateway, &a) == 1 ? AF_INET6
							   : 0;
	if (!fam)
		VMR_KEY_ERR(c, n->pos, NULL, "%s: invalid gateway address '%s'", c->ctx,
			    nic->gateway);
	else if (!nic->has_ip)
		VMR_KEY_ERR(c, n->pos, NULL, "%s: 'gateway' needs 'ip'", c->ctx);
	else if (fam != nic->ip.family)
		VMR_KEY_ERR(c, n->pos, NULL, "%s: gateway '%s' is not of the family of ip", c->ctx,
			    nic->gateway);
	return fam != 0;
}

/* a NIC's common keys, in this order: ip before gateway, which checks it */
static const struct vmr_key nic_keys[] = {
    {.name = "name",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct vmr_nic, name),
     .flags = VMR_KEY_HW,
     .free = str_free,
     .json = str_json},
    {.name = "mac",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct vmr_nic, mac),
     .flags = VMR_KEY_HW,
     .parse = nic_mac_parse,
     .json = nic_mac_json},
    {.name = "ip",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct vmr_nic, ip),
     .flags = VMR_KEY_HW,
     .parse = nic_ip_parse,
     .json = nic_ip_json},
    {.name = "gateway",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct vmr_nic, gateway),
     .flags = VMR_KEY_HW,
     .parse = nic_gateway_parse,
     .free = str_free,
     .json = str_json},
    {.name = "mtu",
     .type = VMR_KEY_UINT,
     .off = offsetof(struct vmr_nic, mtu),
     .flags = VMR_KEY_HW,
     .min = 68,
     .max = 65535},
    {.name = "ipv6_auto", .type = VMR_KEY_BOOL, .off = offsetof(struct vmr_nic, ipv6_auto)},
    VMR_KEYS_END,
};

static void nic_load(struct loader *L, const struct vmr_guest *g, struct vmr_nic *nic,
		     const struct vmr_ynode *map, const char *gctx, size_t idx)
{
	const struct vmr_device_ops *k[MAX_KINDS], *kind = NULL;
	struct vmr_keyctx gkc = loader_ctx(L, gctx), kc;
	const struct vmr_ynode *n, *attach = NULL;
	_cleanup_free_ const char **known = NULL;
	_cleanup_free_ char *ctx = NULL;
	size_t nk, nknown = 0;

	nic->pos = map->pos;
	nic->mac_pos = map->pos;
	if (!vmr_key_want_map(&gkc, map, "nics"))
		return;
	n = vmr_key_get(map, "name");
	if (n && vmr_key_want_scalar(&gkc, n, "name")) {
		nic->name = xstrdup(n->value);
		ctx = xasprintf("%s nic '%s'", gctx, nic->name);
		if (!vmr_nic_name_valid(nic->name))
			ERR(L, n->pos, NULL,
			    "%s: invalid nic name '%s' (expected [a-z][a-z0-9]{0,14})", gctx,
			    nic->name);
	} else {
		ctx = xasprintf("%s nic #%zu", gctx, idx + 1);
		ERR(L, n ? n->pos : map->pos, NULL, "%s: missing 'name'", ctx);
	}
	kc = loader_ctx(L, ctx);

	/* every key some NIC may have: the common ones, each kind's and its keys */
	nk = kinds_of(L, VMR_DEVICE_NIC, k, MAX_KINDS);
	known = vmr_keys_names(nic_keys, &nknown);
	for (size_t i = 0; i < nk; i++) {
		known = xrealloc(known, (nknown + 1) * sizeof(*known));
		known[nknown++] = k[i]->name;
	}
	for (size_t i = 0; i < nk; i++)
		for (const struct vmr_key *key = k[i]->keys; key && key->name; key++) {
			bool dup = false;

			for (size_t j = 0; j < nknown && !dup; j++)
				dup = streq(known[j], key->name);
			if (dup)
				continue;
			known = xrealloc(known, (nknown + 1) * sizeof(*known));
			known[nknown++] = key->name;
		}
	vmr_key_check_unknown(&kc, map, known, nknown);

	/* exactly one attachment; a second one is reported where it is written */
	for (size_t i = 0; i < map->n; i++) {
		const struct vmr_ypair *p = &map->pairs[i];

		if (p->skip)
			continue;
		for (size_t j = 0; j < nk; j++) {
			if (!streq(p->key->value, k[j]->name))
				continue;
			if (attach) {
				ERR(L, p->key->pos,
				    "a nic has exactly one attachment; use a second nic",
				    "%s: two attachments '%s' and '%s'", ctx, kind->name,
				    k[j]->name);
				continue;
			}
			attach = p->value;
			kind = k[j];
		}
	}
	if (!attach) {
		_cleanup_free_ const char **names = xcalloc(nk + 1, sizeof(*names));
		_cleanup_free_ char *list = NULL;

		for (size_t i = 0; i < nk; i++)
			names[i] = k[i]->name;
		list = vmr_key_join(names, nk, " or ");
		ERR(L, map->pos, NULL, "%s: no attachment (one of %s)", ctx, list);
		return;
	}
	/* keys of other kinds (a null is no value) */
	for (size_t i = 0; i < map->n; i++) {
		const struct vmr_ypair *p = &map->pairs[i];
		_cleanup_free_ char *which = NULL;

		if (p->skip || vmr_ynode_is_null(p->value) ||
		    vmr_keys_find(nic_keys, p->key->value) ||
		    vmr_keys_find(kind->keys, p->key->value))
			continue;
		which = kinds_with_key(k, nk, p->key->value);
		if (which)
			ERR(L, p->key->pos, NULL,
			    "%s: key '%s' does not apply to a '%s' nic (only %s)", ctx,
			    p->key->value, kind->name, which);
	}

	device_init(&nic->att, kind, attach->pos);
	device_value(&kc, &nic->att, attach);
	for (const struct vmr_key *key = nic_keys; key->name; key++)
		if (!streq(key->name, "name") && (n = vmr_key_get(map, key->name)))
			vmr_key_parse(&kc, key, n, nic);
	if (!nic->mac_given && nic->name)
		vmr_mac_derive(g->name, nic->name, &nic->mac);
	vmr_keys_parse(&kc, kind->keys, map, nic->att.conf);
	if (kind->check) {
		struct vmr_devcheck dc = {.kc = &kc, .guest = g, .nic = nic, .map = map};

		kind->check(&dc, &nic->att);
	}
}

static void nic_free(struct vmr_nic *nic)
{
	vmr_keys_free(nic_keys, nic);
	vmr_device_free(&nic->att);
}

/* ---- cloud-init ---- */

static bool hostname_ok(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-')
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

bool vmr_host_address_valid(const char *s)
{
	struct in6_addr a;

	return s && (hostname_ok(s) || inet_pton(AF_INET6, s, &a) == 1);
}

static bool ci_hostname_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field,
			      void *obj)
{
	(void)obj;
	if (!vmr_key_str(c, n, "hostname", field))
		return false;
	if (hostname_ok(*(char **)field))
		return true;
	VMR_KEY_ERR(c, n->pos, NULL, "%s: invalid hostname '%s'", c->ctx, *(char **)field);
	return false;
}

static bool ci_keys_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field, void *obj)
{
	struct vmr_cloud_init *ci = obj;

	ci->ssh_keys_given = vmr_key_strlist(c, n, "ssh_authorized_keys", field);
	return ci->ssh_keys_given;
}

static void strvec_free(void *field)
{
	vmr_strvec_clear(field);
}

static const struct vmr_key cloud_init_keys[] = {
    {.name = "user_data", .type = VMR_KEY_STR, .off = offsetof(struct vmr_cloud_init, user_data)},
    {.name = "ssh_authorized_keys",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct vmr_cloud_init, ssh_authorized_keys),
     .parse = ci_keys_parse,
     .free = strvec_free},
    {.name = "password", .type = VMR_KEY_STR, .off = offsetof(struct vmr_cloud_init, password)},
    {.name = "hostname",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct vmr_cloud_init, hostname),
     .parse = ci_hostname_parse,
     .free = str_free},
    VMR_KEYS_END,
};

/* `cloud_init: true|false` or a mapping of its settings */
static bool cloud_init_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field,
			     void *obj)
{
	struct vmr_cloud_init *ci = field;
	_cleanup_free_ const char **names = NULL;
	size_t nnames;
	bool b;

	(void)obj;
	if (n->type == VMR_YNODE_SCALAR) {
		if (!vmr_key_bool(c, n, "cloud_init", &b))
			return false;
		ci->enabled = b;
		ci->given = true;
		return true;
	}
	if (!vmr_key_want_map(c, n, "cloud_init"))
		return false;
	ci->enabled = true;
	ci->given = true;
	names = vmr_keys_names(cloud_init_keys, &nnames);
	vmr_key_check_unknown(c, n, names, nnames);
	vmr_keys_parse(c, cloud_init_keys, n, ci);
	return true;
}

static void cloud_init_free(void *field)
{
	vmr_keys_free(cloud_init_keys, field);
}

/* ---- the guest's keys ---- */

static bool cpuset_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field, void *obj)
{
	struct vmr_guest *g = obj;
	_cleanup_free_ char *bad = NULL;
	const char *why = NULL;

	if (!vmr_key_want_scalar(c, n, "cpuset"))
		return false;
	g->cpuset_pos = n->pos;
	vmr_cpuset_free(field);
	g->has_cpuset = false;
	if (vmr_cpuset_parse(n->value, field, &bad, &why) < 0) {
		VMR_KEY_ERR(c, n->pos, NULL, "%s: %s '%s' in cpuset '%s'", c->ctx, why, bad,
			    n->value);
		return false;
	}
	if (g->cpuset.n > VMR_GUEST_VCPUS_MAX) {
		/* one vCPU per CPU: the same limit as vcpus */
		VMR_KEY_ERR(c, n->pos, NULL, "%s: cpuset '%s' has %zu CPUs, at most %u vCPUs",
			    c->ctx, n->value, g->cpuset.n, VMR_GUEST_VCPUS_MAX);
		vmr_cpuset_free(field);
		return false;
	}
	g->has_cpuset = true;
	return true;
}

static void cpuset_free(void *field)
{
	vmr_cpuset_free(field);
}

/* `restart: no|on-failure|always`, or `on-failure:N` (at most N restarts in a row) */
static bool restart_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field, void *obj)
{
	struct vmr_guest *g = obj;
	unsigned v;

	if (!vmr_key_want_scalar(c, n, "restart"))
		return false;
	if (startswith(n->value, "on-failure:")) {
		const char *num = n->value + strlen("on-failure:");
		char *end = NULL;
		unsigned long long max;

		errno = 0;
		max = strtoull(num, &end, 10);
		if (!*num || *end || errno || !isdigit((unsigned char)*num) || max < 1 ||
		    max > 1000000) {
			VMR_KEY_ERR(c, n->pos, "write on-failure:N with N from 1 to 1000000",
				    "%s: invalid restart policy '%s'", c->ctx, n->value);
			return false;
		}
		g->restart = VMR_RESTART_ON_FAILURE;
		g->restart_max = (unsigned)max;
		return true;
	}
	if (!vmr_key_enum(c, n, "restart", restart_names, ARRAY_SIZE(restart_names) - 1, &v))
		return false;
	*(enum vmr_restart *)field = (enum vmr_restart)v;
	g->restart_max = 0;
	return true;
}

static json_t *restart_json(const void *field)
{
	const struct vmr_guest *g =
	    (const struct vmr_guest *)((const char *)field - offsetof(struct vmr_guest, restart));

	if (g->restart == VMR_RESTART_ON_FAILURE && g->restart_max)
		return json_sprintf("on-failure:%u", g->restart_max);
	return json_string(vmr_restart_name(g->restart));
}

/* "ADDRESS:PORT" or "[V6]:PORT" of `tcp:`; the address without brackets */
static bool tcp_target_parse(const char *s, char **ret_addr, unsigned *ret_port)
{
	const char *colon, *a = s, *ae;
	unsigned long long port;
	struct in6_addr tmp;
	_cleanup_free_ char *addr = NULL;
	char *end = NULL;

	if (*s == '[') {
		ae = strchr(s, ']');
		if (!ae || ae[1] != ':')
			return false;
		a = s + 1;
		colon = ae + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return false;
		ae = colon;
	}
	addr = xstrndup(a, (size_t)(ae - a));
	if (inet_pton(*s == '[' ? AF_INET6 : AF_INET, addr, &tmp) != 1)
		return false;
	errno = 0;
	port = strtoull(colon + 1, &end, 10);
	if (!isdigit((unsigned char)colon[1]) || *end || errno || port < 1 || port > 65535)
		return false;
	*ret_addr = TAKE_PTR(addr);
	*ret_port = (unsigned)port;
	return true;
}

/*
 * `ready_when:` running | cloud-init | agent, or a mapping of one key:
 * {console: REGEX} (POSIX extended, matched against each console line) or
 * {tcp: PORT | ADDRESS:PORT}.
 */
static bool ready_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field, void *obj)
{
	struct vmr_ready *r = field;
	const struct vmr_ypair *p;
	const struct vmr_ynode *v;
	unsigned k;

	free(r->regex);
	free(r->address);
	*r = (struct vmr_ready){.pos = n->pos};
	(void)obj;
	if (n->type == VMR_YNODE_SCALAR) {
		static const char *const simple[] = {"running", "cloud-init", "agent"};
		static const enum vmr_ready_kind kinds[] = {VMR_READY_RUNNING, VMR_READY_CLOUD_INIT,
							    VMR_READY_AGENT};

		for (size_t i = 0; i < ARRAY_SIZE(simple); i++)
			if (streq(n->value, simple[i])) {
				r->kind = kinds[i];
				if (r->kind == VMR_READY_CLOUD_INIT)
					r->regex = xstrdup(VMR_READY_CLOUD_INIT_REGEX);
				return true;
			}
		if (streq(n->value, "console") || streq(n->value, "tcp")) {
			VMR_KEY_ERR(c, n->pos,
				    streq(n->value, "tcp") ? "write ready_when: {tcp: PORT}"
							   : "write ready_when: {console: REGEX}",
				    "%s: ready_when '%s' needs its value", c->ctx, n->value);
			return false;
		}
		if (!vmr_key_enum(c, n, "ready_when", ready_names, ARRAY_SIZE(ready_names) - 1, &k))
			return false;
		return false;
	}
	if (n->type != VMR_YNODE_MAP || n->n != 1) {
		VMR_KEY_ERR(c, n->pos,
			    "write running, cloud-init, agent, {console: REGEX} or {tcp: PORT}",
			    "%s: 'ready_when' must be a word or a mapping of one key", c->ctx);
		return false;
	}
	p = &n->pairs[0];
	v = p->value;
	if (streq(p->key->value, "console")) {
		regex_t re;
		int rc;

		if (!vmr_key_want_scalar(c, v, "console"))
			return false;
		if (!*v->value) {
			VMR_KEY_ERR(c, v->pos, NULL,
				    "%s: ready_when console: empty regular expression", c->ctx);
			return false;
		}
		rc = regcomp(&re, v->value, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char why[256];

			regerror(rc, &re, why, sizeof(why));
			VMR_KEY_ERR(c, v->pos, "a POSIX extended regular expression (regcomp)",
				    "%s: ready_when console: invalid regular expression '%s': %s",
				    c->ctx, v->value, why);
			return false;
		}
		regfree(&re);
		r->kind = VMR_READY_CONSOLE;
		r->regex = xstrdup(v->value);
		return true;
	}
	if (streq(p->key->value, "tcp")) {
		if (!vmr_key_want_scalar(c, v, "tcp"))
			return false;
		if (v->plain && isdigit((unsigned char)v->value[0]) && !strchr(v->value, ':')) {
			if (!vmr_key_uint(c, v, "tcp", 1, 65535, &r->port))
				return false;
		} else if (!tcp_target_parse(v->value, &r->address, &r->port)) {
			VMR_KEY_ERR(c, v->pos, "write PORT, ADDRESS:PORT or [IPV6]:PORT",
				    "%s: ready_when tcp: invalid target '%s'", c->ctx, v->value);
			return false;
		} else {
			r->addr_given = true;
		}
		r->kind = VMR_READY_TCP;
		return true;
	}
	{
		static const char *const keys[] = {"console", "tcp"};
		_cleanup_free_ char *hint = vmr_key_suggest(p->key->value, keys, ARRAY_SIZE(keys));

		VMR_KEY_ERR(c, p->key->pos, hint ? hint : "console or tcp",
			    "%s: unknown ready_when condition '%s'", c->ctx, p->key->value);
	}
	return false;
}

static void ready_free(void *field)
{
	struct vmr_ready *r = field;

	free(r->regex);
	free(r->address);
	*r = (struct vmr_ready){0};
}

static json_t *ready_json(const void *field)
{
	_cleanup_free_ char *t = vmr_ready_text(field);

	return json_string(t);
}

/* disks and nics are lists; guest_load() loads their items */
static bool disks_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field, void *obj)
{
	(void)field;
	(void)obj;
	return vmr_key_want_seq(c, n, "disks");
}

static bool nics_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field, void *obj)
{
	(void)field;
	(void)obj;
	return vmr_key_want_seq(c, n, "nics");
}

/*
 * `memory: 8G`, or `memory: {size: 8G, ...}`: the size is the guest's; the
 * other keys of the mapping belong to the memory device kind
 * (lib/devices/memory.c, selected only by a mapping).
 */
static bool memory_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field, void *obj)
{
	const struct vmr_ynode *size;

	(void)obj;
	if (n->type != VMR_YNODE_MAP)
		return vmr_key_size(c, n, "memory", VMR_GUEST_MEMORY_MIN, field);
	size = vmr_key_get(n, "size");
	if (!size) {
		VMR_KEY_ERR(c, n->pos, "write memory: {size: 8G, ...}", "%s: 'memory' needs 'size'",
			    c->ctx);
		return false;
	}
	return vmr_key_size(c, size, "size", VMR_GUEST_MEMORY_MIN, field);
}

static json_t *memory_json(const void *field)
{
	return json_integer((json_int_t) * (const uint64_t *)field);
}

static const struct vmr_key guest_keys[] = {
    {.name = "host",
     .type = VMR_KEY_STR,
     .off = offsetof(struct vmr_guest, host),
     .flags = VMR_KEY_POS,
     .pos_off = offsetof(struct vmr_guest, host_pos)},
    {.name = "cpuset",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct vmr_guest, cpuset),
     .parse = cpuset_parse,
     .free = cpuset_free},
    {.name = "vcpus",
     .type = VMR_KEY_UINT,
     .off = offsetof(struct vmr_guest, vcpus),
     .flags = VMR_KEY_HW,
     .min = 1,
     .max = VMR_GUEST_VCPUS_MAX},
    {.name = "memory",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct vmr_guest, memory),
     .flags = VMR_KEY_HW,
     .parse = memory_parse,
     .json = memory_json},
    {.name = "accel",
     .type = VMR_KEY_ENUM,
     .off = offsetof(struct vmr_guest, accel),
     .flags = VMR_KEY_HW,
     .names = accel_names},
    {.name = "machine",
     .type = VMR_KEY_STR,
     .off = offsetof(struct vmr_guest, machine),
     .flags = VMR_KEY_HW},
    {.name = "cpu",
     .type = VMR_KEY_STR,
     .off = offsetof(struct vmr_guest, cpu),
     .flags = VMR_KEY_HW},
    {.name = "kernel",
     .type = VMR_KEY_STR,
     .off = offsetof(struct vmr_guest, kernel),
     .flags = VMR_KEY_HW},
    {.name = "initrd",
     .type = VMR_KEY_STR,
     .off = offsetof(struct vmr_guest, initrd),
     .flags = VMR_KEY_HW},
    {.name = "append",
     .type = VMR_KEY_TEXT,
     .off = offsetof(struct vmr_guest, append),
     .flags = VMR_KEY_HW},
    {.name = "image",
     .type = VMR_KEY_STR,
     .off = offsetof(struct vmr_guest, image),
     .flags = VMR_KEY_HW},
    {.name = "disks",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct vmr_guest, disks),
     .parse = disks_parse},
    {.name = "nics",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct vmr_guest, nics),
     .parse = nics_parse},
    {.name = "stop_timeout",
     .type = VMR_KEY_UINT,
     .off = offsetof(struct vmr_guest, stop_timeout),
     .min = 1,
     .max = 3600},
    {.name = "cpu_isolation",
     .type = VMR_KEY_BOOL,
     .off = offsetof(struct vmr_guest, cpu_isolation)},
    {.name = "cloud_init",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct vmr_guest, cloud_init),
     .parse = cloud_init_parse,
     .free = cloud_init_free},
    {.name = "qemu_args",
     .type = VMR_KEY_STRLIST,
     .off = offsetof(struct vmr_guest, qemu_args),
     .flags = VMR_KEY_HW},
    /* the guest does not see these two: they change no instance-id */
    {.name = "ready_when",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct vmr_guest, ready),
     .parse = ready_parse,
     .free = ready_free,
     .json = ready_json},
    {.name = "restart",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct vmr_guest, restart),
     .parse = restart_parse,
     .json = restart_json},
    VMR_KEYS_END,
};

/*
 * A guest key: the guest's own value, else the one from defaults.  Values
 * from defaults were checked (and reported) once on their own, so errors
 * they cause again for each guest are counted but not repeated.
 * *ret_inherited tells which it was.
 */
static const struct vmr_ynode *gkey(struct loader *L, const struct vmr_ynode *own, const char *key,
				    bool *ret_inherited)
{
	const struct vmr_ynode *n = vmr_ymap_get(own, key);

	*ret_inherited = false;
	L->r.muted = false;
	/* a guest's own null clears what defaults would give it */
	if (vmr_ynode_is_null(n))
		return NULL;
	if (!n && L->defaults) {
		n = vmr_key_get(L->defaults, key);
		*ret_inherited = L->r.muted = n != NULL;
	}
	return n;
}

static void guest_devices_load(struct loader *L, struct vmr_guest *g, const struct vmr_ynode *own,
			       const char *ctx)
{
	const struct vmr_device_ops *k[MAX_KINDS];
	size_t nk = kinds_of(L, VMR_DEVICE_GUEST, k, MAX_KINDS);
	struct vmr_keyctx kc = loader_ctx(L, ctx);
	bool inherited;

	for (size_t i = 0; i < nk; i++) {
		const struct vmr_ynode *n = gkey(L, own, k[i]->name, &inherited);
		struct vmr_device d = {0};

		if (!n || (k[i]->map_only && n->type != VMR_YNODE_MAP))
			continue;
		device_init(&d, k[i], n->pos);
		if (device_value(&kc, &d, n) <= 0) {
			vmr_device_free(&d);
			continue;
		}
		if (n->type == VMR_YNODE_MAP && k[i]->keys) {
			/* its own keys: "guest 'a' vnc: unknown key 'prot'" */
			_cleanup_free_ char *dctx = xasprintf("%s %s", ctx, k[i]->name);
			struct vmr_keyctx dkc = loader_ctx(L, dctx);
			_cleanup_free_ const char **names = NULL;
			size_t nnames;

			names = vmr_keys_names(k[i]->keys, &nnames);
			vmr_key_check_unknown(&dkc, n, names, nnames);
			vmr_keys_parse(&dkc, k[i]->keys, n, d.conf);
		}
		if (k[i]->check) {
			struct vmr_devcheck dc = {.kc = &kc, .guest = g, .map = n};

			k[i]->check(&dc, &d);
		}
		g->devices = xrealloc(g->devices, (g->ndevices + 1) * sizeof(*g->devices));
		g->devices[g->ndevices++] = d;
	}
	L->r.muted = false;
}

/* Each device's rules that need the whole guest (ops->check_guest). */
static void guest_check_devices(struct loader *L, const struct vmr_guest *g, const char *ctx)
{
	struct vmr_keyctx kc = loader_ctx(L, ctx);
	struct vmr_devcheck dc = {.kc = &kc, .guest = g};

	for (size_t i = 0; i < g->ndisks; i++)
		if (g->disks[i].bus.ops && g->disks[i].bus.ops->check_guest) {
			dc.disk = &g->disks[i];
			g->disks[i].bus.ops->check_guest(&dc, &g->disks[i].bus);
		}
	dc.disk = NULL;
	for (size_t i = 0; i < g->nnics; i++)
		if (g->nics[i].att.ops && g->nics[i].att.ops->check_guest) {
			dc.nic = &g->nics[i];
			g->nics[i].att.ops->check_guest(&dc, &g->nics[i].att);
		}
	dc.nic = NULL;
	for (size_t i = 0; i < g->ndevices; i++)
		if (g->devices[i].ops->check_guest)
			g->devices[i].ops->check_guest(&dc, &g->devices[i]);
}

void guest_load(struct loader *L, struct vmr_guest *g, const struct vmr_ynode *own, const char *ctx)
{
	const struct vmr_ynode *nodes[ARRAY_SIZE(guest_keys)] = {0}, *n;
	bool inherited[ARRAY_SIZE(guest_keys)] = {0};
	struct vmr_keyctx kc = loader_ctx(L, ctx);
	const struct vmr_device_ops *k[MAX_KINDS];
	_cleanup_free_ const char **known = NULL;
	size_t nknown, nk;
	enum { K_CPUSET = 1, K_VCPUS = 2, K_KERNEL = 7, K_INITRD = 8, K_APPEND = 9 };

	g->memory = 512ull << 20;
	g->stop_timeout = VMR_DEFAULT_STOP_TIMEOUT;
	g->machine = xstrdup("q35");
	if (own) {
		known = vmr_keys_names(guest_keys, &nknown);
		nk = kinds_of(L, VMR_DEVICE_GUEST, k, MAX_KINDS);
		known = xrealloc(known, (nknown + nk + 1) * sizeof(*known));
		for (size_t i = 0; i < nk; i++)
			known[nknown++] = k[i]->name;
		vmr_key_check_unknown(&kc, own, known, nknown);
	}

	for (size_t i = 0; guest_keys[i].name; i++) {
		const struct vmr_key *key = &guest_keys[i];

		n = nodes[i] = gkey(L, own, key->name, &inherited[i]);
		if (!n || !vmr_key_parse(&kc, key, n, g)) {
			nodes[i] = NULL;
			continue;
		}
		if (streq(key->name, "disks")) {
			g->disks = xcalloc(n->n, sizeof(*g->disks));
			for (size_t j = 0; j < n->n; j++) {
				g->ndisks = j + 1;
				disk_load(L, g, &g->disks[j], n->items[j], ctx, j);
			}
		} else if (streq(key->name, "nics")) {
			g->nics = xcalloc(n->n, sizeof(*g->nics));
			for (size_t j = 0; j < n->n; j++) {
				g->nnics = j + 1;
				nic_load(L, g, &g->nics[j], n->items[j], ctx, j);
				for (size_t m = 0; m < j; m++)
					if (g->nics[j].name &&
					    streq(g->nics[j].name, g->nics[m].name))
						ERR(L, g->nics[j].pos, NULL,
						    "%s: nic name '%s' used twice (first at line "
						    "%u)",
						    ctx, g->nics[j].name, g->nics[m].pos.line);
			}
		}
	}
	L->r.muted = false;
	guest_devices_load(L, g, own, ctx);

	/* a guest's own cpuset wins over vcpus from defaults */
	if ((n = nodes[K_VCPUS]) && g->has_cpuset && g->vcpus != g->cpuset.n &&
	    !(inherited[K_VCPUS] && !inherited[K_CPUSET])) {
		L->r.muted = inherited[K_VCPUS] && inherited[K_CPUSET];
		ERR(L, n->pos, "leave out vcpus: the cpuset decides the vCPU count",
		    "%s: vcpus %u does not match the %zu CPUs of its cpuset", ctx, g->vcpus,
		    g->cpuset.n);
	}
	if (g->has_cpuset)
		g->vcpus = (unsigned)g->cpuset.n;
	if (!g->vcpus)
		g->vcpus = 1;
	if ((n = nodes[K_INITRD]) && !g->kernel) {
		L->r.muted = inherited[K_INITRD];
		ERR(L, n->pos, NULL, "%s: 'initrd' needs 'kernel'", ctx);
	}
	if ((n = nodes[K_APPEND]) && !g->kernel) {
		L->r.muted = inherited[K_APPEND];
		ERR(L, n->pos, NULL, "%s: 'append' needs 'kernel'", ctx);
	}
	L->r.muted = false;

	/* static addresses and CPU isolation reach the guest only through the seed */
	if (!g->cloud_init.given) {
		g->cloud_init.enabled = g->cpu_isolation;
		for (size_t i = 0; i < g->nnics; i++)
			if (g->nics[i].has_ip)
				g->cloud_init.enabled = true;
	}
	if (!g->cloud_init.hostname)
		g->cloud_init.hostname = xstrdup(g->name);
	guest_check_devices(L, g, ctx);

	/* ready_when's needs: an address to connect to, an agent to ask */
	if (g->ready.kind == VMR_READY_TCP && !g->ready.address) {
		for (size_t i = 0; i < g->nnics && !g->ready.address; i++) {
			char buf[64], *slash;

			if (!g->nics[i].has_ip)
				continue;
			vmr_cidr_format(&g->nics[i].ip, buf);
			slash = strchr(buf, '/');
			if (slash)
				*slash = '\0';
			g->ready.address = xstrdup(buf);
		}
		if (!g->ready.address)
			ERR(L, g->ready.pos, "give a nic an 'ip:', or write {tcp: ADDRESS:PORT}",
			    "%s: ready_when tcp: %u needs the guest's address, and no nic has 'ip'",
			    ctx, g->ready.port);
	}
	if (g->ready.kind == VMR_READY_AGENT && !vmr_guest_has_agent(g))
		ERR(L, g->ready.pos, "add 'agent: true' (a virtio-serial channel for qemu-ga)",
		    "%s: ready_when agent needs the guest agent channel", ctx);
}

void guest_free(struct vmr_guest *g)
{
	free(g->name);
	vmr_keys_free(guest_keys, g);
	for (size_t i = 0; i < g->ndisks; i++)
		disk_free(&g->disks[i]);
	free(g->disks);
	for (size_t i = 0; i < g->nnics; i++)
		nic_free(&g->nics[i]);
	free(g->nics);
	for (size_t i = 0; i < g->ndevices; i++)
		vmr_device_free(&g->devices[i]);
	free(g->devices);
}

/* ---- what the guest sees ---- */

json_t *vmr_device_json(const struct vmr_device *d, bool hw_only)
{
	json_t *o = json_object();

	json_object_set_new(o, "kind", json_string(d->ops->name));
	if (d->ops->json && !hw_only)
		json_object_set_new(o, "value", d->ops->json(d->conf));
	vmr_keys_json(d->ops->keys, d->conf, hw_only, o);
	return o;
}

json_t *vmr_guest_hw_json(const struct vmr_guest *g)
{
	json_t *o = json_object(), *disks = json_array(), *nics = json_array(),
	       *devs = json_array();

	json_object_set_new(o, "name", json_string(g->name));
	vmr_keys_json(guest_keys, g, true, o);
	for (size_t i = 0; i < g->ndisks; i++) {
		json_t *j = json_object();

		vmr_keys_json(disk_keys, &g->disks[i], true, j);
		json_object_set_new(j, "cdrom", json_boolean(g->disks[i].cdrom));
		json_object_set_new(j, "format",
				    json_integer(vmr_disk_effective_format(&g->disks[i])));
		if (g->disks[i].bus.ops)
			json_object_set_new(j, "bus", vmr_device_json(&g->disks[i].bus, true));
		json_array_append_new(disks, j);
	}
	for (size_t i = 0; i < g->nnics; i++) {
		json_t *j = json_object();

		vmr_keys_json(nic_keys, &g->nics[i], true, j);
		if (g->nics[i].att.ops)
			json_object_set_new(j, "attachment",
					    vmr_device_json(&g->nics[i].att, true));
		json_array_append_new(nics, j);
	}
	for (size_t i = 0; i < g->ndevices; i++)
		if (!g->devices[i].ops->host_only)
			json_array_append_new(devs, vmr_device_json(&g->devices[i], true));
	json_object_set_new(o, "disks", disks);
	json_object_set_new(o, "nics", nics);
	json_object_set_new(o, "devices", devs);
	return o;
}
