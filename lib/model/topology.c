/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Topology loading: the YAML tree (yamltree.c) -> struct vmr_topology, with
 * every check of docs/topology.md.  Problems are collected, not returned
 * one by one: a bad value is reported and loading goes on, so the user
 * sees all of them at once.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lib/base/buf.h"
#include "lib/base/util.h"
#include "lib/model/topology_internal.h"

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

/* ---- names ---- */

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

/* ---- hosts and ctrlif ---- */

static void hosts_load(struct loader *L, const struct vmr_ynode *map)
{
	static const char *const keys[] = {"address", "primary", "reserved_cpus"};
	struct vmr_topology *t = L->t;
	const struct vmr_host *primary = NULL;

	struct vmr_keyctx top = loader_ctx(L, "topology");

	if (vmr_ynode_is_null(map) || !vmr_key_want_map(&top, map, "hosts"))
		return;
	t->hosts = xcalloc(map->n, sizeof(*t->hosts));
	for (size_t i = 0; i < map->n; i++) {
		const struct vmr_ypair *p = &map->pairs[i];
		struct vmr_host *h = &t->hosts[t->nhosts];
		const struct vmr_ynode *v, *n;
		_cleanup_free_ char *ctx = NULL;
		struct vmr_keyctx kc;

		if (p->skip)
			continue;
		t->nhosts++;
		h->pos = p->key->pos;
		h->name = xstrdup(p->key->value);
		ctx = xasprintf("host '%s'", h->name);
		kc = loader_ctx(L, ctx);
		if (!vmr_host_name_valid(h->name))
			ERR(L, p->key->pos, NULL,
			    "invalid host name '%s' (expected [a-z0-9][a-z0-9.-]{0,62})", h->name);
		v = p->value;
		/* without 'address' the name is what ssh:// and compose reach */
		if (!vmr_key_get(v, "address") && vmr_host_name_valid(h->name) &&
		    !vmr_host_address_valid(h->name))
			ERR(L, p->key->pos, "set 'address'",
			    "%s: the name is the address when 'address' is not set, and '%s' is "
			    "not a "
			    "valid address",
			    ctx, h->name);
		if (vmr_ynode_is_null(v) || !vmr_key_want_map(&kc, v, h->name))
			continue;
		vmr_key_check_unknown(&kc, v, keys, ARRAY_SIZE(keys));
		if ((n = vmr_key_get(v, "address")) &&
		    vmr_key_str(&kc, n, "address", &h->address) &&
		    !vmr_host_address_valid(h->address))
			ERR(L, n->pos, NULL, "%s: invalid address '%s'", ctx, h->address);
		if ((n = vmr_key_get(v, "primary")) &&
		    vmr_key_bool(&kc, n, "primary", &h->primary) && h->primary) {
			if (primary)
				ERR(L, n->pos, NULL,
				    "%s: a second primary host (host '%s' is primary)", ctx,
				    primary->name);
			else
				primary = h;
		}
		if ((n = vmr_key_get(v, "reserved_cpus")) &&
		    vmr_key_want_scalar(&kc, n, "reserved_cpus")) {
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
	struct vmr_keyctx top = loader_ctx(L, "topology"), kc = loader_ctx(L, "ctrlif");
	struct vmr_ctrlif *c = &L->t->ctrlif;
	const struct vmr_ynode *n;

	if (!vmr_key_want_map(&top, map, "ctrlif"))
		return;
	c->present = true;
	c->pos = map->pos;
	vmr_key_check_unknown(&kc, map, keys, ARRAY_SIZE(keys));
	if ((n = vmr_key_get(map, "parent")))
		vmr_key_ifname_or_mac(&kc, n, "parent", &c->parent, &c->parent_is_mac,
				      &c->parent_mac);
	else
		ERR(L, map->pos, NULL, "ctrlif: missing 'parent'");
	n = vmr_key_get(map, "address");
	if (!n) {
		ERR(L, map->pos, NULL, "ctrlif: missing 'address'");
	} else if (vmr_key_want_scalar(&kc, n, "address")) {
		if (vmr_cidr_parse(n->value, &c->address) < 0 || c->address.family != AF_INET)
			ERR(L, n->pos, "write an IPv4 ADDRESS/PREFIX, e.g. 172.25.160.1/24",
			    "ctrlif: invalid address '%s'", n->value);
		else
			vmr_mac_from_ipv4(c->address.addr.v4, &c->mac);
	}
}

/* ---- checks across guests ---- */

const char *vmr_guest_host(const struct vmr_topology *t, const struct vmr_guest *g)
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

/* A host resource a device claims, and who claims it. */
struct claimref {
	const struct vmr_guest *g;
	char *what; /* "nic 'n6'", or the device's key */
	const struct vmr_device *dev;
	struct vmr_claim claim;
	size_t order;
	const char *host; /* effective placement: PCI addresses belong to one machine */
};

static unsigned long long pci_key(const struct vmr_pci_addr *p)
{
	return ((unsigned long long)p->domain << 24) | (p->bus << 16) | (p->slot << 8) | p->func;
}

static int claim_cmp(const void *a, const void *b)
{
	const struct claimref *x = a, *y = b;
	unsigned long long u = pci_key(&x->claim.pci), v = pci_key(&y->claim.pci);
	int h = strcmp(x->host ? x->host : "", y->host ? y->host : "");

	if (h)
		return h;
	if (u != v)
		return u < v ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void claims_add(struct claimref **v, size_t *n, size_t *alloc, const struct vmr_topology *t,
		       const struct vmr_guest *g, const struct vmr_device *d, const char *what)
{
	struct vmr_claim c[16];
	size_t nc;

	if (!d->ops || !d->ops->claims)
		return;
	nc = d->ops->claims(d, c, ARRAY_SIZE(c));
	for (size_t i = 0; i < nc; i++) {
		XGROW(*v, *alloc, *n + 1);
		(*v)[*n] = (struct claimref){g, xstrdup(what), d, c[i], *n, vmr_guest_host(t, g)};
		(*n)++;
	}
}

/*
 * A PCI device is passed through whole at most once per host; VFs of one
 * PF may be shared.  Reported at the later claim, naming the earlier.
 */
static void check_claims(struct loader *L)
{
	struct vmr_topology *t = L->t;
	struct claimref *v = NULL;
	size_t n = 0, alloc = 0;
	char pbuf[13];

	for (size_t i = 0; i < t->nguests; i++) {
		const struct vmr_guest *g = &t->guests[i];

		for (size_t j = 0; j < g->nnics; j++) {
			_cleanup_free_ char *what = xasprintf("nic '%s'", g->nics[j].name);

			if (g->nics[j].name)
				claims_add(&v, &n, &alloc, t, g, &g->nics[j].att, what);
		}
		for (size_t j = 0; j < g->ndevices; j++)
			claims_add(&v, &n, &alloc, t, g, &g->devices[j], g->devices[j].ops->name);
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), claim_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i, whole = 0;

		while (j < n && vmr_pci_equal(&v[i].claim.pci, &v[j].claim.pci) &&
		       same_host(v[i].host, v[j].host)) {
			whole += v[j].claim.type == VMR_CLAIM_PCI;
			j++;
		}
		for (size_t k = i + 1; whole && k < j; k++)
			ERR(L, v[k].dev->pos, NULL,
			    "guest '%s' %s: PCI device '%s' is already used on the same host "
			    "by guest '%s' %s (%s)",
			    v[k].g->name, v[k].what, vmr_pci_format(&v[k].claim.pci, pbuf),
			    v[i].g->name, v[i].what, v[i].dev->ops->name);
		i = j;
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].what);
	free(v);
}

static void check_macs(struct loader *L)
{
	struct vmr_topology *t = L->t;
	_cleanup_free_ struct nicref *macs = NULL;
	size_t nmacs = 0, total = 0;
	struct vmr_nic ctrl = {0};
	char buf[18];

	for (size_t i = 0; i < t->nguests; i++)
		total += t->guests[i].nnics;
	macs = xcalloc(total + 1, sizeof(*macs));
	for (size_t i = 0; i < t->nguests; i++)
		for (size_t j = 0; j < t->guests[i].nnics; j++) {
			const struct vmr_nic *nic = &t->guests[i].nics[j];

			if (!nic->name)
				continue;
			macs[nmacs] = (struct nicref){&t->guests[i], nic, nmacs};
			nmacs++;
		}
	if (t->ctrlif.present && t->ctrlif.address.family == AF_INET) {
		ctrl.mac = t->ctrlif.mac;
		ctrl.mac_pos = t->ctrlif.pos;
		macs[nmacs] = (struct nicref){NULL, &ctrl, nmacs};
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
}

static void check_placement(struct loader *L)
{
	struct vmr_topology *t = L->t;

	for (size_t i = 0; i < t->nguests; i++) {
		const struct vmr_guest *g = &t->guests[i];
		const char *hn = vmr_guest_host(t, g);
		const struct vmr_host *h;
		long c;

		if (g->host && !vmr_topology_host(t, g->host)) {
			_cleanup_free_ const char **names = xcalloc(t->nhosts + 1, sizeof(*names));
			_cleanup_free_ char *hint = NULL;

			for (size_t k = 0; k < t->nhosts; k++)
				names[k] = t->hosts[k].name;
			hint = vmr_key_suggest(g->host, names, t->nhosts);
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

			if (!o->has_cpuset || !same_host(hn, vmr_guest_host(t, o)))
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
	struct vmr_keyctx top = loader_ctx(L, "topology");
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
	vmr_key_check_unknown(&top, root, top_keys, ARRAY_SIZE(top_keys));
	n = vmr_key_get(root, "version");
	if (!n)
		ERR(L, root->pos, "start the file with 'version: 1'",
		    "missing required key 'version'");
	else if (vmr_key_uint(&top, n, "version", 0, ~0u, &t->version) && t->version != 1)
		ERR(L, n->pos, NULL, "unsupported version %u (this vmrun reads version 1)",
		    t->version);

	if ((n = vmr_key_get(root, "hosts")))
		hosts_load(L, n);
	if ((n = vmr_key_get(root, "ctrlif")))
		ctrlif_load(L, n);

	n = vmr_key_get(root, "defaults");
	if (n && vmr_key_want_map(&top, n, "defaults")) {
		/* check the defaults once, on their own, so their errors show once */
		struct vmr_guest tmp = {.name = xstrdup("defaults")};

		guest_load(L, &tmp, n, "defaults");
		guest_free(&tmp);
		L->defaults = n;
	}

	guests = vmr_key_get(root, "guests");
	if (guests && vmr_key_want_map(&top, guests, "guests")) {
		t->guests = xcalloc(guests->n, sizeof(*t->guests));
		for (size_t i = 0; i < guests->n; i++) {
			const struct vmr_ypair *p = &guests->pairs[i];
			struct vmr_guest *g = &t->guests[t->nguests];
			const struct vmr_ynode *own = p->value;
			_cleanup_free_ char *ctx = NULL;
			struct vmr_keyctx kc;

			if (p->skip)
				continue;
			t->nguests++;
			g->pos = p->key->pos;
			g->name = xstrdup(p->key->value);
			ctx = xasprintf("guest '%s'", g->name);
			kc = loader_ctx(L, ctx);
			if (!vmr_guest_name_valid(g->name))
				ERR(L, p->key->pos, NULL,
				    "invalid guest name '%s' (expected [a-z][a-z0-9]{0,30})",
				    g->name);
			if (vmr_ynode_is_null(own))
				own = NULL;
			else if (!vmr_key_want_map(&kc, own, g->name))
				continue;
			guest_load(L, g, own, ctx);
		}
	}
	check_placement(L);
	check_macs(L);
	check_claims(L);
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
			     const struct vmr_device_ops *const *kinds, struct vmr_topology **ret,
			     struct vmr_diags *diags)
{
	struct vmr_topology *t;
	struct loader L = {.r = {.file = name ? name : "<input>", .diags = diags}, .kinds = kinds};
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
	t->kinds = kinds;
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

int vmr_topology_load(const char *path, const struct vmr_device_ops *const *kinds,
		      struct vmr_topology **ret, struct vmr_diags *diags)
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
	return vmr_topology_load_buffer(path, data, len, kinds, ret, diags);
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
