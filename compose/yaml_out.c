/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libyaml emitter wrapper for generated YAML; see yaml_out.h. */
#include <inttypes.h>
#include <stdio.h>

#include "compose/yaml_out.h"
#include "lib/util.h"

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	vmr_buf_add(data, buffer, size);
	return 1;
}

static void emit(struct vmr_yaml_out *y, yaml_event_t *ev, bool ok, const char *what)
{
	if (y->problem) {
		if (ok)
			yaml_event_delete(ev);
		return;
	}
	if (!ok) {
		y->problem = xasprintf("build %s event", what);
		return;
	}
	/* yaml_emitter_emit takes ownership of the event, also on failure */
	if (!yaml_emitter_emit(&y->emitter, ev))
		y->problem = xasprintf("emit %s: %s", what,
				       y->emitter.problem ? y->emitter.problem : "unknown error");
}

void compose_yaml_init(struct vmr_yaml_out *y, struct vmr_buf *out)
{
	yaml_event_t ev;

	*y = (struct vmr_yaml_out){.out = out};
	if (!yaml_emitter_initialize(&y->emitter))
		abort(); /* only fails on out of memory */
	yaml_emitter_set_output(&y->emitter, write_handler, out);
	yaml_emitter_set_unicode(&y->emitter, 1);
	yaml_emitter_set_indent(&y->emitter, 2);
	/* never fold long lines: diffs of generated files stay one line per value */
	yaml_emitter_set_width(&y->emitter, -1);
	yaml_emitter_set_break(&y->emitter, YAML_LN_BREAK);

	emit(y, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING), "stream start");
	emit(y, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1),
	     "document start");
}

void compose_yaml_next_document(struct vmr_yaml_out *y)
{
	yaml_event_t ev;

	emit(y, &ev, yaml_document_end_event_initialize(&ev, 1), "document end");
	emit(y, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0),
	     "document start");
}

int compose_yaml_finish(struct vmr_yaml_out *y, const char *what, struct vmr_error **err)
{
	yaml_event_t ev;
	int r = 0;

	emit(y, &ev, yaml_document_end_event_initialize(&ev, 1), "document end");
	emit(y, &ev, yaml_stream_end_event_initialize(&ev), "stream end");
	if (!y->problem && !yaml_emitter_flush(&y->emitter))
		y->problem = xstrdup("flush");
	if (y->problem)
		r = vmr_error_set(err, EINVAL, "generate %s: %s", what, y->problem);
	yaml_emitter_delete(&y->emitter);
	free(y->problem);
	y->problem = NULL;
	return r;
}

void compose_yaml_map_start(struct vmr_yaml_out *y)
{
	yaml_event_t ev;

	emit(y, &ev,
	     yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE),
	     "mapping start");
}

void compose_yaml_map_end(struct vmr_yaml_out *y)
{
	yaml_event_t ev;

	emit(y, &ev, yaml_mapping_end_event_initialize(&ev), "mapping end");
}

void compose_yaml_seq_start(struct vmr_yaml_out *y, bool flow)
{
	yaml_event_t ev;

	emit(y, &ev,
	     yaml_sequence_start_event_initialize(
		 &ev, NULL, NULL, 1, flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE),
	     "sequence start");
}

void compose_yaml_seq_end(struct vmr_yaml_out *y)
{
	yaml_event_t ev;

	emit(y, &ev, yaml_sequence_end_event_initialize(&ev), "sequence end");
}

static void scalar(struct vmr_yaml_out *y, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	/* plain_implicit and quoted_implicit: no tags are written */
	emit(y, &ev,
	     yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
					  style),
	     "scalar");
}

bool compose_yaml_needs_quotes(const char *s)
{
	/* YAML 1.1 (PyYAML, docker-compose 1.29) and 1.2 core schema words */
	static const char *const words[] = {
	    "~",     "null",  "Null",  "NULL", "y",    "Y",    "yes",  "Yes",	"YES",	 "n",
	    "N",     "no",    "No",    "NO",   "true", "True", "TRUE", "false", "False", "FALSE",
	    "on",    "On",    "ON",    "off",  "Off",  "OFF",  ".inf", ".Inf",	".INF",	 "+.inf",
	    "-.inf", "+.Inf", "-.Inf", ".nan", ".NaN", ".NAN", "<<",   "=",
	};

	if (!*s)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (streq(s, words[i]))
			return true;
	/*
	 * Anything that starts like a number may be an int, float, octal,
	 * sexagesimal ("12:30") or timestamp in YAML 1.1; quoting a string
	 * that is not one costs nothing.
	 */
	if (s[0] >= '0' && s[0] <= '9')
		return true;
	if ((s[0] == '+' || s[0] == '-' || s[0] == '.') &&
	    ((s[1] >= '0' && s[1] <= '9') || s[1] == '.'))
		return true;
	return false;
}

void compose_yaml_str(struct vmr_yaml_out *y, const char *s)
{
	/* ANY lets libyaml choose plain where allowed and quote otherwise */
	scalar(y, s,
	       compose_yaml_needs_quotes(s) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
					    : YAML_ANY_SCALAR_STYLE);
}

void compose_yaml_quoted(struct vmr_yaml_out *y, const char *s)
{
	scalar(y, s, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

void compose_yaml_int(struct vmr_yaml_out *y, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	scalar(y, buf, YAML_PLAIN_SCALAR_STYLE);
}

void compose_yaml_bool(struct vmr_yaml_out *y, bool v)
{
	scalar(y, v ? "true" : "false", YAML_PLAIN_SCALAR_STYLE);
}

void compose_yaml_kv_str(struct vmr_yaml_out *y, const char *key, const char *value)
{
	compose_yaml_str(y, key);
	compose_yaml_str(y, value);
}

void compose_yaml_kv_int(struct vmr_yaml_out *y, const char *key, long long value)
{
	compose_yaml_str(y, key);
	compose_yaml_int(y, value);
}

void compose_yaml_kv_bool(struct vmr_yaml_out *y, const char *key, bool value)
{
	compose_yaml_str(y, key);
	compose_yaml_bool(y, value);
}
