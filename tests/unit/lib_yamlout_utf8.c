/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lib/yamlout: every scalar is UTF-8 that libyaml's reader accepts, and
 * what the writer refuses makes finish fail instead of writing a file that
 * cannot be loaded.
 */
#include <yaml.h>

#include "lib/base/util.h"
#include "lib/base/yamlout.h"
#include "tests/lib/tap.h"

struct sample {
	const char *s;
	size_t len;
	const char *what;
};

#define S(lit, what)                                                                               \
	{                                                                                          \
		lit, sizeof(lit) - 1, what                                                         \
	}

static const struct sample good[] = {
    S("", "empty"),
    S("vmrun", "ASCII"),
    S("/srv/b\xc3\xa4se.qcow2", "2-byte sequence"),
    S("\xe2\x82\xac", "3-byte sequence (U+20AC)"),
    S("\xed\x9f\xbf", "U+D7FF, just below the surrogates"),
    S("\xee\x80\x80", "U+E000, just above the surrogates"),
    S("\xef\xbf\xbd", "U+FFFD"),
    S("\xf0\x9f\x90\xa7", "4-byte sequence (U+1F427)"),
    S("\xf4\x8f\xbf\xbf", "U+10FFFF, the last code point"),
    S("a\0b", "an embedded NUL within len"),
};

static const struct sample bad[] = {
    S("\xff", "0xff byte"),
    S("\x80", "stray continuation byte"),
    S("\xc0\xaf", "overlong 2-byte '/'"),
    S("\xc1\xbf", "overlong 2-byte U+7F"),
    S("\xe0\x80\xaf", "overlong 3-byte '/'"),
    S("\xf0\x80\x80\xaf", "overlong 4-byte '/'"),
    S("\xed\xa0\x80", "surrogate U+D800"),
    S("\xed\xbf\xbf", "surrogate U+DFFF"),
    S("\xf4\x90\x80\x80", "U+110000, above the last code point"),
    S("\xf5\x80\x80\x80", "lead byte 0xf5"),
    S("\xe2\x82", "truncated 3-byte sequence"),
    S("x\xc3", "truncated 2-byte sequence at the end"),
    S("\xc3x", "lead byte followed by ASCII"),
};

static void test_predicate(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		ok(vmr_yamlout_utf8_valid(good[i].s, good[i].len), "valid: %s", good[i].what);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ok(!vmr_yamlout_utf8_valid(bad[i].s, bad[i].len), "invalid: %s", bad[i].what);
	ok(!vmr_yamlout_utf8_valid("\xc3\xa4", 1), "a sequence cut by len is invalid");
}

/* The single scalar of a one-value document, or NULL if libyaml refuses it. */
static char *read_back(const char *text, size_t *ret_len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	char *value = NULL;
	bool done = false;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			tap_diag("parse error: %s", p.problem ? p.problem : "?");
			free(value);
			value = NULL;
			break;
		}
		if (ev.type == YAML_SCALAR_EVENT && !value) {
			value = xmalloc(ev.data.scalar.length + 1);
			memcpy(value, ev.data.scalar.value, ev.data.scalar.length);
			value[ev.data.scalar.length] = '\0';
			*ret_len = ev.data.scalar.length;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return value;
}

static void test_round_trip(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct vmr_buf out = VMR_BUF_INIT;
		struct vmr_error *err = NULL;
		struct vmr_yamlout y;
		_cleanup_free_ char *back = NULL;
		size_t len = 0;

		vmr_yamlout_init(&y, &out);
		vmr_yamlout_literal(&y, good[i].s, good[i].len);
		ok(vmr_yamlout_finish(&y, "t.yml", &err) == 0, "%s: written", good[i].what);
		back = read_back(vmr_buf_str(&out), &len);
		ok(back && len == good[i].len && memcmp(back, good[i].s, len) == 0,
		   "%s: read back byte for byte", good[i].what);
		vmr_error_free(err);
		vmr_buf_free(&out);
	}
}

static void test_refused(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *s = xstrndup(bad[i].s, bad[i].len);
		struct vmr_buf out = VMR_BUF_INIT;
		struct vmr_error *err = NULL;
		struct vmr_yamlout y;
		int r;

		vmr_yamlout_init(&y, &out);
		vmr_yamlout_map_start(&y);
		vmr_yamlout_kv_str(&y, "image", s);
		vmr_yamlout_map_end(&y);
		r = vmr_yamlout_finish(&y, "t.yml", &err);
		ok(r < 0 && err && streq(err->msg, "generate t.yml: a value is not UTF-8"),
		   "%s: finish fails: %s", bad[i].what, err ? err->msg : "(succeeded)");
		vmr_error_free(err);
		vmr_buf_free(&out);
	}
}

static void test_kv_quoted(void)
{
	struct vmr_buf out = VMR_BUF_INIT;
	struct vmr_error *err = NULL;
	struct vmr_yamlout y;

	vmr_yamlout_init(&y, &out);
	vmr_yamlout_map_start(&y);
	vmr_yamlout_kv_quoted(&y, "mac", "a4:bf:01:cc:75:97");
	vmr_yamlout_kv_str(&y, "plain", "a4:bf:01:cc:75:97");
	vmr_yamlout_map_end(&y);
	is_int(vmr_yamlout_finish(&y, "t.yml", &err), 0, "kv_quoted: written");
	is_str(vmr_buf_str(&out), "mac: \"a4:bf:01:cc:75:97\"\nplain: a4:bf:01:cc:75:97\n",
	       "kv_quoted quotes a value kv_str leaves plain");
	vmr_error_free(err);
	vmr_buf_free(&out);
}

int main(void)
{
	test_predicate();
	test_round_trip();
	test_refused();
	test_kv_quoted();
	return tap_done();
}
