/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Topology loading: the YAML tree (yamltree.c) -> struct vmr_topology, with
 * every check of docs/topology.md.  Problems are collected, not returned
 * one by one: a bad value is reported and loading goes on, so the user
 * sees all of them at once.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lib/base/buf.h"
#include "lib/model/topology.h"
#include "lib/base/util.h"
#include "lib/model/yamltree.h"

struct loader {
	struct vmr_yreport r;
	const struct vmr_ynode *defaults; /* NULL while checking defaults themselves */
	struct vmr_topology *t;
};

#define ERR(L, pos, hint, ...) vmr_yreport_add(&(L)->r, (pos), (hint), __VA_ARGS__)

static int diag_cmp(const void *a, const void *b)
{
	const struct vmr_diag *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return 0;
}

/*
 * Sort diagnostics from index `from` on by position, keeping equal ones in
 * order; then say how many were not recorded, last.
 */
static void diags_sort(struct vmr_diags *d, size_t from, unsigned dropped)
{
	/* insertion sort: stable, and there are at most VMR_YREPORT_MAX */
	for (size_t i = from + 1; i < d->n; i++) {
		struct vmr_diag tmp = d->v[i];
		size_t j = i;

		while (j > from && diag_cmp(&d->v[j - 1], &tmp) > 0) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = tmp;
	}
	if (dropped && d->n > from)
		vmr_diags_add(d, d->v[d->n - 1].file, d->v[d->n - 1].line, d->v[d->n - 1].col, NULL,
			      "too many errors, %u more not shown", dropped);
}

/* ---- names of enum values ---- */

static const char *const accel_names[] = {"auto", "kvm", "tcg"};
static const char *const kind_names[] = {"macvtap", "bridge", "tap", "user", "pci", "vf"};
static const char *const mode_names[] = {"bridge", "vepa", "private", "passthru"};
static const char *const format_names[] = {"auto", "qcow2", "raw"};
static const char *const bus_names[] = {"virtio", "scsi", "nvme", "ide"};
static const char *const cache_names[] = {"default",	  "none",	"writeback",
					  "writethrough", "directsync", "unsafe"};
static const char *const aio_names[] = {"default", "threads", "native", "io_uring"};

static const char *enum_name(const char *const *names, size_t n, unsigned v)
{
	return v < n ? names[v] : "?";
}

const char *vmr_accel_name(enum vmr_accel a)
{
	return enum_name(accel_names, ARRAY_SIZE(accel_names), a);
}

const char *vmr_nic_kind_name(enum vmr_nic_kind k)
{
	return enum_name(kind_names, ARRAY_SIZE(kind_names), k);
}

const char *vmr_macvtap_mode_name(enum vmr_macvtap_mode m)
{
	return enum_name(mode_names, ARRAY_SIZE(mode_names), m);
}

const char *vmr_disk_bus_name(enum vmr_disk_bus b)
{
	return enum_name(bus_names, ARRAY_SIZE(bus_names), b);
}

const char *vmr_disk_cache_name(enum vmr_disk_cache c)
{
	return enum_name(cache_names, ARRAY_SIZE(cache_names), c);
}

const char *vmr_disk_aio_name(enum vmr_disk_aio a)
{
	return enum_name(aio_names, ARRAY_SIZE(aio_names), a);
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

/* ---- "did you mean" ---- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (la >= ARRAY_SIZE(row) || lb >= ARRAY_SIZE(row))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best;

			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* "did you mean 'x'?" for the closest candidate, or NULL; caller frees. */
static char *suggest(const char *word, const char *const *cands, size_t n)
{
	size_t best = SIZE_MAX, limit = strlen(word) <= 4 ? 1 : 2;
	const char *pick = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, cands[i]);

		if (d < best) {
			best = d;
			pick = cands[i];
		}
	}
	if (!pick || best > limit)
		return NULL;
	return xasprintf("did you mean '%s'?", pick);
}

/* "a, b or c" */
static char *join_names(const char *const *names, size_t n)
{
	struct vmr_buf b = VMR_BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		if (i)
			vmr_buf_adds(&b, i + 1 == n ? " or " : ", ");
		vmr_buf_adds(&b, names[i]);
	}
	return vmr_buf_detach(&b);
}

/* ---- typed values ---- */

/* The value of key in map; a null value counts as absent (docs/topology.md). */
static struct vmr_ynode *yget(const struct vmr_ynode *map, const char *key)
{
	struct vmr_ynode *n = vmr_ymap_get(map, key);

	return vmr_ynode_is_null(n) ? NULL : n;
}

static bool want_map(struct loader *L, const struct vmr_ynode *n, const char *ctx, const char *key)
{
	if (n->type == VMR_YNODE_MAP)
		return true;
	ERR(L, n->pos, NULL, "%s: '%s' must be a mapping, not %s", ctx, key, vmr_ynode_kind(n));
	return false;
}

static bool want_seq(struct loader *L, const struct vmr_ynode *n, const char *ctx, const char *key)
{
	if (n->type == VMR_YNODE_SEQ)
		return true;
	ERR(L, n->pos, NULL, "%s: '%s' must be a list, not %s", ctx, key, vmr_ynode_kind(n));
	return false;
}

static bool want_scalar(struct loader *L, const struct vmr_ynode *n, const char *ctx,
			const char *key)
{
	if (n->type == VMR_YNODE_SCALAR)
		return true;
	ERR(L, n->pos, NULL, "%s: '%s' must be a single value, not %s", ctx, key,
	    vmr_ynode_kind(n));
	return false;
}

/* A non-empty string. */
static bool get_str(struct loader *L, const struct vmr_ynode *n, const char *ctx, const char *key,
		    char **out)
{
	if (!want_scalar(L, n, ctx, key))
		return false;
	if (vmr_ynode_is_null(n) || !*n->value) {
		ERR(L, n->pos, NULL, "%s: '%s' must not be empty", ctx, key);
		return false;
	}
	free(*out);
	*out = xstrdup(n->value);
	return true;
}

