/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "lib/base/buf.h"
#include "lib/base/util.h"

void vmr_buf_add(struct vmr_buf *b, const void *data, size_t n)
{
	XGROW(b->s, b->alloc, b->len + n + 1);
	memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void vmr_buf_adds(struct vmr_buf *b, const char *s)
{
	vmr_buf_add(b, s, strlen(s));
}

void vmr_buf_addc(struct vmr_buf *b, char c)
{
	vmr_buf_add(b, &c, 1);
}

void vmr_buf_vaddf(struct vmr_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		abort();
	XGROW(b->s, b->alloc, b->len + (size_t)n + 1);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void vmr_buf_addf(struct vmr_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmr_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void vmr_buf_consume(struct vmr_buf *b, size_t n)
{
	if (n >= b->len) {
		vmr_buf_reset(b);
		return;
	}
	memmove(b->s, b->s + n, b->len - n);
	b->len -= n;
	b->s[b->len] = '\0';
}

void vmr_buf_reset(struct vmr_buf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

void vmr_buf_free(struct vmr_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->alloc = 0;
}

const char *vmr_buf_str(const struct vmr_buf *b)
{
	return b->s ? b->s : "";
}

char *vmr_buf_detach(struct vmr_buf *b)
{
	char *s = b->s ? b->s : xstrdup("");

	b->s = NULL;
	b->len = b->alloc = 0;
	return s;
}
