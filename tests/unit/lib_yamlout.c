/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/yamlout: typed scalars survive a YAML 1.1 reader; exact output. */
#include <stdio.h>
#include <yaml.h>

#include "lib/base/util.h"
#include "lib/base/yamlout.h"
#include "tests/lib/tap.h"

static void test_needs_quotes(void)
{
	static const char *const quote[] = {
	    "",	    "7",     "0-3", "10-19", "12:30",	   "1e3",   "0x1f", "0o17",
	    "+1",   "-1",    ".5",  "-.5",   ".inf",	   "-.Inf", ".nan", "~",
	    "null", "NULL",  "yes", "No",    "on",	   "OFF",   "y",    "n",
	    "true", "False", "<<",  "=",     "2001-12-14", "nUll",  "oFf",  "+.INF",
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
		ok(vmr_yamlout_needs_quotes(quote[i]), "'%s' needs quotes", quote[i]);
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
		ok(!vmr_yamlout_needs_quotes(plain[i]), "'%s' may stay plain", plain[i]);
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
	struct vmr_yamlout y;
	struct vmr_error *err = NULL;
	char *got[32];
	yaml_scalar_style_t st[32];
	size_t n;

	vmr_yamlout_init(&y, &out);
	vmr_yamlout_map_start(&y);
	vmr_yamlout_kv_int(&y, "int", 42);
	vmr_yamlout_kv_int(&y, "neg", -1);
	vmr_yamlout_kv_bool(&y, "bool", false);
	vmr_yamlout_str(&y, "argv");
	vmr_yamlout_seq_start(&y, true);
	vmr_yamlout_quoted(&y, "vmrun");
	vmr_yamlout_quoted(&y, "run");
	vmr_yamlout_seq_end(&y);
	vmr_yamlout_str(&y, "strings");
	vmr_yamlout_seq_start(&y, false);
	for (size_t i = 0; i < ARRAY_SIZE(values); i++)
		vmr_yamlout_str(&y, values[i]);
	vmr_yamlout_seq_end(&y);
	vmr_yamlout_str(&y, "empty");
	vmr_yamlout_map_start(&y);
	vmr_yamlout_map_end(&y);
	vmr_yamlout_map_end(&y);
	is_int(vmr_yamlout_finish(&y, "test.yml", &err), 0, "emitting succeeds");

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

static void test_literal(void)
{
	static const char text[] = "[Service]\nAllowedCPUs=0\n";
	struct vmr_buf out = VMR_BUF_INIT;
	struct vmr_yamlout y;
	struct vmr_error *err = NULL;
	char *got[4];
	yaml_scalar_style_t st[4];
	size_t n;

	vmr_yamlout_init(&y, &out);
	vmr_yamlout_map_start(&y);
	vmr_yamlout_str(&y, "content");
	vmr_yamlout_literal(&y, text, strlen(text));
	vmr_yamlout_map_end(&y);
	is_int(vmr_yamlout_finish(&y, "literal.yml", &err), 0, "a literal block is emitted");
	is_str(vmr_buf_str(&out), "content: |\n  [Service]\n  AllowedCPUs=0\n",
	       "as a '|' block, indented");
	n = scalars(vmr_buf_str(&out), got, st, ARRAY_SIZE(got));
	ok(n == 2 && st[1] == YAML_LITERAL_SCALAR_STYLE && streq(got[1], text),
	   "it reads back byte for byte");
	for (size_t i = 0; i < n; i++)
		free(got[i]);
	vmr_buf_free(&out);
}

static void test_own_failure(void)
{
	struct vmr_buf out = VMR_BUF_INIT;
	struct vmr_yamlout y;
	struct vmr_error *err = NULL;

	vmr_yamlout_init(&y, &out);
	vmr_yamlout_map_start(&y);
	vmr_yamlout_fail(&y, "too deep");
	vmr_yamlout_fail(&y, "a second problem");
	vmr_yamlout_map_end(&y);
	ok(vmr_yamlout_finish(&y, "user-data", &err) < 0, "a caller's failure fails finish");
	is_str(err ? err->msg : NULL, "generate user-data: too deep", "the first problem is kept");
	vmr_error_free(err);
	vmr_buf_free(&out);
}

static void test_failure(void)
{
	struct vmr_buf out = VMR_BUF_INIT;
	struct vmr_yamlout y;
	struct vmr_error *err = NULL;

	vmr_yamlout_init(&y, &out);
	/* a mapping end without a start is an emitter error */
	vmr_yamlout_map_end(&y);
	vmr_yamlout_str(&y, "after the error, calls are no-ops");
	ok(vmr_yamlout_finish(&y, "broken.yml", &err) < 0, "an emitter error is reported once");
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
	test_literal();
	test_own_failure();
	return tap_done();
}