static bool get_uint(struct loader *L, const struct vmr_ynode *n, const char *ctx, const char *key,
		     unsigned long long min, unsigned long long max, unsigned *out)
{
	unsigned long long v;
	int r;

	if (!want_scalar(L, n, ctx, key))
		return false;
	if (!n->plain) {
		/* quoted scalars stay strings: "100" is not the number 100 */
		ERR(L, n->pos, "remove the quotes",
		    "%s: '%s' must be a number, not the string \"%s\"", ctx, key, n->value);
		return false;
	}
	r = parse_uint(n->value, max, &v);
	if (r == -EINVAL) {
		ERR(L, n->pos, NULL, "%s: '%s' must be a decimal number, not '%s'", ctx, key,
		    n->value);
		return false;
	}
	if (r < 0 || v < min) {
		ERR(L, n->pos, NULL, "%s: %s '%s' out of range (%llu..%llu)", ctx, key, n->value,
		    min, max);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

static bool get_bool(struct loader *L, const struct vmr_ynode *n, const char *ctx, const char *key,
		     bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE"};
	static const char *const no[] = {"false", "False", "FALSE"};

	if (!want_scalar(L, n, ctx, key))
		return false;
	for (size_t i = 0; n->plain && i < ARRAY_SIZE(yes); i++) {
		if (streq(n->value, yes[i])) {
			*out = true;
			return true;
		}
		if (streq(n->value, no[i])) {
			*out = false;
			return true;
		}
	}
	ERR(L, n->pos, "write true or false (without quotes)",
	    "%s: '%s' must be true or false, not '%s'", ctx, key, n->value);
	return false;
}

static bool get_enum(struct loader *L, const struct vmr_ynode *n, const char *ctx, const char *key,
		     const char *const *names, size_t nnames, unsigned *out)
{
	_cleanup_free_ char *hint = NULL, *list = NULL;

	if (!want_scalar(L, n, ctx, key))
		return false;
	for (size_t i = 0; i < nnames; i++)
		if (streq(n->value, names[i])) {
			*out = (unsigned)i;
			return true;
		}
	hint = suggest(n->value, names, nnames);
	list = join_names(names, nnames);
	ERR(L, n->pos, hint, "%s: unknown %s '%s' (expected %s)", ctx, key, n->value, list);
	return false;
}

static bool get_size(struct loader *L, const struct vmr_ynode *n, const char *ctx, const char *key,
		     uint64_t min, uint64_t *out)
{
	uint64_t v;
	int r;

	if (!want_scalar(L, n, ctx, key))
		return false;
	r = vmr_size_parse(n->value, 1ull << 20, &v);
	if (r == -EINVAL) {
		ERR(L, n->pos,
		    "write a number with an optional K, M, G or T suffix (bare numbers are MiB)",
		    "%s: invalid %s '%s'", ctx, key, n->value);
		return false;
	}
	if (r < 0) {
		ERR(L, n->pos, NULL, "%s: %s '%s' is too large", ctx, key, n->value);
		return false;
	}
	if (v < min) {
		ERR(L, n->pos, NULL, "%s: %s '%s' is too small (at least %lluM)", ctx, key,
		    n->value, (unsigned long long)(min >> 20));
		return false;
	}
	*out = v;
	return true;
}

static bool get_strlist(struct loader *L, const struct vmr_ynode *n, const char *ctx,
			const char *key, struct vmr_strvec *out)
{
	bool good = true;

	if (!want_seq(L, n, ctx, key))
		return false;
	vmr_strvec_clear(out);
	for (size_t i = 0; i < n->n; i++) {
		const struct vmr_ynode *it = n->items[i];

		if (it->type != VMR_YNODE_SCALAR || vmr_ynode_is_null(it) || !*it->value) {
			ERR(L, it->pos, NULL, "%s: items of '%s' must be non-empty strings, not %s",
			    ctx, key,
			    it->type == VMR_YNODE_SCALAR && !vmr_ynode_is_null(it)
				? "an empty string"
				: vmr_ynode_kind(it));
			good = false;
			continue;
		}
		vmr_strvec_push(out, it->value);
	}
	return good;
}

/* Report keys of map that are not in known[]. */
static void check_keys(struct loader *L, const struct vmr_ynode *map, const char *const *known,
		       size_t nknown, const char *ctx)
{
	for (size_t i = 0; i < map->n; i++) {
		const struct vmr_ypair *p = &map->pairs[i];
		_cleanup_free_ char *hint = NULL;
		bool found = false;

		if (p->skip)
			continue;
		for (size_t k = 0; k < nknown && !found; k++)
			found = streq(p->key->value, known[k]);
		if (found)
			continue;
		hint = suggest(p->key->value, known, nknown);
		ERR(L, p->key->pos, hint, "%s: unknown key '%s'", ctx, p->key->value);
	}
}

/* [a-z] (or [a-z0-9] with first_digit), then up to max-1 of [a-z0-9] or `more` */
static bool name_ok(const char *s, size_t max, bool first_digit, const char *more)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (first_digit && s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      (more && strchr(more, s[i]))))
			return false;
	return true;
}

bool vmr_guest_name_valid(const char *s)
{
	return s && name_ok(s, VMR_GUEST_NAME_MAX, false, NULL);
}

bool vmr_nic_name_valid(const char *s)
{
	return s && name_ok(s, VMR_NIC_NAME_MAX, false, NULL);
}

bool vmr_host_name_valid(const char *s)
{
	return s && name_ok(s, VMR_HOST_NAME_MAX, true, ".-");
}

/* ---- guests ---- */

/*
 * A guest key: the guest's own value, else the one from defaults.  Values
 * from defaults were checked (and reported) once on their own, so errors
 * they cause again for each guest are counted but not repeated.
 */
static const struct vmr_ynode *gkey(struct loader *L, const struct vmr_ynode *own, const char *key)
{
	const struct vmr_ynode *n = vmr_ymap_get(own, key);

	L->r.muted = false;
	/* a guest's own null clears what defaults would give it */
	if (vmr_ynode_is_null(n))
		return NULL;
	if (!n && L->defaults) {
		n = yget(L->defaults, key);
		L->r.muted = n != NULL;
	}
	return n;
}

static const char *const guest_keys[] = {
    "host", "cpuset",	    "vcpus",	     "memory",	   "accel",	"machine",
    "cpu",  "kernel",	    "initrd",	     "append",	   "image",	"disks",
    "nics", "stop_timeout", "cpu_isolation", "cloud_init", "qemu_args",
};

static const char *const disk_keys[] = {"file", "cdrom", "format", "backing", "size",
					"bus",	"cache", "aio",	   "readonly"};

