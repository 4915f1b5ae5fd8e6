/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_BUF_H
#define VMR_BUF_H

/*
 * A growable byte buffer, always NUL-terminated (after git's strbuf.h).
 * An all-zero struct is a valid empty buffer; buf.s is then "" via
 * vmr_buf_str().
 */

#include <stdarg.h>
#include <stddef.h>

struct vmr_buf {
	char *s;
	size_t len;
	size_t alloc;
};

#define VMR_BUF_INIT                                                                               \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void vmr_buf_add(struct vmr_buf *b, const void *data, size_t n);
void vmr_buf_adds(struct vmr_buf *b, const char *s);
void vmr_buf_addc(struct vmr_buf *b, char c);
void vmr_buf_addf(struct vmr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vmr_buf_vaddf(struct vmr_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Remove the first n bytes. */
void vmr_buf_consume(struct vmr_buf *b, size_t n);
void vmr_buf_reset(struct vmr_buf *b); /* len = 0, keeps memory */
void vmr_buf_free(struct vmr_buf *b);  /* releases memory */
/* The contents as a C string; never NULL. */
const char *vmr_buf_str(const struct vmr_buf *b);
/* Detach the string (caller frees); b becomes empty. */
char *vmr_buf_detach(struct vmr_buf *b);

#endif
