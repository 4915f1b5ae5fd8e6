/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Typed values and key tables of the topology file (lib/model/keys.h). */
#include <stdio.h>

#include "lib/base/buf.h"
#include "lib/base/netaddr.h"
#include "lib/base/util.h"
#include "lib/model/keys.h"

#define ERR VMR_KEY_ERR

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

char *vmr_key_suggest(const char *word, const char *const *cands, size_t n)
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

char *vmr_key_join(const char *const *names, size_t n, const char *last_sep)
{
	struct vmr_buf b = VMR_BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		if (i)
			vmr_buf_adds(&b, i + 1 == n ? last_sep : ", ");
		vmr_buf_adds(&b, names[i]);
	}
	return vmr_buf_detach(&b);
}

/* ---- typed values ---- */

struct vmr_ynode *vmr_key_get(const struct vmr_ynode *map, const char *key)
{
	struct vmr_ynode *n = vmr_ymap_get(map, key);

	return vmr_ynode_is_null(n) ? NULL : n;
}

bool vmr_key_want_map(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key)
{
	if (n->type == VMR_YNODE_MAP)
		return true;
	ERR(c, n->pos, NULL, "%s: '%s' must be a mapping, not %s", c->ctx, key, vmr_ynode_kind(n));
	return false;
}

bool vmr_key_want_seq(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key)
{
	if (n->type == VMR_YNODE_SEQ)
		return true;
	ERR(c, n->pos, NULL, "%s: '%s' must be a list, not %s", c->ctx, key, vmr_ynode_kind(n));
	return false;
}

bool vmr_key_want_scalar(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key)
{
	if (n->type == VMR_YNODE_SCALAR)
		return true;
	ERR(c, n->pos, NULL, "%s: '%s' must be a single value, not %s", c->ctx, key,
	    vmr_ynode_kind(n));
	return false;
}

bool vmr_key_str(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key, char **out)
{
	if (!vmr_key_want_scalar(c, n, key))
		return false;
	if (vmr_ynode_is_null(n) || !*n->value) {
		ERR(c, n->pos, NULL, "%s: '%s' must not be empty", c->ctx, key);
		return false;
	}
	free(*out);
	*out = xstrdup(n->value);
	return true;
}