static void disk_load(struct loader *L, struct vmr_disk *d, const struct vmr_ynode *map,
		      const char *gctx, size_t idx)
{
	_cleanup_free_ char *ctx = xasprintf("%s disk #%zu", gctx, idx + 1);
	const struct vmr_ynode *n, *size_node;
	unsigned v;

	d->pos = map->pos;
	if (!want_map(L, map, gctx, "disks"))
		return;
	check_keys(L, map, disk_keys, ARRAY_SIZE(disk_keys), ctx);
	n = yget(map, "cdrom");
	if (n) {
		d->cdrom = true;
		d->readonly = true;
		d->bus = VMR_BUS_IDE;
		get_str(L, n, ctx, "cdrom", &d->file);
		for (size_t i = 0; i < map->n; i++) {
			const struct vmr_ypair *p = &map->pairs[i];

			if (!p->skip && !vmr_ynode_is_null(p->value) &&
			    !streq(p->key->value, "cdrom"))
				for (size_t k = 0; k < ARRAY_SIZE(disk_keys); k++)
					if (streq(p->key->value, disk_keys[k]))
						ERR(L, p->key->pos, NULL,
						    "%s: key '%s' does not apply to a cdrom", ctx,
						    p->key->value);
		}
		return;
	}
	n = yget(map, "file");
	if (n)
		get_str(L, n, ctx, "file", &d->file);
	else
		ERR(L, map->pos, NULL, "%s: missing 'file' (or 'cdrom')", ctx);
	if ((n = yget(map, "format")) &&
	    get_enum(L, n, ctx, "format", format_names + 1, ARRAY_SIZE(format_names) - 1, &v))
		d->format = (enum vmr_disk_format)(v + 1);
	if ((n = yget(map, "backing")))
		get_str(L, n, ctx, "backing", &d->backing);
	if ((n = yget(map, "bus")) &&
	    get_enum(L, n, ctx, "bus", bus_names, ARRAY_SIZE(bus_names), &v))
		d->bus = (enum vmr_disk_bus)v;
	if ((n = yget(map, "cache")) &&
	    get_enum(L, n, ctx, "cache", cache_names + 1, ARRAY_SIZE(cache_names) - 1, &v))
		d->cache = (enum vmr_disk_cache)(v + 1);
	if ((n = yget(map, "aio")) &&
	    get_enum(L, n, ctx, "aio", aio_names + 1, ARRAY_SIZE(aio_names) - 1, &v))
		d->aio = (enum vmr_disk_aio)(v + 1);
	if ((n = yget(map, "readonly")))
		get_bool(L, n, ctx, "readonly", &d->readonly);
	if ((size_node = yget(map, "size")))
		get_size(L, size_node, ctx, "size", 1ull << 20, &d->size);
	if (d->backing && d->format == VMR_FORMAT_RAW)
		ERR(L, yget(map, "format")->pos, NULL,
		    "%s: format 'raw' cannot have a backing image (overlays are qcow2)", ctx);
	if (size_node && d->readonly && !d->backing)
		ERR(L, size_node->pos, NULL,
		    "%s: 'size' creates or grows the image, which a readonly disk cannot be", ctx);
	if (d->backing && d->readonly)
		ERR(L, yget(map, "backing")->pos, NULL,
		    "%s: an overlay on 'backing' cannot be readonly", ctx);
}

/* Which attachment kinds a NIC key applies to (bit per enum vmr_nic_kind). */
#define K(x) (1u << VMR_NIC_##x)
#define K_ALL (K(MACVTAP) | K(BRIDGE) | K(TAP) | K(USER) | K(PCI) | K(VF))
#define K_TAPLIKE (K(MACVTAP) | K(BRIDGE) | K(TAP))
static const struct {
	const char *key;
	unsigned kinds;
	const char *which; /* for messages */
} nic_keys[] = {
    {"name", K_ALL, NULL},
    {"mac", K_ALL, NULL},
    {"ip", K_ALL, NULL},
    {"gateway", K_ALL, NULL},
    {"mtu", K_ALL, NULL},
    {"macvtap", K(MACVTAP), NULL},
    {"bridge", K(BRIDGE), NULL},
    {"tap", K(TAP), NULL},
    {"user", K(USER), NULL},
    {"pci", K(PCI), NULL},
    {"vf", K(VF), NULL},
    {"mode", K(MACVTAP), "macvtap"},
    {"vlan", K(MACVTAP) | K(VF), "macvtap and vf"},
    {"queues", K_TAPLIKE, "macvtap, bridge and tap"},
    {"model", K_TAPLIKE | K(USER), "macvtap, bridge, tap and user"},
    {"force", K(PCI) | K(VF), "pci and vf"},
    {"trust", K(VF), "vf"},
    {"spoofchk", K(VF), "vf"},
};

static int hostfwd_parse(const char *s, struct vmr_hostfwd *ret)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *parts[5], *p = copy;
	size_t n = 0;
	unsigned long long hp, gp;
	struct in_addr a;
	char *ha = NULL, *ga = NULL, *hps, *gps;

	/* split by hand: strtok_r would let "tcp::22" or a trailing ':' through */
	for (;;) {
		char *colon = strchr(p, ':');

		if (n == ARRAY_SIZE(parts))
			return -EINVAL;
		parts[n++] = p;
		if (!colon)
			break;
		*colon = '\0';
		p = colon + 1;
	}
	for (size_t i = 0; i < n; i++)
		if (!*parts[i])
			return -EINVAL;
	/* PROTO:HPORT:GPORT, PROTO:HADDR:HPORT:GPORT, PROTO:HADDR:HPORT:GADDR:GPORT */
	if (n < 3 || (!streq(parts[0], "tcp") && !streq(parts[0], "udp")))
		return -EINVAL;
	hps = parts[n == 3 ? 1 : 2];
	gps = parts[n - 1];
	if (n >= 4)
		ha = parts[1];
	if (n == 5)
		ga = parts[3];
	if (parse_uint(hps, 65535, &hp) < 0 || hp == 0 || parse_uint(gps, 65535, &gp) < 0 ||
	    gp == 0)
		return -EINVAL;
	if ((ha && inet_pton(AF_INET, ha, &a) != 1) || (ga && inet_pton(AF_INET, ga, &a) != 1))
		return -EINVAL;
	*ret = (struct vmr_hostfwd){
	    .udp = streq(parts[0], "udp"),
	    .host_addr = xstrdup(ha),
	    .host_port = (unsigned)hp,
	    .guest_addr = xstrdup(ga),
	    .guest_port = (unsigned)gp,
	};
	return 0;
}

static void nic_user_load(struct loader *L, struct vmr_nic *nic, const struct vmr_ynode *n,
			  const char *ctx)
{
	const struct vmr_ynode *fw;
	static const char *const keys[] = {"forward"};
	bool b;

	if (n->type == VMR_YNODE_SCALAR) {
		if (vmr_ynode_is_null(n))
			return;
		if (get_bool(L, n, ctx, "user", &b) && !b)
			ERR(L, n->pos, "remove the nic, or write user: {}",
			    "%s: 'user: false' attaches nothing", ctx);
		return;
	}
	if (!want_map(L, n, ctx, "user"))
		return;
	check_keys(L, n, keys, ARRAY_SIZE(keys), ctx);
	fw = yget(n, "forward");
	if (!fw || !want_seq(L, fw, ctx, "forward"))
		return;
	nic->forwards = xcalloc(fw->n, sizeof(*nic->forwards));
	for (size_t i = 0; i < fw->n; i++) {
		const struct vmr_ynode *it = fw->items[i];

		if (it->type != VMR_YNODE_SCALAR ||
		    hostfwd_parse(it->value, &nic->forwards[nic->nforwards]) < 0) {
			ERR(L, it->pos,
			    "write PROTO:[HOSTADDR:]HOSTPORT:[GUESTADDR:]GUESTPORT, e.g. "
			    "tcp:2222:22",
			    "%s: invalid forward '%s'", ctx,
			    it->type == VMR_YNODE_SCALAR ? it->value : vmr_ynode_kind(it));
			continue;
		}
		nic->nforwards++;
	}
}

