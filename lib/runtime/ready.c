/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Console line matching and the guest agent's messages (lib/runtime/ready.h). */
#include <stdio.h>

#include "lib/base/util.h"
#include "lib/runtime/ready.h"

int vmr_ready_lines_init(struct vmr_ready_lines *l, const char *regex, struct vmr_error **err)
{
	int rc;

	*l = (struct vmr_ready_lines){.line = VMR_BUF_INIT};
	if (!regex)
		return 0;
	rc = regcomp(&l->re, regex, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char why[256];

		regerror(rc, &l->re, why, sizeof(why));
		return vmr_error_usage(err, "invalid regular expression '%s': %s", regex, why);
	}
	l->have_re = true;
	return 0;
}

static bool line_check(struct vmr_ready_lines *l)
{
	const char *s = l->line.len ? l->line.s : "";

	if (l->line.len == 0)
		return false;
	free(l->last);
	l->last = xstrndup(s, l->line.len);
	if (!l->have_re || l->matched)
		return false;
	if (regexec(&l->re, l->last, 0, NULL, 0) != 0)
		return false;
	l->matched = true;
	return true;
}

bool vmr_ready_lines_feed(struct vmr_ready_lines *l, const char *data, size_t n)
{
	bool hit = false, pending = false;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)data[i];

		/* ESC [ params final, ESC ( X, ESC X: dropped */
		if (l->esc == 1) {
			l->esc = c == '[' ? 2 : (c == '(' || c == ')') ? 3 : 0;
			continue;
		}
		if (l->esc == 2) {
			if (c >= 0x40 && c <= 0x7e)
				l->esc = 0;
			continue;
		}
		if (l->esc == 3) {
			l->esc = 0;
			continue;
		}
		if (c == 0x1b) {
			l->esc = 1;
			continue;
		}
		if (c == '\n') {
			hit = line_check(l) || hit;
			vmr_buf_reset(&l->line);
			pending = false;
			continue;
		}
		if (c < 0x20 && c != '\t')
			continue;
		if (c == 0x7f)
			continue;
		if (l->line.len < VMR_READY_LINE_MAX)
			vmr_buf_addc(&l->line, (char)c);
		pending = true;
	}
	/* the line being written: a prompt may wait for input without a newline */
	if (pending)
		hit = line_check(l) || hit;
	return hit;
}

void vmr_ready_lines_rearm(struct vmr_ready_lines *l)
{
	l->matched = false;
	vmr_buf_reset(&l->line);
	l->esc = 0;
}

void vmr_ready_lines_free(struct vmr_ready_lines *l)
{
	if (l->have_re)
		regfree(&l->re);
	l->have_re = false;
	vmr_buf_free(&l->line);
	free(l->last);
	l->last = NULL;
}

char *vmr_agent_request(const char *command, json_t *args, uint64_t id)
{
	json_t *o = json_pack("{s:s, s:I}", "execute", command, "id", (json_int_t)id);
	char *s, *line;

	if (args)
		json_object_set(o, "arguments", args);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		abort(); /* only on allocation failure */
	line = xasprintf("%s\n", s);
	free(s);
	return line;
}

int vmr_agent_reply_parse(const char *line, size_t len, uint64_t *ret_id, json_t **ret_return,
			  char **ret_error)
{
	json_t *o, *id, *ret, *e;
	size_t skip = 0;

	/* guest-sync-delimited puts 0xFF before its reply: not ours, but skip it */
	while (skip < len && (unsigned char)line[skip] == 0xff)
		skip++;
	o = json_loadb(line + skip, len - skip, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return 0;
	}
	id = json_object_get(o, "id");
	ret = json_object_get(o, "return");
	e = json_object_get(o, "error");
	if (!ret && !json_is_object(e)) {
		json_decref(o);
		return 0;
	}
	*ret_id = json_is_integer(id) && json_integer_value(id) > 0
		      ? (uint64_t)json_integer_value(id)
		      : 0;
	*ret_return = ret ? json_incref(ret) : NULL;
	*ret_error = NULL;
	if (!ret) {
		const char *cls = json_string_value(json_object_get(e, "class"));
		const char *desc = json_string_value(json_object_get(e, "desc"));

		*ret_error = xasprintf("%s: %s", cls ? cls : "GenericError", desc ? desc : "?");
	}
	json_decref(o);
	return 1;
}
