/* SPDX-License-Identifier: GPL-2.0-or-later */
/* compose/yaml_out: typed scalars survive a YAML 1.1 reader; exact output. */
#include <stdio.h>
#include <yaml.h>

#include "compose/yaml_out.h"
#include "lib/util.h"
#include "tests/lib/tap.h"

static void test_needs_quotes(void)
{
	static const char *const quote[] = {
	    "",	  "7",	 "0-3",	 "10-19", "12:30", "1e3",   "0x1f", "0o17", "+1",	  "-1",
	    ".5", "-.5", ".inf", "-.Inf", ".nan",  "~",	    "null", "NULL", "yes",	  "No",
	    "on", "OFF", "y",	 "n",	  "true",  "False", "<<",   "=",    "2001-12-14",
	};
	static const char *const plain[] = {
	    "vmrun",
	    "host",
	    "/dev/kvm",
	    "c *:* rwm",
	    "a4:bf:01:cc:75:97",
	    "NET_ADMIN",
	    "service_healthy",
	    "-x",
	    "yesterday",
	    "onion",
	    "nully",
	    ".hidden",
	};

	for (size_t i = 0; i < ARRAY_SIZE(quote); i++)
		ok(compose_yaml_needs_quotes(quote[i]), "'%s' needs quotes", quote[i]);
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
		ok(!compose_yaml_needs_quotes(plain[i]), "'%s' may stay plain", plain[i]);
}

/* Parse out with libyaml and collect every scalar with its style. */
static size_t scalars(const char *out, char **values, yaml_scalar_style_t *styles, size_t max)
{
	yaml_parser_t p;
	yaml_event_t ev;
	size_t n = 0;
	bool done = false;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)out, strlen(out));
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			tap_diag("parse error: %s", p.problem);
			break;
		}
		if (ev.type == YAML_SCALAR_EVENT && n < max) {
			values[n] = xstrndup((char *)ev.data.scalar.value, ev.data.scalar.length);
			styles[n] = ev.data.scalar.style;
			n++;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return n;
}

static void test_emit(void)
{
	static const char *const values[] = {"7", "no", "a: b", "multi\nline", "#x", ""};
	struct vmr_buf out = VMR_BUF_INIT;
	struct vmr_yaml_out y;
	struct vmr_error *err = NULL;
	char *got[32];
	yaml_scalar_style_t st[32];
	size_t n;

	compose_yaml_init(&y, &out);
	compose_yaml_map_start(&y);
	compose_yaml_kv_int(&y, "int", 42);
	compose_yaml_kv_int(&y, "neg", -1);
	compose_yaml_kv_bool(&y, "bool", false);
	compose_yaml_str(&y, "argv");
	compose_yaml_seq_start(&y, true);
	compose_yaml_quoted(&y, "vmrun");
	compose_yaml_quoted(&y, "run");
	compose_yaml_seq_end(&y);
	compose_yaml_str(&y, "strings");
	compose_yaml_seq_start(&y, false);
	for (size_t i = 0; i < ARRAY_SIZE(values); i++)
		compose_yaml_str(&y, values[i]);
	compose_yaml_seq_end(&y);
	compose_yaml_str(&y, "empty");
	compose_yaml_map_start(&y);
	compose_yaml_map_end(&y);
	compose_yaml_map_end(&y);
	is_int(compose_yaml_finish(&y, "test.yml", &err), 0, "emitting succeeds");

	is_str(vmr_buf_str(&out),
	       "int: 42\n"
	       "neg: -1\n"
	       "bool: false\n"
	       "argv: [\"vmrun\", \"run\"]\n"
	       "strings:\n"
	       "- \"7\"\n"
	       "- \"no\"\n"
	       "- 'a: b'\n"
	       "- 'multi\n\n  line'\n"
	       "- '#x'\n"
	       "- \"\"\n"
	       "empty: {}\n",
	       "exact output: block style, flow argv, quoted where needed");

	n = scalars(vmr_buf_str(&out), got, st, ARRAY_SIZE(got));
	is_int(n, 17, "scalars read back");
	if (n == 17) {
		ok(st[1] == YAML_PLAIN_SCALAR_STYLE && streq(got[1], "42"), "int stays plain");
		ok(st[5] == YAML_PLAIN_SCALAR_STYLE && streq(got[5], "false"), "bool plain");
		for (size_t i = 0; i < ARRAY_SIZE(values); i++)
			ok(streq(got[10 + i], values[i]) && st[10 + i] != YAML_PLAIN_SCALAR_STYLE,
			   "value %zu round-trips as a quoted string", i);
	}
	for (size_t i = 0; i < n; i++)
		free(got[i]);
	vmr_buf_free(&out);
}

static void test_failure(void)
{
	struct vmr_buf out = VMR_BUF_INIT;
	struct vmr_yaml_out y;
	struct vmr_error *err = NULL;

	compose_yaml_init(&y, &out);
	/* a mapping end without a start is an emitter error */
	compose_yaml_map_end(&y);
	compose_yaml_str(&y, "after the error, calls are no-ops");
	ok(compose_yaml_finish(&y, "broken.yml", &err) < 0, "an emitter error is reported once");
	ok(err && strstr(err->msg, "generate broken.yml"), "the error names the file: %s",
	   err ? err->msg : "(none)");
	vmr_error_free(err);
	vmr_buf_free(&out);
}

int main(void)
{
	test_needs_quotes();
	test_emit();
	test_failure();
	return tap_done();
}
