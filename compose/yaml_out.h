/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_COMPOSE_YAML_OUT_H
#define VMR_COMPOSE_YAML_OUT_H

/*
 * A thin layer over libyaml's emitter for generated files (compose.yml,
 * Kubernetes manifests).  Output goes to a vmr_buf.  Errors are sticky: the
 * first emitter failure is kept and every later call is a no-op, so the
 * generators can emit without checking each call and ask once at the end
 * (compose_yaml_finish).
 *
 * Strings are typed: compose_yaml_str() quotes a value whenever a YAML 1.1
 * or 1.2 reader (PyYAML, docker-compose 1.29, Go's yaml.v3) would resolve
 * its plain form to something other than a string ("7", "no", "on",
 * "12:30", "1e3", "~", ""), so a cpuset "7" stays a string.
 */

#include <stdbool.h>
#include <yaml.h>

#include "lib/buf.h"
#include "lib/error.h"

struct vmr_yaml_out {
	yaml_emitter_t emitter;
	struct vmr_buf *out;
	char *problem; /* first failure, or NULL */
};

/* Start a stream and one document writing to out (appended). */
void compose_yaml_init(struct vmr_yaml_out *y, struct vmr_buf *out);

/*
 * End the document and stream, flush and release the emitter.  Returns 0,
 * or -EINVAL with *err naming what failed (what: "compose.yml").
 */
int compose_yaml_finish(struct vmr_yaml_out *y, const char *what, struct vmr_error **err);

/* Begin another document in the same stream ("---" separated). */
void compose_yaml_next_document(struct vmr_yaml_out *y);

void compose_yaml_map_start(struct vmr_yaml_out *y);
void compose_yaml_map_end(struct vmr_yaml_out *y);
/* flow: written inline as [a, b] (short lists such as exec-form commands) */
void compose_yaml_seq_start(struct vmr_yaml_out *y, bool flow);
void compose_yaml_seq_end(struct vmr_yaml_out *y);

/* A string scalar, quoted when its plain form would not read back as a string. */
void compose_yaml_str(struct vmr_yaml_out *y, const char *s);
/* A string scalar, always double-quoted (exec-form argv items). */
void compose_yaml_quoted(struct vmr_yaml_out *y, const char *s);
void compose_yaml_int(struct vmr_yaml_out *y, long long v);
void compose_yaml_bool(struct vmr_yaml_out *y, bool v);

/* key: "value" pairs, for brevity inside mappings */
void compose_yaml_kv_str(struct vmr_yaml_out *y, const char *key, const char *value);
void compose_yaml_kv_int(struct vmr_yaml_out *y, const char *key, long long value);
void compose_yaml_kv_bool(struct vmr_yaml_out *y, const char *key, bool value);

/* True when the plain scalar s would be read as null, bool, int or float. */
bool compose_yaml_needs_quotes(const char *s);

#endif
