/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_YAMLTREE_H
#define VMR_YAMLTREE_H

/*
 * A small, hostile-input-safe YAML reader for the topology loader (internal
 * to lib/).  It drives libyaml's event API and builds a plain tree of
 * scalars, mappings and sequences with 1-based positions.  Anchors,
 * aliases, tags, merge keys, duplicate and non-scalar keys, NUL bytes and
 * nesting deeper than VMR_YTREE_MAX_DEPTH are reported; the tree has no
 * shared nodes, so walking it is linear in the file size.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/model/diag.h"

/* Nesting deeper than this is refused (a topology needs 6 levels). */
#define VMR_YTREE_MAX_DEPTH 16

/* Where diagnostics go, shared by the reader and the topology checks. */
struct vmr_yreport {
	const char *file;
	struct vmr_diags *diags;
	unsigned errors;  /* every error counted, printed or not */
	unsigned dropped; /* errors beyond VMR_YREPORT_MAX, not recorded */
	bool muted;	  /* count but do not record (values inherited from defaults) */
};

/* Diagnostics after which the loader stops recording more (and counts them in dropped). */
#define VMR_YREPORT_MAX 100

/* Record an error at pos (see struct vmr_yreport). hint may be NULL. */
void vmr_yreport_add(struct vmr_yreport *r, struct vmr_pos pos, const char *hint, const char *fmt,
		     ...) __attribute__((format(printf, 4, 5)));

enum vmr_ynode_type { VMR_YNODE_SCALAR, VMR_YNODE_MAP, VMR_YNODE_SEQ };

struct vmr_ynode;

struct vmr_ypair {
	struct vmr_ynode *key;
	struct vmr_ynode *value;
	bool skip; /* reported (duplicate, merge or non-scalar key): ignore */
};

struct vmr_ynode {
	enum vmr_ynode_type type;
	struct vmr_pos pos;
	/* VMR_YNODE_SCALAR */
	char *value; /* NUL-terminated */
	bool plain;  /* unquoted: may be null, a bool or a number */
	/* VMR_YNODE_MAP */
	struct vmr_ypair *pairs;
	/* VMR_YNODE_SEQ */
	struct vmr_ynode **items;
	size_t n, alloc; /* pairs or items */
};

/*
 * Parse one YAML document.  Returns 0 and the root in *ret (NULL for an
 * empty document); problems that still leave a usable tree (duplicate keys,
 * anchors...) are reported and parsing goes on.  Returns -EINVAL after a
 * syntax error or a hard limit, with the error reported and no tree.
 */
int vmr_ytree_parse(const char *data, size_t len, struct vmr_yreport *r, struct vmr_ynode **ret);

/* Free a node and everything below it; NULL is fine. */
void vmr_ynode_free(struct vmr_ynode *n);

/* The value of key in map (first non-skipped match), or NULL. */
struct vmr_ynode *vmr_ymap_get(const struct vmr_ynode *map, const char *key);

/* A plain null scalar: ~, null, Null, NULL or nothing at all. */
bool vmr_ynode_is_null(const struct vmr_ynode *n);

/* "a mapping", "a list", "a string" ... for messages. */
const char *vmr_ynode_kind(const struct vmr_ynode *n);

#endif
