/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "lib/base/util.h"
#include "qmp/line.h"

/* Above this an emptied buffer is released, so one big reply does not pin memory. */
#define LINES_KEEP_ALLOC ((size_t)16 * 1024)

void vmr_qmp_lines_init(struct vmr_qmp_lines *l, size_t cap)
{
	*l = (struct vmr_qmp_lines){.cap = cap ? cap : VMR_QMP_MAX_LINE};
}

void vmr_qmp_lines_free(struct vmr_qmp_lines *l)
{
	free(l->buf);
	l->buf = NULL;
	l->len = l->alloc = 0;
}

size_t vmr_qmp_lines_pending(const struct vmr_qmp_lines *l)
{
	return l->len;
}

static int lines_fail(struct vmr_qmp_lines *l)
{
	vmr_qmp_lines_free(l);
	l->failed = true;
	return -EMSGSIZE;
}

/* Append to the unfinished line; the caller has checked len + n <= cap. */
static void lines_append(struct vmr_qmp_lines *l, const char *data, size_t n)
{
	if (l->len + n > l->alloc) {
		/* double, but never past cap + 1, so the cap bounds the allocation too */
		size_t want = l->alloc ? l->alloc * 2 : 4096;

		if (want < l->len + n)
			want = l->len + n;
		if (want > l->cap + 1)
			want = l->cap + 1;
		l->buf = xrealloc(l->buf, want);
		l->alloc = want;
	}
	memcpy(l->buf + l->len, data, n);
	l->len += n;
}

static void lines_reset(struct vmr_qmp_lines *l)
{
	l->len = 0;
	if (l->alloc > LINES_KEEP_ALLOC)
		vmr_qmp_lines_free(l);
}

static int lines_emit(const char *line, size_t len, vmr_qmp_line_fn fn, void *userdata)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 0;
	return fn(line, len, userdata);
}

int vmr_qmp_lines_feed(struct vmr_qmp_lines *l, const void *data, size_t n, vmr_qmp_line_fn fn,
		       void *userdata)
{
	const char *p = data;
	const char *end = p + n;

	if (l->failed)
		return -EMSGSIZE;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t seg = (size_t)((nl ? nl : end) - p);
		int r;

		if (l->len + seg > l->cap)
			return lines_fail(l);
		if (!nl) {
			lines_append(l, p, seg);
			break;
		}
		if (l->len == 0) {
			/* the whole line is in data: no copy */
			r = lines_emit(p, seg, fn, userdata);
		} else {
			lines_append(l, p, seg);
			r = lines_emit(l->buf, l->len, fn, userdata);
			lines_reset(l);
		}
		if (r < 0)
			return r;
		p = nl + 1;
	}
	return 0;
}
