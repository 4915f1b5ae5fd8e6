/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libyaml event API -> a plain tree with positions (see yamltree.h). */
#include <stdarg.h>
#include <stdio.h>
#include <yaml.h>

#include "lib/base/strvec.h"
#include "lib/base/util.h"
#include "lib/model/yamltree.h"

/* Keys in one mapping: bounds the quadratic duplicate-key check. */
#define VMR_YMAP_MAX_KEYS 4096

void vmr_yreport_add(struct vmr_yreport *r, struct vmr_pos pos, const char *hint, const char *fmt,
		     ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	r->errors++;
	if (r->muted || !r->diags)
		return;
	if (r->diags->n >= VMR_YREPORT_MAX) {
		r->dropped++;
		return;
	}
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	vmr_diags_add(r->diags, r->file, pos.line, pos.col, hint, "%s", msg);
}

void vmr_ynode_free(struct vmr_ynode *n)
{
	if (!n)
		return;
	free(n->value);
	for (size_t i = 0; n->type == VMR_YNODE_MAP && i < n->n; i++) {
		vmr_ynode_free(n->pairs[i].key);
		vmr_ynode_free(n->pairs[i].value);
	}
	for (size_t i = 0; n->type == VMR_YNODE_SEQ && i < n->n; i++)
		vmr_ynode_free(n->items[i]);
	free(n->pairs);
	free(n->items);
	free(n);
}

struct vmr_ynode *vmr_ymap_get(const struct vmr_ynode *map, const char *key)
{
	if (!map || map->type != VMR_YNODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (!map->pairs[i].skip && streq(map->pairs[i].key->value, key))
			return map->pairs[i].value;
	return NULL;
}

bool vmr_ynode_is_null(const struct vmr_ynode *n)
{
	return n && n->type == VMR_YNODE_SCALAR && n->plain &&
	       (!*n->value || streq(n->value, "~") || streq(n->value, "null") ||
		streq(n->value, "Null") || streq(n->value, "NULL"));
}

const char *vmr_ynode_kind(const struct vmr_ynode *n)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case VMR_YNODE_MAP:
		return "a mapping";
	case VMR_YNODE_SEQ:
		return "a list";
	case VMR_YNODE_SCALAR:
		break;
	}
	return vmr_ynode_is_null(n) ? "null" : "a scalar";
}

static struct vmr_pos mark_pos(yaml_mark_t m)
{
	return (struct vmr_pos){(unsigned)m.line + 1, (unsigned)m.column + 1};
}

/* Line and column (in characters, like libyaml's marks) of byte offset off. */
static struct vmr_pos offset_pos(const char *data, size_t len, size_t off)
{
	struct vmr_pos p = {1, 1};

	for (size_t i = 0; i < off && i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\n') {
			p.line++;
			p.col = 1;
		} else if ((c & 0xc0) != 0x80) {
			p.col++;
		}
	}
	return p;
}

/* The byte at a libyaml position, or -1 (used only to explain errors). */
static int byte_at(const char *data, size_t len, struct vmr_pos want)
{
	struct vmr_pos p = {1, 1};

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		if ((c & 0xc0) == 0x80)
			continue;
		if (p.line == want.line && p.col == want.col)
			return c;
		if (c == '\n') {
			p.line++;
			p.col = 1;
		} else {
			p.col++;
		}
	}
	return -1;
}

static void report_syntax(const yaml_parser_t *ps, const char *data, size_t len,
			  struct vmr_yreport *r)
{
	const char *problem = ps->problem ? ps->problem : "cannot parse";
	struct vmr_pos pos;

