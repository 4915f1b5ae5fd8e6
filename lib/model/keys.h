/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_KEYS_H
#define VMR_KEYS_H

/*
 * Keys of the topology file as tables: a key's name, type, where its value
 * goes (an offset in the struct that holds it), its range, whether the
 * guest sees it.  One table drives parsing (with the checks and messages
 * of docs/topology.md), freeing, and the JSON of the guest's hardware
 * that the cloud-init instance-id hashes, so a key added to a table
 * cannot be forgotten in any of them.  The guest's own keys, a NIC's and
 * a disk's common keys and every device kind's keys (lib/model/device.h)
 * are such tables.
 *
 * The typed readers below report a bad value at its position, in the words
 * "CTX: 'KEY' must be ..." where CTX names the guest and item, and return
 * false; loading goes on, so the user sees every problem at once.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/netaddr.h"
#include "lib/base/strvec.h"
#include "lib/model/yamltree.h"

/* Where values are read: the report and the context for messages. */
struct vmr_keyctx {
	struct vmr_yreport *r;
	const char *ctx; /* "guest 'a' nic 'n1'" */
};

#define VMR_KEY_ERR(c, pos, hint, ...) vmr_yreport_add((c)->r, (pos), (hint), __VA_ARGS__)

/* The value of key in map; a null value counts as absent (docs/topology.md). */
struct vmr_ynode *vmr_key_get(const struct vmr_ynode *map, const char *key);

bool vmr_key_want_map(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key);
bool vmr_key_want_seq(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key);
bool vmr_key_want_scalar(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key);

/* A non-empty string into *out (replacing what it held). */
bool vmr_key_str(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key, char **out);
/* An unquoted decimal in min..max. */
bool vmr_key_uint(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key,
		  unsigned long long min, unsigned long long max, unsigned *out);
/* true or false, unquoted. */
bool vmr_key_bool(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key, bool *out);
/* One of names[0..n-1]: its index in *out; "did you mean" for a near miss. */
bool vmr_key_enum(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key,
		  const char *const *names, size_t nnames, unsigned *out);
/* A size with an optional K, M, G or T suffix (bare numbers are MiB), at least min. */
bool vmr_key_size(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key, uint64_t min,
		  uint64_t *out);
/* A list of non-empty strings. */
bool vmr_key_strlist(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key,
		     struct vmr_strvec *out);

/*
 * A host interface given by MAC or by name (`macvtap: eth1`, ctrlif's
 * `parent`): the text in *parent, and when it is a MAC, *is_mac and *mac.
 */
bool vmr_key_ifname_or_mac(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key,
			   char **parent, bool *is_mac, struct vmr_mac *mac);
/* A PCI address DDDD:BB:SS.F (the short BB:SS.F lspci prints gets a hint). */
bool vmr_key_pci(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key,
		 struct vmr_pci_addr *out);

/* Report the keys of map not among known[0..n-1] ("unknown key 'x'", with a hint). */
void vmr_key_check_unknown(struct vmr_keyctx *c, const struct vmr_ynode *map,
			   const char *const *known, size_t nknown);

/* "did you mean 'x'?" for the closest of cands, or NULL; caller frees. */
char *vmr_key_suggest(const char *word, const char *const *cands, size_t n);
/* "a, b or c" (caller frees). */
char *vmr_key_join(const char *const *names, size_t n, const char *last_sep);

enum vmr_key_type {
	VMR_KEY_STR,	 /* char *: a non-empty string */
	VMR_KEY_TEXT,	 /* char *: a string, empty allowed (null is "") */
	VMR_KEY_BOOL,	 /* bool */
	VMR_KEY_UINT,	 /* unsigned, min..max */
	VMR_KEY_SIZE,	 /* uint64_t bytes, at least min */
	VMR_KEY_ENUM,	 /* unsigned (an enum): index in names + base */
	VMR_KEY_STRLIST, /* struct vmr_strvec */
	VMR_KEY_CUSTOM,	 /* parse(), free() and json() of the key's own */
};

/* the guest sees this value: it is part of the instance-id (docs/images.md) */
#define VMR_KEY_HW (1u << 0)
/* keep where the key was written in the struct vmr_pos at pos_off */
#define VMR_KEY_POS (1u << 1)

struct vmr_key {
	const char *name;
	enum vmr_key_type type;
	size_t off; /* of the value in the struct the table describes */
	unsigned flags;
	size_t pos_off;		  /* VMR_KEY_POS */
	unsigned long long min;	  /* UINT, SIZE */
	unsigned long long max;	  /* UINT */
	const char *const *names; /* ENUM: the accepted names, NULL-terminated */
	unsigned base;		  /* ENUM: the value of names[0] */
	const char *const *shown; /* ENUM: the names of every value, for JSON (NULL: names) */
	/* CUSTOM: read n into field; true when it was valid */
	bool (*parse)(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field, void *obj);
	void (*free)(void *field);
	json_t *(*json)(const void *field); /* NULL: left out of the JSON */
};

#define VMR_KEYS_END                                                                               \
	{                                                                                          \
		.name = NULL                                                                       \
	}

/*
 * Read the value node n of key k into obj (the struct k->off is relative
 * to).  Returns whether the value was valid; a bad one is reported.
 */
bool vmr_key_parse(struct vmr_keyctx *c, const struct vmr_key *k, const struct vmr_ynode *n,
		   void *obj);

/* Read every key of the table that map has (null values count as absent). */
void vmr_keys_parse(struct vmr_keyctx *c, const struct vmr_key *keys, const struct vmr_ynode *map,
		    void *obj);

/* The names of a table, for vmr_key_check_unknown(); caller frees the array. */
const char **vmr_keys_names(const struct vmr_key *keys, size_t *ret_n);
/* The entry of the table named name, or NULL. */
const struct vmr_key *vmr_keys_find(const struct vmr_key *keys, const char *name);

/* Free what obj's keys own (strings, lists, custom values); obj itself stays. */
void vmr_keys_free(const struct vmr_key *keys, void *obj);

/*
 * Add obj's keys to o as JSON (strings, numbers, booleans, enum names,
 * arrays; absent strings are null).  hw_only: only VMR_KEY_HW keys.
 */
void vmr_keys_json(const struct vmr_key *keys, const void *obj, bool hw_only, json_t *o);

#endif
