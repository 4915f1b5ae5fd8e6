/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The QMP line assembler on its own: splitting, CRLF, split feeds, the cap. */
#include <errno.h>
#include <string.h>

#include "lib/base/buf.h"
#include "lib/base/util.h"
#include "qmp/line.h"
#include "tests/lib/tap.h"

struct collect {
	struct vmr_buf all; /* lines joined with '|' */
	int n;
	int stop_after; /* return -EINTR after this many lines (0: never) */
};

static int collect_line(const char *line, size_t len, void *userdata)
{
	struct collect *c = userdata;

	if (memchr(line, '\n', len))
		vmr_buf_adds(&c->all, "<NL>");
	if (c->n++)
		vmr_buf_addc(&c->all, '|');
	vmr_buf_add(&c->all, line, len);
	if (c->stop_after && c->n >= c->stop_after)
		return -EINTR;
	return 0;
}

static void test_basic(void)
{
	struct vmr_qmp_lines l;
	struct collect c = {0};
	const char *in = "{\"a\":1}\r\n{\"b\":2}\n\r\n\n{\"c\"";

	vmr_qmp_lines_init(&l, 0);
	is_int(l.cap, (long long)VMR_QMP_MAX_LINE, "default cap is 10 MiB");
	is_int(vmr_qmp_lines_feed(&l, in, strlen(in), collect_line, &c), 0, "feed ok");
	is_str(vmr_buf_str(&c.all), "{\"a\":1}|{\"b\":2}",
	       "CRLF and LF stripped, empty lines skipped");
	is_int(vmr_qmp_lines_pending(&l), 4, "partial tail kept");
	is_int(vmr_qmp_lines_feed(&l, ":3}\r\n", 5, collect_line, &c), 0, "tail completed");
	is_str(vmr_buf_str(&c.all), "{\"a\":1}|{\"b\":2}|{\"c\":3}", "tail joined to its line");
	is_int(vmr_qmp_lines_pending(&l), 0, "nothing left");
	vmr_qmp_lines_free(&l);
	vmr_buf_free(&c.all);
}

static void test_bytewise(void)
{
	struct vmr_qmp_lines l;
	struct collect c = {0};
	const char *in = "{\"QMP\":{}}\r\n{\"return\":{},\"id\":1}\r\n";
	int r = 0;

	vmr_qmp_lines_init(&l, 0);
	for (size_t i = 0; in[i] && r == 0; i++)
		r = vmr_qmp_lines_feed(&l, in + i, 1, collect_line, &c);
	is_int(r, 0, "one byte at a time");
	is_str(vmr_buf_str(&c.all), "{\"QMP\":{}}|{\"return\":{},\"id\":1}", "lines reassembled");
	is_int(c.n, 2, "two lines");
	vmr_qmp_lines_free(&l);
	vmr_buf_free(&c.all);
}

static void test_cap(void)
{
	struct vmr_qmp_lines l;
	struct collect c = {0};
	char big[100];

	memset(big, 'x', sizeof(big));
	vmr_qmp_lines_init(&l, 64);

	/* exactly cap bytes is fine, with or without the CR */
	is_int(vmr_qmp_lines_feed(&l, big, 64, collect_line, &c), 0, "64 bytes held");
	is_int(vmr_qmp_lines_feed(&l, "\n", 1, collect_line, &c), 0, "line of cap bytes accepted");
	is_int(c.n, 1, "and delivered");

	/* a line of cap + 1 bytes split over feeds is refused, memory stays bounded */
	is_int(vmr_qmp_lines_feed(&l, big, 40, collect_line, &c), 0, "40 bytes held");
	ok(l.alloc <= 65, "allocation within cap + 1 (%zu)", l.alloc);
	is_int(vmr_qmp_lines_feed(&l, big, 25, collect_line, &c), -EMSGSIZE, "65 bytes: too long");
	ok(l.failed && l.len == 0 && l.buf == NULL, "failed assembler holds nothing");
	is_int(vmr_qmp_lines_feed(&l, "{}\n", 3, collect_line, &c), -EMSGSIZE,
	       "stays failed after the overflow");
	is_int(c.n, 1, "nothing delivered after the overflow");
	vmr_qmp_lines_free(&l);

	/* a too long complete line inside one feed is refused too */
	vmr_qmp_lines_init(&l, 64);
	memset(big, 'y', sizeof(big));
	big[80] = '\n';
	is_int(vmr_qmp_lines_feed(&l, big, 81, collect_line, &c), -EMSGSIZE,
	       "complete line over the cap refused");
	vmr_qmp_lines_free(&l);
	vmr_buf_free(&c.all);
}

static void test_stop(void)
{
	struct vmr_qmp_lines l;
	struct collect c = {.stop_after = 1};
	const char *in = "a\nb\nc";

	vmr_qmp_lines_init(&l, 0);
	is_int(vmr_qmp_lines_feed(&l, in, strlen(in), collect_line, &c), -EINTR,
	       "callback's negative value returned");
	is_str(vmr_buf_str(&c.all), "a", "no line after the stop");
	vmr_qmp_lines_free(&l);
	vmr_buf_free(&c.all);
}

static void test_big_line_shrinks(void)
{
	struct vmr_qmp_lines l;
	struct collect c = {0};
	size_t n = 1 << 20;
	_cleanup_free_ char *big = xmalloc(n);

	memset(big, 'z', n);
	vmr_qmp_lines_init(&l, 0);
	is_int(vmr_qmp_lines_feed(&l, "x", 1, collect_line, &c), 0, "start a line");
	is_int(vmr_qmp_lines_feed(&l, big, n, collect_line, &c), 0, "1 MiB more");
	is_int(vmr_qmp_lines_feed(&l, "\n", 1, collect_line, &c), 0, "end it");
	is_int(c.all.len, (long long)n + 1, "big line delivered whole");
	ok(l.alloc == 0 && l.buf == NULL, "buffer released after a big line");
	vmr_qmp_lines_free(&l);
	vmr_buf_free(&c.all);
}

int main(void)
{
	test_basic();
	test_bytewise();
	test_cap();
	test_stop();
	test_big_line_shrinks();
	return tap_done();
}