	switch (ps->error) {
	case YAML_MEMORY_ERROR:
		vmr_yreport_add(r, (struct vmr_pos){1, 1}, NULL, "out of memory while parsing");
		return;
	case YAML_READER_ERROR:
		/* reader errors carry a byte offset, not a mark */
		pos = offset_pos(data, len, ps->problem_offset);
		if (ps->problem_value >= 0)
			vmr_yreport_add(r, pos, NULL, "%s (byte 0x%02x)", problem,
					ps->problem_value & 0xff);
		else
			vmr_yreport_add(r, pos, NULL, "%s", problem);
		return;
	default:
		break;
	}
	pos = mark_pos(ps->problem_mark);
	vmr_yreport_add(r, pos,
			byte_at(data, len, pos) == '\t' ? "indent with spaces, not tabs" : NULL,
			"%s%s%s%s", problem, ps->context ? " (" : "",
			ps->context ? ps->context : "", ps->context ? ")" : "");
}

struct frame {
	struct vmr_ynode *node;
	struct vmr_ynode *key; /* mapping: the key waiting for its value */
	bool skip;	       /* ... and whether that pair is to be ignored */
};

struct yparse {
	struct vmr_yreport *r;
	struct frame stack[VMR_YTREE_MAX_DEPTH + 1];
	size_t depth;
	struct vmr_ynode *root;
	struct vmr_strvec aliases; /* anchor names already reported as aliased */
};

static bool key_check(struct yparse *y, struct frame *f, struct vmr_ynode *key)
{
	if (key->type != VMR_YNODE_SCALAR) {
		vmr_yreport_add(y->r, key->pos, NULL, "mapping keys must be scalars, not %s",
				vmr_ynode_kind(key));
		return false;
	}
	if (key->plain && streq(key->value, "<<")) {
		vmr_yreport_add(y->r, key->pos, "write the keys out in full",
				"merge keys ('<<') are not allowed");
		return false;
	}
	if (f->node->n >= VMR_YMAP_MAX_KEYS) {
		vmr_yreport_add(y->r, key->pos, NULL, "more than %d keys in one mapping",
				VMR_YMAP_MAX_KEYS);
		return false;
	}
	for (size_t i = 0; i < f->node->n; i++) {
		const struct vmr_ypair *p = &f->node->pairs[i];

		if (p->key->type == VMR_YNODE_SCALAR && streq(p->key->value, key->value)) {
			vmr_yreport_add(y->r, key->pos, NULL,
					"duplicate key '%s' (first at line %u)", key->value,
					p->key->pos.line);
			return false;
		}
	}
	return true;
}

/* Hang a new node below the current collection (or make it the root). */
static void attach(struct yparse *y, struct vmr_ynode *n)
{
	struct frame *f;

	if (y->depth == 0) {
		vmr_ynode_free(y->root); /* cannot happen: one document only */
		y->root = n;
		return;
	}
	f = &y->stack[y->depth - 1];
	if (f->node->type == VMR_YNODE_SEQ) {
		XGROW(f->node->items, f->node->alloc, f->node->n + 1);
		f->node->items[f->node->n++] = n;
		return;
	}
	if (!f->key) {
		f->key = n;
		f->skip = !key_check(y, f, n);
		return;
	}
	XGROW(f->node->pairs, f->node->alloc, f->node->n + 1);
	f->node->pairs[f->node->n++] = (struct vmr_ypair){f->key, n, f->skip};
	f->key = NULL;
}

static struct vmr_ynode *node_new(enum vmr_ynode_type type, yaml_mark_t m)
{
	struct vmr_ynode *n = xcalloc(1, sizeof(*n));

	n->type = type;
	n->pos = mark_pos(m);
	return n;
}

static void check_props(struct yparse *y, struct vmr_pos pos, const yaml_char_t *anchor,
			const yaml_char_t *tag, bool implicit)
{
	if (anchor)
		vmr_yreport_add(y->r, pos, "repeat the value instead",
				"anchors are not allowed ('&%s')", (const char *)anchor);
	if (tag && !implicit)
		vmr_yreport_add(y->r, pos, NULL, "tags are not allowed ('%s')", (const char *)tag);
}