static bool pci_load(struct loader *L, const struct vmr_ynode *n, const char *ctx, const char *key,
		     struct vmr_pci_addr *out)
{
	_cleanup_free_ char *hint = NULL;
	struct vmr_pci_addr tmp;

	if (!want_scalar(L, n, ctx, key))
		return false;
	if (vmr_pci_parse(n->value, out) == 0)
		return true;
	/* the short BB:SS.F form that lspci prints */
	if (strlen(n->value) == 7) {
		_cleanup_free_ char *full = xasprintf("0000:%s", n->value);

		if (vmr_pci_parse(full, &tmp) == 0)
			hint = xasprintf("write the full address '%s'", full);
	}
	ERR(L, n->pos, hint, "%s: invalid PCI address '%s' for '%s' (expected DDDD:BB:SS.F)", ctx,
	    n->value, key);
	return false;
}

static bool parent_load(struct loader *L, const struct vmr_ynode *n, const char *ctx,
			const char *key, char **parent, bool *is_mac, struct vmr_mac *mac)
{
	if (!get_str(L, n, ctx, key, parent))
		return false;
	if (vmr_mac_parse(*parent, mac) == 0) {
		*is_mac = true;
		return true;
	}
	if (strchr(*parent, ':') && strlen(*parent) == 17) {
		ERR(L, n->pos, NULL, "%s: invalid MAC address '%s' for '%s'", ctx, *parent, key);
		return false;
	}
	if (!vmr_ifname_valid(*parent)) {
		ERR(L, n->pos, NULL,
		    "%s: '%s' is neither a MAC address nor a valid interface name for '%s'", ctx,
		    *parent, key);
		return false;
	}
	return true;
}

static void nic_load(struct loader *L, struct vmr_nic *nic, const struct vmr_ynode *map,
		     const char *guest, const char *gctx, size_t idx)
{
	_cleanup_free_ char *ctx = NULL;
	const struct vmr_ynode *n, *attach = NULL;
	const char *attach_key = NULL;
	const char **keynames;
	unsigned v;

	nic->pos = map->pos;
	nic->queues = 1;
	nic->spoofchk = true;
	nic->mac_pos = map->pos;
	if (!want_map(L, map, gctx, "nics"))
		return;
	n = yget(map, "name");
	if (n && want_scalar(L, n, gctx, "name") && !vmr_ynode_is_null(n)) {
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

	keynames = xcalloc(ARRAY_SIZE(nic_keys), sizeof(*keynames));
	for (size_t k = 0; k < ARRAY_SIZE(nic_keys); k++)
		keynames[k] = nic_keys[k].key;
	check_keys(L, map, keynames, ARRAY_SIZE(nic_keys), ctx);
	free(keynames);

	/* exactly one attachment; a second one is reported where it is written */
	for (size_t i = 0; i < map->n; i++) {
		const struct vmr_ypair *p = &map->pairs[i];

		if (p->skip)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(kind_names); k++) {
			if (!streq(p->key->value, kind_names[k]))
				continue;
			if (attach) {
				ERR(L, p->key->pos,
				    "a nic has exactly one attachment; use a second nic",
				    "%s: two attachments '%s' and '%s'", ctx, attach_key,
				    kind_names[k]);
				continue;
			}
			attach = p->value;
			attach_key = kind_names[k];
			nic->kind = (enum vmr_nic_kind)k;
			nic->attach_pos = p->value->pos;
		}
	}
	if (!attach) {
		ERR(L, map->pos, NULL,
		    "%s: no attachment (one of macvtap, bridge, tap, user, pci or vf)", ctx);
		return;
	}
	/* keys that do not apply to this attachment (a null is no value) */
	for (size_t i = 0; i < map->n; i++) {
		const struct vmr_ypair *p = &map->pairs[i];

		if (p->skip || vmr_ynode_is_null(p->value))
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(nic_keys); k++)
			if (streq(p->key->value, nic_keys[k].key) && nic_keys[k].which &&
			    !(nic_keys[k].kinds & (1u << nic->kind)))
				ERR(L, p->key->pos, NULL,
				    "%s: key '%s' does not apply to a '%s' nic (only %s)", ctx,
				    nic_keys[k].key, attach_key, nic_keys[k].which);
	}

	switch (nic->kind) {
	case VMR_NIC_MACVTAP:
		parent_load(L, attach, ctx, "macvtap", &nic->parent, &nic->parent_is_mac,
			    &nic->parent_mac);
		break;
	case VMR_NIC_BRIDGE:
		if (get_str(L, attach, ctx, "bridge", &nic->bridge) &&
		    !vmr_ifname_valid(nic->bridge))
			ERR(L, attach->pos, NULL, "%s: invalid interface name '%s' for 'bridge'",
			    ctx, nic->bridge);
		break;
	case VMR_NIC_TAP:
		if (get_str(L, attach, ctx, "tap", &nic->tap) && !vmr_ifname_valid(nic->tap))
			ERR(L, attach->pos, NULL, "%s: invalid interface name '%s' for 'tap'", ctx,
			    nic->tap);
		break;
	case VMR_NIC_USER:
		nic_user_load(L, nic, attach, ctx);
		break;
	case VMR_NIC_PCI:
	case VMR_NIC_VF:
		/* an unparsed address must not count in the duplicate check */
		if (!pci_load(L, attach, ctx, attach_key, &nic->pci))
			nic->attach_pos.line = 0;
		break;
	}

	if ((n = yget(map, "mac"))) {
		char buf[18];

		nic->mac_pos = n->pos;
		if (want_scalar(L, n, ctx, "mac")) {
			if (vmr_mac_parse(n->value, &nic->mac) < 0)
				ERR(L, n->pos, NULL, "%s: invalid MAC address '%s'", ctx, n->value);
			else if (vmr_mac_is_multicast(&nic->mac))
				ERR(L, n->pos, "the lowest bit of the first byte must be 0",
				    "%s: MAC address '%s' is multicast (a guest needs a unicast "
				    "MAC)",
				    ctx, vmr_mac_format(&nic->mac, buf));
			else if (vmr_mac_is_zero(&nic->mac))
				ERR(L, n->pos, NULL, "%s: MAC address '%s' is all zeros", ctx,
				    n->value);
			else
				nic->mac_given = true;
		}
	}
	if (!nic->mac_given && nic->name)
		vmr_mac_derive(guest, nic->name, &nic->mac);
	if ((n = yget(map, "ip")) && want_scalar(L, n, ctx, "ip")) {
		if (vmr_cidr_parse(n->value, &nic->ip) < 0)
			ERR(L, n->pos, "write ADDRESS/PREFIX, e.g. 172.25.160.3/24",
			    "%s: invalid address '%s' for 'ip'", ctx, n->value);
		else
			nic->has_ip = true;
	}
	if ((n = yget(map, "gateway")) && get_str(L, n, ctx, "gateway", &nic->gateway)) {
		struct in6_addr a;
		int fam = inet_pton(AF_INET, nic->gateway, &a) == 1    ? AF_INET
			  : inet_pton(AF_INET6, nic->gateway, &a) == 1 ? AF_INET6
								       : 0;

		if (!fam)
			ERR(L, n->pos, NULL, "%s: invalid gateway address '%s'", ctx, nic->gateway);
		else if (!nic->has_ip)
			ERR(L, n->pos, NULL, "%s: 'gateway' needs 'ip'", ctx);
		else if (fam != nic->ip.family)
			ERR(L, n->pos, NULL, "%s: gateway '%s' is not of the family of ip", ctx,
			    nic->gateway);
	}
	if ((n = yget(map, "mode")) &&
	    get_enum(L, n, ctx, "mode", mode_names, ARRAY_SIZE(mode_names), &v))
		nic->mode = (enum vmr_macvtap_mode)v;
	if ((n = yget(map, "vlan")))
		get_uint(L, n, ctx, "vlan", 1, 4094, &nic->vlan);
	if ((n = yget(map, "mtu")))
		get_uint(L, n, ctx, "mtu", 68, 65535, &nic->mtu);
	if ((n = yget(map, "queues")))
		get_uint(L, n, ctx, "queues", 1, 16, &nic->queues);
	if ((n = yget(map, "model")))
		get_str(L, n, ctx, "model", &nic->model);
	if ((n = yget(map, "force")))
		get_bool(L, n, ctx, "force", &nic->force);
	if ((n = yget(map, "trust")))
		get_bool(L, n, ctx, "trust", &nic->trust);
	if ((n = yget(map, "spoofchk")))
		get_bool(L, n, ctx, "spoofchk", &nic->spoofchk);
}

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

