/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The libyaml emitter behind every generated YAML file (lib/yamlout.h). */
#include <limits.h>
#include <stdio.h>
#include <strings.h>

#include "lib/base/util.h"
#include "lib/base/yamlout.h"

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	vmr_buf_add(data, buffer, size);
	return 1;
}

void vmr_yamlout_fail(struct vmr_yamlout *y, const char *problem)
{
	if (!y->problem)
		y->problem = xstrdup(problem);
}

void vmr_yamlout_event(struct vmr_yamlout *y, yaml_event_t *ev, int init_ok, const char *what)
{
	if (y->problem) {
		if (init_ok)
			yaml_event_delete(ev);
		return;
	}
	if (!init_ok) {
		y->problem = xasprintf("build %s event", what);
		return;
	}
	/* yaml_emitter_emit takes ownership of the event, also on failure */
	if (!yaml_emitter_emit(&y->emitter, ev))
		y->problem = xasprintf("emit %s: %s", what,
				       y->emitter.problem ? y->emitter.problem : "unknown error");
}

void vmr_yamlout_init(struct vmr_yamlout *y, struct vmr_buf *out)
{
	yaml_event_t ev;

	*y = (struct vmr_yamlout){.out = out};
	if (!yaml_emitter_initialize(&y->emitter))
		abort(); /* only fails on out of memory */
	yaml_emitter_set_output(&y->emitter, write_handler, out);
	yaml_emitter_set_unicode(&y->emitter, 1);
	yaml_emitter_set_indent(&y->emitter, 2);
	/* never fold long lines: diffs of generated files stay one line per value */
	yaml_emitter_set_width(&y->emitter, -1);
	yaml_emitter_set_break(&y->emitter, YAML_LN_BREAK);

	vmr_yamlout_event(y, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING),
			  "stream start");
	vmr_yamlout_event(y, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1),
			  "document start");
}

void vmr_yamlout_next_document(struct vmr_yamlout *y)
{
	yaml_event_t ev;

	vmr_yamlout_event(y, &ev, yaml_document_end_event_initialize(&ev, 1), "document end");
	vmr_yamlout_event(y, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0),
			  "document start");
}

int vmr_yamlout_finish(struct vmr_yamlout *y, const char *what, struct vmr_error **err)
{
	yaml_event_t ev;
	int r = 0;

	vmr_yamlout_event(y, &ev, yaml_document_end_event_initialize(&ev, 1), "document end");
	vmr_yamlout_event(y, &ev, yaml_stream_end_event_initialize(&ev), "stream end");
	if (!y->problem && !yaml_emitter_flush(&y->emitter))
		y->problem = xstrdup("flush");
	if (y->problem)
		r = vmr_error_set(err, EINVAL, "generate %s: %s", what, y->problem);
	yaml_emitter_delete(&y->emitter);
	free(y->problem);
	y->problem = NULL;
	return r;
}

void vmr_yamlout_map_start(struct vmr_yamlout *y)
{
	yaml_event_t ev;

	vmr_yamlout_event(
	    y, &ev,
	    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE),
	    "mapping start");
}

void vmr_yamlout_map_end(struct vmr_yamlout *y)
{
	yaml_event_t ev;

	vmr_yamlout_event(y, &ev, yaml_mapping_end_event_initialize(&ev), "mapping end");
}

void vmr_yamlout_seq_start(struct vmr_yamlout *y, bool flow)
{
	yaml_event_t ev;

	vmr_yamlout_event(y, &ev,
			  yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							       flow ? YAML_FLOW_SEQUENCE_STYLE
								    : YAML_BLOCK_SEQUENCE_STYLE),
			  "sequence start");
}

void vmr_yamlout_seq_end(struct vmr_yamlout *y)
{
	yaml_event_t ev;

	vmr_yamlout_event(y, &ev, yaml_sequence_end_event_initialize(&ev), "sequence end");
}

bool vmr_yamlout_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned c = *p, n, cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		if ((size_t)(end - p) <= n)
			return false;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

static void scalar(struct vmr_yamlout *y, const char *s, size_t len, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (len > INT_MAX) {
		vmr_yamlout_fail(y, "scalar too long");
		return;
	}
	/*
	 * libyaml's emitter checks less than its reader: it writes a surrogate
	 * as "\ud800", which the reader then refuses.  Fail here instead of
	 * writing a file nothing can load.
	 */
	if (!vmr_yamlout_utf8_valid(s, len)) {
		vmr_yamlout_fail(y, "a value is not UTF-8");
		return;
	}
	/* plain_implicit and quoted_implicit: no tags are written */
	vmr_yamlout_event(
	    y, &ev,
	    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)len, 1, 1, style),
	    "scalar");
}

bool vmr_yamlout_needs_quotes(const char *s)
{
	/*
	 * YAML 1.1 (PyYAML, docker-compose 1.29) and 1.2 core schema words.
	 * Compared without case: the readers accept only some spellings
	 * ("No", not "nO"), but quoting the others costs nothing.
	 */
	static const char *const words[] = {
	    "~",  "null", "y",	  "n",	   "yes",   "no",   "true", "false",
	    "on", "off",  ".inf", "+.inf", "-.inf", ".nan", "<<",   "=",
	};

	if (!*s)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strcasecmp(s, words[i]) == 0)
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

void vmr_yamlout_str(struct vmr_yamlout *y, const char *s)
{
	/* ANY lets libyaml choose plain where allowed and quote otherwise */
	scalar(y, s, strlen(s),
	       vmr_yamlout_needs_quotes(s) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
					   : YAML_ANY_SCALAR_STYLE);
}

void vmr_yamlout_quoted(struct vmr_yamlout *y, const char *s)
{
	scalar(y, s, strlen(s), YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

void vmr_yamlout_literal(struct vmr_yamlout *y, const char *s, size_t len)
{
	scalar(y, s, len, YAML_LITERAL_SCALAR_STYLE);
}

void vmr_yamlout_int(struct vmr_yamlout *y, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	scalar(y, buf, strlen(buf), YAML_PLAIN_SCALAR_STYLE);
}

void vmr_yamlout_bool(struct vmr_yamlout *y, bool v)
{
	scalar(y, v ? "true" : "false", v ? 4 : 5, YAML_PLAIN_SCALAR_STYLE);
}

void vmr_yamlout_kv_str(struct vmr_yamlout *y, const char *key, const char *value)
{
	vmr_yamlout_str(y, key);
	vmr_yamlout_str(y, value);
}

void vmr_yamlout_kv_quoted(struct vmr_yamlout *y, const char *key, const char *value)
{
	vmr_yamlout_str(y, key);
	vmr_yamlout_quoted(y, value);
}

void vmr_yamlout_kv_int(struct vmr_yamlout *y, const char *key, long long value)
{
	vmr_yamlout_str(y, key);
	vmr_yamlout_int(y, value);
}

void vmr_yamlout_kv_bool(struct vmr_yamlout *y, const char *key, bool value)
{
	vmr_yamlout_str(y, key);
	vmr_yamlout_bool(y, value);
}