/* One event; returns -EINVAL to stop parsing. */
static int on_event(struct yparse *y, const yaml_event_t *ev, unsigned *docs)
{
	struct vmr_pos pos = mark_pos(ev->start_mark);
	struct vmr_ynode *n;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1) {
			vmr_yreport_add(y->r, pos, NULL, "more than one document in the file");
			return -EINVAL;
		}
		return 0;
	case YAML_ALIAS_EVENT: {
		const char *name = (const char *)ev->data.alias.anchor;
		bool seen = false;

		/* once per anchor: a billion-laughs file would otherwise flood the output */
		for (size_t i = 0; i < y->aliases.n && !seen; i++)
			seen = streq(y->aliases.v[i], name);
		if (seen) {
			y->r->errors++;
		} else {
			vmr_strvec_push(&y->aliases, name);
			vmr_yreport_add(y->r, pos, "repeat the value instead",
					"aliases are not allowed ('*%s')", name);
		}
		/* a null stands in, so the structure around it stays intact */
		n = node_new(VMR_YNODE_SCALAR, ev->start_mark);
		n->value = xstrdup("");
		n->plain = true;
		attach(y, n);
		return 0;
	}
	case YAML_SCALAR_EVENT:
		check_props(y, pos, ev->data.scalar.anchor, ev->data.scalar.tag,
			    ev->data.scalar.plain_implicit || ev->data.scalar.quoted_implicit);
		n = node_new(VMR_YNODE_SCALAR, ev->start_mark);
		n->value = xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (strlen(n->value) != ev->data.scalar.length)
			vmr_yreport_add(y->r, pos, NULL, "NUL character in string");
		attach(y, n);
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (y->depth >= VMR_YTREE_MAX_DEPTH) {
			vmr_yreport_add(y->r, pos, NULL, "nesting deeper than %d levels",
					VMR_YTREE_MAX_DEPTH);
			return -EINVAL;
		}
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			check_props(y, pos, ev->data.sequence_start.anchor,
				    ev->data.sequence_start.tag, ev->data.sequence_start.implicit);
			n = node_new(VMR_YNODE_SEQ, ev->start_mark);
		} else {
			check_props(y, pos, ev->data.mapping_start.anchor,
				    ev->data.mapping_start.tag, ev->data.mapping_start.implicit);
			n = node_new(VMR_YNODE_MAP, ev->start_mark);
		}
		attach(y, n);
		y->stack[y->depth++] = (struct frame){n, NULL, false};
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (y->depth > 0)
			y->depth--;
		return 0;
	default:
		return 0;
	}
}

int vmr_ytree_parse(const char *data, size_t len, struct vmr_yreport *r, struct vmr_ynode **ret)
{
	struct yparse y = {.r = r};
	yaml_parser_t parser;
	unsigned docs = 0;
	const char *nul;
	int ret_r = 0;

	/* libyaml asserts on a NULL input, even an empty one */
	if (!data)
		data = "";
	/* libyaml would stop at a NUL with a vaguer message */
	nul = memchr(data, '\0', len);
	if (nul) {
		vmr_yreport_add(r, offset_pos(data, len, (size_t)(nul - data)), NULL,
				"NUL byte in file");
		return -EINVAL;
	}
	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	for (;;) {
		yaml_event_t ev;
		bool end;

		if (!yaml_parser_parse(&parser, &ev)) {
			report_syntax(&parser, data, len, r);
			ret_r = -EINVAL;
			break;
		}
		ret_r = on_event(&y, &ev, &docs);
		end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (ret_r < 0 || end)
			break;
	}
	yaml_parser_delete(&parser);
	vmr_strvec_clear(&y.aliases);
	if (ret_r < 0) {
		/* a key waiting for its value is owned by no node yet */
		for (size_t i = 0; i < y.depth; i++)
			vmr_ynode_free(y.stack[i].key);
		vmr_ynode_free(y.root);
		return ret_r;
	}
	*ret = y.root;
	return 0;
}