static void cloud_init_load(struct loader *L, struct vmr_cloud_init *ci, const struct vmr_ynode *n,
			    const char *ctx)
{
	static const char *const keys[] = {"user_data", "ssh_authorized_keys", "password",
					   "hostname"};
	const struct vmr_ynode *v;
	bool b;

	if (n->type == VMR_YNODE_SCALAR) {
		if (get_bool(L, n, ctx, "cloud_init", &b))
			ci->enabled = b;
		return;
	}
	if (!want_map(L, n, ctx, "cloud_init"))
		return;
	ci->enabled = true;
	check_keys(L, n, keys, ARRAY_SIZE(keys), ctx);
	if ((v = yget(n, "user_data")))
		get_str(L, v, ctx, "user_data", &ci->user_data);
	if ((v = yget(n, "ssh_authorized_keys")))
		ci->ssh_keys_given =
		    get_strlist(L, v, ctx, "ssh_authorized_keys", &ci->ssh_authorized_keys);
	if ((v = yget(n, "password")))
		get_str(L, v, ctx, "password", &ci->password);
	if ((v = yget(n, "hostname")) && get_str(L, v, ctx, "hostname", &ci->hostname) &&
	    !hostname_ok(ci->hostname))
		ERR(L, v->pos, NULL, "%s: invalid hostname '%s'", ctx, ci->hostname);
}

static void guest_load(struct loader *L, struct vmr_guest *g, const struct vmr_ynode *own,
		       const char *ctx)
{
	const struct vmr_ynode *n, *vcpus_node;
	bool vcpus_inherited, cloud_init_given = false;
	unsigned v;

	g->memory = 512ull << 20;
	g->stop_timeout = VMR_DEFAULT_STOP_TIMEOUT;
	g->machine = xstrdup("q35");
	if (own)
		check_keys(L, own, guest_keys, ARRAY_SIZE(guest_keys), ctx);

	if ((n = gkey(L, own, "host"))) {
		g->host_pos = n->pos;
		get_str(L, n, ctx, "host", &g->host);
	}
	if ((n = gkey(L, own, "cpuset")) && want_scalar(L, n, ctx, "cpuset")) {
		_cleanup_free_ char *bad = NULL;
		const char *why = NULL;

		g->cpuset_pos = n->pos;
		if (vmr_cpuset_parse(n->value, &g->cpuset, &bad, &why) < 0) {
			ERR(L, n->pos, NULL, "%s: %s '%s' in cpuset '%s'", ctx, why, bad, n->value);
		} else if (g->cpuset.n > VMR_GUEST_VCPUS_MAX) {
			/* one vCPU per CPU: the same limit as vcpus */
			ERR(L, n->pos, NULL, "%s: cpuset '%s' has %zu CPUs, at most %u vCPUs", ctx,
			    n->value, g->cpuset.n, VMR_GUEST_VCPUS_MAX);
			vmr_cpuset_free(&g->cpuset);
		} else {
			g->has_cpuset = true;
		}
	}
	bool cpuset_inherited = L->r.muted;
	vcpus_node = gkey(L, own, "vcpus");
	vcpus_inherited = L->r.muted;
	if (vcpus_node && get_uint(L, vcpus_node, ctx, "vcpus", 1, VMR_GUEST_VCPUS_MAX, &v)) {
		/* a guest's own cpuset wins over vcpus from defaults */
		if (g->has_cpuset && v != g->cpuset.n && !(vcpus_inherited && !cpuset_inherited)) {
			L->r.muted = vcpus_inherited && cpuset_inherited;
			ERR(L, vcpus_node->pos,
			    "leave out vcpus: the cpuset decides the vCPU count",
			    "%s: vcpus %u does not match the %zu CPUs of its cpuset", ctx, v,
			    g->cpuset.n);
		}
		g->vcpus = v;
	}
	if (g->has_cpuset)
		g->vcpus = (unsigned)g->cpuset.n;
	if (!g->vcpus)
		g->vcpus = 1;
	if ((n = gkey(L, own, "memory")))
		get_size(L, n, ctx, "memory", VMR_GUEST_MEMORY_MIN, &g->memory);
	if ((n = gkey(L, own, "accel")) &&
	    get_enum(L, n, ctx, "accel", accel_names, ARRAY_SIZE(accel_names), &v))
		g->accel = (enum vmr_accel)v;
	if ((n = gkey(L, own, "machine")))
		get_str(L, n, ctx, "machine", &g->machine);
	if ((n = gkey(L, own, "cpu")))
		get_str(L, n, ctx, "cpu", &g->cpu);
	if ((n = gkey(L, own, "kernel")))
		get_str(L, n, ctx, "kernel", &g->kernel);
	if ((n = gkey(L, own, "initrd")) && get_str(L, n, ctx, "initrd", &g->initrd) && !g->kernel)
		ERR(L, n->pos, NULL, "%s: 'initrd' needs 'kernel'", ctx);
	if ((n = gkey(L, own, "append")) && want_scalar(L, n, ctx, "append")) {
		g->append = xstrdup(vmr_ynode_is_null(n) ? "" : n->value);
		if (!g->kernel)
			ERR(L, n->pos, NULL, "%s: 'append' needs 'kernel'", ctx);
	}
	if ((n = gkey(L, own, "image")))
		get_str(L, n, ctx, "image", &g->image);
	if ((n = gkey(L, own, "disks")) && want_seq(L, n, ctx, "disks")) {
		g->disks = xcalloc(n->n, sizeof(*g->disks));
		g->ndisks = n->n;
		for (size_t i = 0; i < n->n; i++)
			disk_load(L, &g->disks[i], n->items[i], ctx, i);
	}
	if ((n = gkey(L, own, "nics")) && want_seq(L, n, ctx, "nics")) {
		g->nics = xcalloc(n->n, sizeof(*g->nics));
		g->nnics = n->n;
		for (size_t i = 0; i < n->n; i++) {
			nic_load(L, &g->nics[i], n->items[i], g->name, ctx, i);
			for (size_t j = 0; j < i; j++)
				if (g->nics[i].name && streq(g->nics[i].name, g->nics[j].name))
					ERR(L, g->nics[i].pos, NULL,
					    "%s: nic name '%s' used twice (first at line %u)", ctx,
					    g->nics[i].name, g->nics[j].pos.line);
		}
	}
	if ((n = gkey(L, own, "stop_timeout")))
		get_uint(L, n, ctx, "stop_timeout", 1, 3600, &g->stop_timeout);
	if ((n = gkey(L, own, "cpu_isolation")))
		get_bool(L, n, ctx, "cpu_isolation", &g->cpu_isolation);
	if ((n = gkey(L, own, "cloud_init"))) {
		cloud_init_given = true;
		cloud_init_load(L, &g->cloud_init, n, ctx);
	}
	if ((n = gkey(L, own, "qemu_args")))
		get_strlist(L, n, ctx, "qemu_args", &g->qemu_args);
	L->r.muted = false;

	/* static addresses and CPU isolation reach the guest only through the seed */
	if (!cloud_init_given) {
		g->cloud_init.enabled = g->cpu_isolation;
		for (size_t i = 0; i < g->nnics; i++)
			if (g->nics[i].has_ip)
				g->cloud_init.enabled = true;
	}
	if (!g->cloud_init.hostname)
		g->cloud_init.hostname = xstrdup(g->name);
}

