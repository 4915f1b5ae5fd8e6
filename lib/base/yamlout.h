/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_YAMLOUT_H
#define VMR_YAMLOUT_H

/*
 * The YAML writer of every file vmrun generates (compose.yml, Kubernetes
 * manifests, cloud-init seeds, `vmrun define` topologies): a thin layer over libyaml's emitter that
 * appends to a vmr_buf.  Errors are sticky: the first failure is kept and
 * every later call is a no-op, so a generator emits without checking each
 * call and asks once, at vmr_yamlout_finish().
 *
 * Strings are typed: vmr_yamlout_str() quotes a value whenever a YAML 1.1
 * or 1.2 reader (PyYAML as cloud-init and docker-compose 1.29 use it, Go's
 * yaml.v3, js-yaml) would resolve its plain form to something other than a
 * string ("7", "no", "On", "12:30", "1e3", "~", ""), so a cpuset "7", a
 * password "0000" or a NIC named "on" stay strings.  Block style, indent 2,
 * no line folding (a generated file diffs one line per value).
 */

#include <stdbool.h>
#include <yaml.h>

#include "lib/base/buf.h"
#include "lib/base/error.h"

struct vmr_yamlout {
	yaml_emitter_t emitter;
	struct vmr_buf *out;
	char *problem; /* first failure, or NULL */
};

/* Start a stream and one document appending to out (which the caller owns). */
void vmr_yamlout_init(struct vmr_yamlout *y, struct vmr_buf *out);

/*
 * End the document and the stream, flush and release the emitter.  Returns
 * 0, or -EINVAL with *err "generate WHAT: PROBLEM" for the first failure.
 * y must be initialised again before reuse.
 */
int vmr_yamlout_finish(struct vmr_yamlout *y, const char *what, struct vmr_error **err);

/* Begin another document in the same stream ("---" separated). */
void vmr_yamlout_next_document(struct vmr_yamlout *y);

void vmr_yamlout_map_start(struct vmr_yamlout *y);
void vmr_yamlout_map_end(struct vmr_yamlout *y);
/* flow: written inline as [a, b] (short lists such as exec-form commands) */
void vmr_yamlout_seq_start(struct vmr_yamlout *y, bool flow);
void vmr_yamlout_seq_end(struct vmr_yamlout *y);

/* A string scalar, quoted when its plain form would not read back as a string. */
void vmr_yamlout_str(struct vmr_yamlout *y, const char *s);
/* A string scalar, always double-quoted (exec-form argv items). */
void vmr_yamlout_quoted(struct vmr_yamlout *y, const char *s);
/* A multi-line string as a literal block ("|"); libyaml quotes it when it cannot. */
void vmr_yamlout_literal(struct vmr_yamlout *y, const char *s, size_t len);
void vmr_yamlout_int(struct vmr_yamlout *y, long long v);
void vmr_yamlout_bool(struct vmr_yamlout *y, bool v);

/* key: value pairs, for brevity inside mappings */
void vmr_yamlout_kv_str(struct vmr_yamlout *y, const char *key, const char *value);
void vmr_yamlout_kv_quoted(struct vmr_yamlout *y, const char *key, const char *value);
void vmr_yamlout_kv_int(struct vmr_yamlout *y, const char *key, long long value);
void vmr_yamlout_kv_bool(struct vmr_yamlout *y, const char *key, bool value);

/*
 * Emit an event the caller built (for copying a parsed document node by
 * node, tags and styles kept).  init_ok is what the libyaml initializer
 * returned; the event is consumed either way.  what names it in errors.
 */
void vmr_yamlout_event(struct vmr_yamlout *y, yaml_event_t *ev, int init_ok, const char *what);

/* Record a failure of the caller's own (the first one wins); later calls are no-ops. */
void vmr_yamlout_fail(struct vmr_yamlout *y, const char *problem);

/* True when the plain scalar s would be read as null, bool, int, float or merge key. */
bool vmr_yamlout_needs_quotes(const char *s);

/*
 * True when s[0..len) is UTF-8 that libyaml's reader accepts: no overlong
 * forms, surrogates or code points above U+10FFFF.  Every scalar is checked
 * (a failure "a value is not UTF-8"); a generator calls this first to refuse
 * its input with a message of its own.
 */
bool vmr_yamlout_utf8_valid(const char *s, size_t len);

#endif