bool vmr_key_uint(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key,
		  unsigned long long min, unsigned long long max, unsigned *out)
{
	unsigned long long v;
	int r;

	if (!vmr_key_want_scalar(c, n, key))
		return false;
	if (!n->plain) {
		/* quoted scalars stay strings: "100" is not the number 100 */
		ERR(c, n->pos, "remove the quotes",
		    "%s: '%s' must be a number, not the string \"%s\"", c->ctx, key, n->value);
		return false;
	}
	r = parse_uint(n->value, max, &v);
	if (r == -EINVAL) {
		ERR(c, n->pos, NULL, "%s: '%s' must be a decimal number, not '%s'", c->ctx, key,
		    n->value);
		return false;
	}
	if (r < 0 || v < min) {
		ERR(c, n->pos, NULL, "%s: %s '%s' out of range (%llu..%llu)", c->ctx, key, n->value,
		    min, max);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

bool vmr_key_bool(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE"};
	static const char *const no[] = {"false", "False", "FALSE"};

	if (!vmr_key_want_scalar(c, n, key))
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
	ERR(c, n->pos, "write true or false (without quotes)",
	    "%s: '%s' must be true or false, not '%s'", c->ctx, key, n->value);
	return false;
}

bool vmr_key_enum(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key,
		  const char *const *names, size_t nnames, unsigned *out)
{
	_cleanup_free_ char *hint = NULL, *list = NULL;

	if (!vmr_key_want_scalar(c, n, key))
		return false;
	for (size_t i = 0; i < nnames; i++)
		if (streq(n->value, names[i])) {
			*out = (unsigned)i;
			return true;
		}
	hint = vmr_key_suggest(n->value, names, nnames);
	list = vmr_key_join(names, nnames, " or ");
	ERR(c, n->pos, hint, "%s: unknown %s '%s' (expected %s)", c->ctx, key, n->value, list);
	return false;
}

bool vmr_key_size(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key, uint64_t min,
		  uint64_t *out)
{
	uint64_t v;
	int r;

	if (!vmr_key_want_scalar(c, n, key))
		return false;
	r = vmr_size_parse(n->value, 1ull << 20, &v);
	if (r == -EINVAL) {
		ERR(c, n->pos,
		    "write a number with an optional K, M, G or T suffix (bare numbers are MiB)",
		    "%s: invalid %s '%s'", c->ctx, key, n->value);
		return false;
	}
	if (r < 0) {
		ERR(c, n->pos, NULL, "%s: %s '%s' is too large", c->ctx, key, n->value);
		return false;
	}
	if (v < min) {
		ERR(c, n->pos, NULL, "%s: %s '%s' is too small (at least %lluM)", c->ctx, key,
		    n->value, (unsigned long long)(min >> 20));
		return false;
	}
	*out = v;
	return true;
}

bool vmr_key_strlist(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key,
		     struct vmr_strvec *out)
{
	bool good = true;

	if (!vmr_key_want_seq(c, n, key))
		return false;
	vmr_strvec_clear(out);
	for (size_t i = 0; i < n->n; i++) {
		const struct vmr_ynode *it = n->items[i];

		if (it->type != VMR_YNODE_SCALAR || vmr_ynode_is_null(it) || !*it->value) {
			ERR(c, it->pos, NULL, "%s: items of '%s' must be non-empty strings, not %s",
			    c->ctx, key,
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

bool vmr_key_ifname_or_mac(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key,
			   char **parent, bool *is_mac, struct vmr_mac *mac)
{
	if (!vmr_key_str(c, n, key, parent))
		return false;
	if (vmr_mac_parse(*parent, mac) == 0) {
		*is_mac = true;
		return true;
	}
	if (strchr(*parent, ':') && strlen(*parent) == 17) {
		ERR(c, n->pos, NULL, "%s: invalid MAC address '%s' for '%s'", c->ctx, *parent, key);
		return false;
	}
	if (!vmr_ifname_valid(*parent)) {
		ERR(c, n->pos, NULL,
		    "%s: '%s' is neither a MAC address nor a valid interface name for '%s'", c->ctx,
		    *parent, key);
		return false;
	}
	return true;
}

bool vmr_key_pci(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key,
		 struct vmr_pci_addr *out)
{
	_cleanup_free_ char *hint = NULL;
	struct vmr_pci_addr tmp;

	if (!vmr_key_want_scalar(c, n, key))
		return false;
	if (vmr_pci_parse(n->value, out) == 0)
		return true;
	/* the short BB:SS.F form that lspci prints */
	if (strlen(n->value) == 7) {
		_cleanup_free_ char *full = xasprintf("0000:%s", n->value);

		if (vmr_pci_parse(full, &tmp) == 0)
			hint = xasprintf("write the full address '%s'", full);
	}
	ERR(c, n->pos, hint, "%s: invalid PCI address '%s' for '%s' (expected DDDD:BB:SS.F)",
	    c->ctx, n->value, key);
	return false;
}

void vmr_key_check_unknown(struct vmr_keyctx *c, const struct vmr_ynode *map,
			   const char *const *known, size_t nknown)
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
		hint = vmr_key_suggest(p->key->value, known, nknown);
		ERR(c, p->key->pos, hint, "%s: unknown key '%s'", c->ctx, p->key->value);
	}
}

/* ---- tables ---- */

static size_t count_names(const char *const *names)
{
	size_t n = 0;

	while (names && names[n])
		n++;
	return n;
}

bool vmr_key_parse(struct vmr_keyctx *c, const struct vmr_key *k, const struct vmr_ynode *n,
		   void *obj)
{
	void *field = (char *)obj + k->off;
	unsigned v;

	if (k->flags & VMR_KEY_POS)
		*(struct vmr_pos *)(void *)((char *)obj + k->pos_off) = n->pos;
	switch (k->type) {
	case VMR_KEY_STR:
		return vmr_key_str(c, n, k->name, field);
	case VMR_KEY_TEXT:
		if (!vmr_key_want_scalar(c, n, k->name))
			return false;
		free(*(char **)field);
		*(char **)field = xstrdup(vmr_ynode_is_null(n) ? "" : n->value);
		return true;
	case VMR_KEY_BOOL:
		return vmr_key_bool(c, n, k->name, field);
	case VMR_KEY_UINT:
		return vmr_key_uint(c, n, k->name, k->min, k->max, field);
	case VMR_KEY_SIZE:
		return vmr_key_size(c, n, k->name, k->min, field);
	case VMR_KEY_ENUM:
		if (!vmr_key_enum(c, n, k->name, k->names, count_names(k->names), &v))
			return false;
		*(unsigned *)field = v + k->base;
		return true;
	case VMR_KEY_STRLIST:
		return vmr_key_strlist(c, n, k->name, field);
	case VMR_KEY_CUSTOM:
		return k->parse(c, n, field, obj);
	}
	return false;
}

void vmr_keys_parse(struct vmr_keyctx *c, const struct vmr_key *keys, const struct vmr_ynode *map,
		    void *obj)
{
	for (const struct vmr_key *k = keys; k && k->name; k++) {
		const struct vmr_ynode *n = vmr_key_get(map, k->name);

		if (n)
			vmr_key_parse(c, k, n, obj);
	}
}

const char **vmr_keys_names(const struct vmr_key *keys, size_t *ret_n)
{
	size_t n = 0;
	const char **v;

	while (keys && keys[n].name)
		n++;
	v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = keys[i].name;
	*ret_n = n;
	return v;
}

const struct vmr_key *vmr_keys_find(const struct vmr_key *keys, const char *name)
{
	for (const struct vmr_key *k = keys; k && k->name; k++)
		if (streq(k->name, name))
			return k;
	return NULL;
}

void vmr_keys_free(const struct vmr_key *keys, void *obj)
{
	for (const struct vmr_key *k = keys; k && k->name; k++) {
		void *field = (char *)obj + k->off;

		switch (k->type) {
		case VMR_KEY_STR:
		case VMR_KEY_TEXT:
			free(*(char **)field);
			*(char **)field = NULL;
			break;
		case VMR_KEY_STRLIST:
			vmr_strvec_clear(field);
			break;
		case VMR_KEY_CUSTOM:
			if (k->free)
				k->free(field);
			break;
		default:
			break;
		}
	}
}

void vmr_keys_json(const struct vmr_key *keys, const void *obj, bool hw_only, json_t *o)
{
	for (const struct vmr_key *k = keys; k && k->name; k++) {
		const void *field = (const char *)obj + k->off;
		const struct vmr_strvec *sv;
		const char *const *shown;
		json_t *v = NULL;
		unsigned e;

		if (hw_only && !(k->flags & VMR_KEY_HW))
			continue;
		switch (k->type) {
		case VMR_KEY_STR:
		case VMR_KEY_TEXT:
			v = *(char *const *)field ? json_string(*(char *const *)field)
						  : json_null();
			break;
		case VMR_KEY_BOOL:
			v = json_boolean(*(const bool *)field);
			break;
		case VMR_KEY_UINT:
			v = json_integer(*(const unsigned *)field);
			break;
		case VMR_KEY_SIZE:
			v = json_integer((json_int_t) * (const uint64_t *)field);
			break;
		case VMR_KEY_ENUM:
			e = *(const unsigned *)field;
			shown = k->shown ? k->shown : k->names;
			if (k->shown)
				v = e < count_names(shown) ? json_string(shown[e]) : json_null();
			else
				v = e >= k->base && e - k->base < count_names(shown)
					? json_string(shown[e - k->base])
					: json_null();
			break;
		case VMR_KEY_STRLIST:
			sv = field;
			v = json_array();
			for (size_t i = 0; i < sv->n; i++)
				json_array_append_new(v, json_string(sv->v[i]));
			break;
		case VMR_KEY_CUSTOM:
			if (k->json)
				v = k->json(field);
			break;
		}
		if (v)
			json_object_set_new(o, k->name, v);
	}
}