static void guest_free(struct vmr_guest *g)
{
	free(g->name);
	free(g->host);
	vmr_cpuset_free(&g->cpuset);
	free(g->machine);
	free(g->cpu);
	free(g->kernel);
	free(g->initrd);
	free(g->append);
	free(g->image);
	for (size_t i = 0; i < g->ndisks; i++) {
		free(g->disks[i].file);
		free(g->disks[i].backing);
	}
	free(g->disks);
	for (size_t i = 0; i < g->nnics; i++) {
		struct vmr_nic *nic = &g->nics[i];

		free(nic->name);
		free(nic->gateway);
		free(nic->parent);
		free(nic->bridge);
		free(nic->tap);
		for (size_t j = 0; j < nic->nforwards; j++) {
			free(nic->forwards[j].host_addr);
			free(nic->forwards[j].guest_addr);
		}
		free(nic->forwards);
		free(nic->model);
	}
	free(g->nics);
	free(g->cloud_init.user_data);
	vmr_strvec_clear(&g->cloud_init.ssh_authorized_keys);
	free(g->cloud_init.password);
	free(g->cloud_init.hostname);
	vmr_strvec_clear(&g->qemu_args);
}

/* ---- hosts and ctrlif ---- */

static void hosts_load(struct loader *L, const struct vmr_ynode *map)
{
	static const char *const keys[] = {"address", "primary", "reserved_cpus"};
	struct vmr_topology *t = L->t;
	const struct vmr_host *primary = NULL;

	if (vmr_ynode_is_null(map) || !want_map(L, map, "topology", "hosts"))
		return;
	t->hosts = xcalloc(map->n, sizeof(*t->hosts));
	for (size_t i = 0; i < map->n; i++) {
		const struct vmr_ypair *p = &map->pairs[i];
		struct vmr_host *h = &t->hosts[t->nhosts];
		const struct vmr_ynode *v, *n;
		_cleanup_free_ char *ctx = NULL;

		if (p->skip)
			continue;
		t->nhosts++;
		h->pos = p->key->pos;
		h->name = xstrdup(p->key->value);
		ctx = xasprintf("host '%s'", h->name);
		if (!vmr_host_name_valid(h->name))
			ERR(L, p->key->pos, NULL,
			    "invalid host name '%s' (expected [a-z0-9][a-z0-9.-]{0,62})", h->name);
		v = p->value;
		/* without 'address' the name is what ssh:// and compose reach */
		if (!yget(v, "address") && vmr_host_name_valid(h->name) &&
		    !vmr_host_address_valid(h->name))
			ERR(L, p->key->pos, "set 'address'",
			    "%s: the name is the address when 'address' is not set, and '%s' is "
			    "not a "
			    "valid address",
			    ctx, h->name);
		if (vmr_ynode_is_null(v) || !want_map(L, v, ctx, h->name))
			continue;
		check_keys(L, v, keys, ARRAY_SIZE(keys), ctx);
		if ((n = yget(v, "address")) && get_str(L, n, ctx, "address", &h->address) &&
		    !vmr_host_address_valid(h->address))
			ERR(L, n->pos, NULL, "%s: invalid address '%s'", ctx, h->address);
		if ((n = yget(v, "primary")) && get_bool(L, n, ctx, "primary", &h->primary) &&
		    h->primary) {
			if (primary)
				ERR(L, n->pos, NULL,
				    "%s: a second primary host (host '%s' is primary)", ctx,
				    primary->name);
			else
				primary = h;
		}
		if ((n = yget(v, "reserved_cpus")) && want_scalar(L, n, ctx, "reserved_cpus")) {
			_cleanup_free_ char *bad = NULL;
			const char *why = NULL;

			if (vmr_cpuset_parse(n->value, &h->reserved, &bad, &why) < 0)
				ERR(L, n->pos, NULL, "%s: %s '%s' in cpuset '%s'", ctx, why, bad,
				    n->value);
			else
				h->has_reserved = true;
		}
	}
}

static void ctrlif_load(struct loader *L, const struct vmr_ynode *map)
{
	static const char *const keys[] = {"parent", "address"};
	struct vmr_ctrlif *c = &L->t->ctrlif;
	const struct vmr_ynode *n;

	if (!want_map(L, map, "topology", "ctrlif"))
		return;
	c->present = true;
	c->pos = map->pos;
	check_keys(L, map, keys, ARRAY_SIZE(keys), "ctrlif");
	if ((n = yget(map, "parent")))
		parent_load(L, n, "ctrlif", "parent", &c->parent, &c->parent_is_mac,
			    &c->parent_mac);
	else
		ERR(L, map->pos, NULL, "ctrlif: missing 'parent'");
	n = yget(map, "address");
	if (!n) {
		ERR(L, map->pos, NULL, "ctrlif: missing 'address'");
	} else if (want_scalar(L, n, "ctrlif", "address")) {
		if (vmr_cidr_parse(n->value, &c->address) < 0 || c->address.family != AF_INET)
			ERR(L, n->pos, "write an IPv4 ADDRESS/PREFIX, e.g. 172.25.160.1/24",
			    "ctrlif: invalid address '%s'", n->value);
		else
			vmr_mac_from_ipv4(c->address.addr.v4, &c->mac);
	}
}

