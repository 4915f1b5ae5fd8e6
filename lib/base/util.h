/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_UTIL_H
#define VMR_UTIL_H

/*
 * Cleanup helpers (systemd/crun style) and tiny utilities.
 *
 *   _cleanup_free_ char *s = NULL;
 *   _cleanup_close_ int fd = -1;
 *   return TAKE_PTR(s);   // ownership moves out, cleanup sees NULL
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h> /* before banned.h: glibc's own definitions use what it bans */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _tp = (p);                                                           \
		(p) = NULL;                                                                        \
		_tp;                                                                               \
	})

#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _tf = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_tf;                                                                               \
	})

/* Allocation that never returns NULL: out of memory aborts (git's xmalloc). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s); /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);

/* Grow *p (an array of *alloc elements of size elem) to hold at least n. */
void xgrow(void **p, size_t *alloc, size_t n, size_t elem);
#define XGROW(p, alloc, n) xgrow((void **)&(p), &(alloc), (n), sizeof(*(p)))

static inline bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static inline bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Parse an unsigned decimal integer occupying the whole string, at most max.
 * Returns 0 and sets *ret, or -EINVAL / -ERANGE.
 */
int parse_uint(const char *s, unsigned long long max, unsigned long long *ret);

/* Monotonic clock in milliseconds. */
uint64_t now_ms(void);

/* Write all of buf to fd, retrying on EINTR and short writes; -errno. */
int write_all(int fd, const void *buf, size_t n);

/*
 * Read a whole (small) file into a NUL-terminated buffer, at most max bytes
 * (-EFBIG beyond).  *ret_len may be NULL.  Returns 0 or -errno.
 */
int read_file(const char *path, size_t max, char **ret, size_t *ret_len);

/*
 * Write contents to path atomically: a temporary file in the same directory,
 * fsync, rename.  mode applies to the new file.  Returns 0 or -errno.
 */
int write_file_atomic(const char *path, const void *buf, size_t n, unsigned mode);

#include "lib/base/banned.h"

#endif