/* ---- checks across guests ---- */

/* The host a guest runs on (NULL: the local machine, when no host is primary). */
static const char *guest_host(const struct vmr_topology *t, const struct vmr_guest *g)
{
	const struct vmr_host *p;

	if (g->host)
		return g->host;
	p = vmr_topology_primary(t);
	return p ? p->name : NULL;
}

static bool same_host(const char *a, const char *b)
{
	return (!a && !b) || streq(a, b);
}

struct nicref {
	const struct vmr_guest *g;
	const struct vmr_nic *nic; /* NULL: the ctrlif */
	size_t order;
	const char *host; /* effective placement, for per-host PCI checks */
};

static int mac_cmp(const void *a, const void *b)
{
	const struct nicref *x = a, *y = b;
	const struct vmr_mac *mx = x->nic ? &x->nic->mac : NULL, *my = y->nic ? &y->nic->mac : NULL;
	int r;

	r = memcmp(mx ? mx->b : (const uint8_t *)"", my ? my->b : (const uint8_t *)"", 6);
	if (r)
		return r;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int pci_cmp(const void *a, const void *b)
{
	const struct nicref *x = a, *y = b;
	const struct vmr_pci_addr *p = &x->nic->pci, *q = &y->nic->pci;
	unsigned long long u =
	    ((unsigned long long)p->domain << 24) | (p->bus << 16) | (p->slot << 8) | p->func;
	unsigned long long v =
	    ((unsigned long long)q->domain << 24) | (q->bus << 16) | (q->slot << 8) | q->func;
	int h = strcmp(x->host ? x->host : "", y->host ? y->host : "");

	/* PCI addresses belong to one machine: group by host first */
	if (h)
		return h;
	if (u != v)
		return u < v ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void check_macs_and_pci(struct loader *L)
{
	struct vmr_topology *t = L->t;
	_cleanup_free_ struct nicref *macs = NULL, *pcis = NULL;
	size_t nmacs = 0, npcis = 0, total = 0;
	struct vmr_nic ctrl = {0};
	char buf[18], pbuf[13];

	for (size_t i = 0; i < t->nguests; i++)
		total += t->guests[i].nnics;
	macs = xcalloc(total + 1, sizeof(*macs));
	pcis = xcalloc(total + 1, sizeof(*pcis));
	for (size_t i = 0; i < t->nguests; i++)
		for (size_t j = 0; j < t->guests[i].nnics; j++) {
			const struct vmr_nic *nic = &t->guests[i].nics[j];

			if (!nic->name)
				continue;
			macs[nmacs] = (struct nicref){&t->guests[i], nic, nmacs, NULL};
			nmacs++;
			if ((nic->kind == VMR_NIC_PCI || nic->kind == VMR_NIC_VF) &&
			    nic->attach_pos.line) {
				pcis[npcis] = (struct nicref){&t->guests[i], nic, npcis,
							      guest_host(t, &t->guests[i])};
				npcis++;
			}
		}
	if (t->ctrlif.present && t->ctrlif.address.family == AF_INET) {
		ctrl.mac = t->ctrlif.mac;
		ctrl.mac_pos = t->ctrlif.pos;
		macs[nmacs] = (struct nicref){NULL, &ctrl, nmacs, NULL};
		nmacs++;
	}
	/* sorting keeps this linear-ish for topologies with many NICs */
	qsort(macs, nmacs, sizeof(*macs), mac_cmp);
	for (size_t i = 1; i < nmacs; i++) {
		const struct nicref *first = &macs[i - 1], *dup = &macs[i];

		if (!vmr_mac_equal(&first->nic->mac, &dup->nic->mac))
			continue;
		/* a nic name used twice in a guest is reported already */
		if (first->g == dup->g && !dup->nic->mac_given && !first->nic->mac_given &&
		    streq(first->nic->name, dup->nic->name))
			continue;
		/* report at the later one in the file, naming the earlier */
		while (first > macs && vmr_mac_equal(&(first - 1)->nic->mac, &dup->nic->mac))
			first--;
		if (!dup->g) {
			const struct nicref *tmp = first;

			first = dup;
			dup = tmp;
		}
		ERR(L, dup->nic->mac_pos,
		    dup->nic->mac_given ? NULL : "the derived MAC collides; set 'mac' explicitly",
		    "guest '%s' nic '%s': MAC address '%s' is already used by %s%s%s%s%s",
		    dup->g->name, dup->nic->name, vmr_mac_format(&dup->nic->mac, buf),
		    first->g ? "guest '" : "the ctrlif", first->g ? first->g->name : "",
		    first->g ? "' nic '" : "", first->g ? first->nic->name : "",
		    first->g ? "'" : "");
	}
	qsort(pcis, npcis, sizeof(*pcis), pci_cmp);
	for (size_t i = 0; i < npcis;) {
		size_t j = i, whole = 0;

		while (j < npcis && vmr_pci_equal(&pcis[i].nic->pci, &pcis[j].nic->pci) &&
		       same_host(pcis[i].host, pcis[j].host)) {
			whole += pcis[j].nic->kind == VMR_NIC_PCI;
			j++;
		}
		/* VFs of one PF may be shared; a device passed through whole may not */
		for (size_t k = i + 1; whole && k < j; k++)
			ERR(L, pcis[k].nic->attach_pos, NULL,
			    "guest '%s' nic '%s': PCI device '%s' is already used on the same host "
			    "by guest '%s' nic '%s' (%s)",
			    pcis[k].g->name, pcis[k].nic->name,
			    vmr_pci_format(&pcis[k].nic->pci, pbuf), pcis[i].g->name,
			    pcis[i].nic->name, vmr_nic_kind_name(pcis[i].nic->kind));
		i = j;
	}
}

static void check_placement(struct loader *L)
{
	struct vmr_topology *t = L->t;

	for (size_t i = 0; i < t->nguests; i++) {
		const struct vmr_guest *g = &t->guests[i];
		const char *hn = guest_host(t, g);
		const struct vmr_host *h;
		long c;

		if (g->host && !vmr_topology_host(t, g->host)) {
			_cleanup_free_ const char **names = xcalloc(t->nhosts + 1, sizeof(*names));
			_cleanup_free_ char *hint = NULL;

			for (size_t k = 0; k < t->nhosts; k++)
				names[k] = t->hosts[k].name;
			hint = suggest(g->host, names, t->nhosts);
			ERR(L, g->host_pos,
			    hint ? hint : (t->nhosts ? NULL : "declare it under 'hosts'"),
			    "guest '%s': unknown host '%s'", g->name, g->host);
			continue;
		}
		if (!g->has_cpuset)
			continue;
		h = hn ? vmr_topology_host(t, hn) : NULL;
		if (h && h->has_reserved &&
		    (c = vmr_cpuset_first_common(&g->cpuset, &h->reserved)) >= 0)
			ERR(L, g->cpuset_pos, NULL,
			    "guest '%s': cpuset includes CPU %ld, reserved on host '%s'", g->name,
			    c, h->name);
		for (size_t j = 0; j < i; j++) {
			const struct vmr_guest *o = &t->guests[j];

			if (!o->has_cpuset || !same_host(hn, guest_host(t, o)))
				continue;
			c = vmr_cpuset_first_common(&g->cpuset, &o->cpuset);
			if (c >= 0)
				ERR(L, g->cpuset_pos, NULL,
				    "guest '%s': cpuset overlaps guest '%s' (CPU %ld) on %s%s%s",
				    g->name, o->name, c, hn ? "host '" : "the local host",
				    hn ? hn : "", hn ? "'" : "");
		}
	}
}

/* ---- top level ---- */

static const char *const top_keys[] = {"version", "defaults", "hosts", "ctrlif", "guests"};

static void topology_build(struct loader *L, const struct vmr_ynode *root)
{
	struct vmr_topology *t = L->t;
	const struct vmr_ynode *n, *guests;

	if (!root || vmr_ynode_is_null(root)) {
		ERR(L, ((struct vmr_pos){1, 1}), NULL,
		    "empty topology (expected a mapping with 'version: 1')");
		return;
	}
	if (root->type != VMR_YNODE_MAP) {
		ERR(L, root->pos, NULL, "the topology must be a mapping, not %s",
		    vmr_ynode_kind(root));
		return;
	}
	check_keys(L, root, top_keys, ARRAY_SIZE(top_keys), "topology");
	n = yget(root, "version");
	if (!n)
		ERR(L, root->pos, "start the file with 'version: 1'",
		    "missing required key 'version'");
	else if (get_uint(L, n, "topology", "version", 0, ~0u, &t->version) && t->version != 1)
		ERR(L, n->pos, NULL, "unsupported version %u (this vmrun reads version 1)",
		    t->version);

	if ((n = yget(root, "hosts")))
		hosts_load(L, n);
	if ((n = yget(root, "ctrlif")))
		ctrlif_load(L, n);

	n = yget(root, "defaults");
	if (n && !vmr_ynode_is_null(n) && want_map(L, n, "topology", "defaults")) {
		/* check the defaults once, on their own, so their errors show once */
		struct vmr_guest tmp = {.name = xstrdup("defaults")};

		guest_load(L, &tmp, n, "defaults");
		guest_free(&tmp);
		L->defaults = n;
	}

	guests = yget(root, "guests");
	if (guests && !vmr_ynode_is_null(guests) && want_map(L, guests, "topology", "guests")) {
		t->guests = xcalloc(guests->n, sizeof(*t->guests));
		for (size_t i = 0; i < guests->n; i++) {
			const struct vmr_ypair *p = &guests->pairs[i];
			struct vmr_guest *g = &t->guests[t->nguests];
			const struct vmr_ynode *own = p->value;
			_cleanup_free_ char *ctx = NULL;

			if (p->skip)
				continue;
			t->nguests++;
			g->pos = p->key->pos;
			g->name = xstrdup(p->key->value);
			ctx = xasprintf("guest '%s'", g->name);
			if (!vmr_guest_name_valid(g->name))
				ERR(L, p->key->pos, NULL,
				    "invalid guest name '%s' (expected [a-z][a-z0-9]{0,30})",
				    g->name);
			if (vmr_ynode_is_null(own))
				own = NULL;
			else if (!want_map(L, own, ctx, g->name))
				continue;
			guest_load(L, g, own, ctx);
		}
	}
	check_placement(L);
	check_macs_and_pci(L);
}

void vmr_topology_free(struct vmr_topology *t)
{
	if (!t)
		return;
	free(t->file);
	for (size_t i = 0; i < t->nhosts; i++) {
		free(t->hosts[i].name);
		free(t->hosts[i].address);
		vmr_cpuset_free(&t->hosts[i].reserved);
	}
	free(t->hosts);
	free(t->ctrlif.parent);
	for (size_t i = 0; i < t->nguests; i++)
		guest_free(&t->guests[i]);
	free(t->guests);
	free(t);
}

int vmr_topology_load_buffer(const char *name, const char *data, size_t len,
			     struct vmr_topology **ret, struct vmr_diags *diags)
{
	struct vmr_topology *t;
	struct loader L = {.r = {.file = name ? name : "<input>", .diags = diags}};
	struct vmr_ynode *root = NULL;
	size_t first = diags->n;

	if (len > VMR_TOPOLOGY_MAX_BYTES) {
		vmr_diags_add(diags, L.r.file, 1, 1, NULL, "file is larger than %u bytes",
			      VMR_TOPOLOGY_MAX_BYTES);
		return -EINVAL;
	}
	if (vmr_ytree_parse(data, len, &L.r, &root) < 0) {
		diags_sort(diags, first, L.r.dropped);
		return -EINVAL;
	}
	t = xcalloc(1, sizeof(*t));
	t->file = xstrdup(L.r.file);
	L.t = t;
	topology_build(&L, root);
	vmr_ynode_free(root);
	if (L.r.errors) {
		vmr_topology_free(t);
		diags_sort(diags, first, L.r.dropped);
		return -EINVAL;
	}
	*ret = t;
	return 0;
}

int vmr_topology_load(const char *path, struct vmr_topology **ret, struct vmr_diags *diags)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r;

	r = read_file(path, VMR_TOPOLOGY_MAX_BYTES, &data, &len);
	if (r == -EFBIG) {
		vmr_diags_add(diags, path, 1, 1, NULL, "file is larger than %u bytes",
			      VMR_TOPOLOGY_MAX_BYTES);
		return -EINVAL;
	}
	if (r < 0) {
		vmr_diags_add(diags, path, 0, 0, NULL, "cannot read topology: %s", strerror(-r));
		return r;
	}
	return vmr_topology_load_buffer(path, data, len, ret, diags);
}

const struct vmr_guest *vmr_topology_guest(const struct vmr_topology *t, const char *name)
{
	for (size_t i = 0; t && i < t->nguests; i++)
		if (streq(t->guests[i].name, name))
			return &t->guests[i];
	return NULL;
}

const struct vmr_host *vmr_topology_host(const struct vmr_topology *t, const char *name)
{
	for (size_t i = 0; t && i < t->nhosts; i++)
		if (streq(t->hosts[i].name, name))
			return &t->hosts[i];
	return NULL;
}

const struct vmr_host *vmr_topology_primary(const struct vmr_topology *t)
{
	for (size_t i = 0; t && i < t->nhosts; i++)
		if (t->hosts[i].primary)
			return &t->hosts[i];
	return NULL;
}
