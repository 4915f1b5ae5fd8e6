/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_STRVEC_H
#define VMR_STRVEC_H

/*
 * A NULL-terminated vector of owned strings (after git's strvec.h).
 * Invariant: v is never NULL after vmr_strvec_push*; v[n] == NULL.
 * An all-zero struct is a valid empty vector (VMR_STRVEC_INIT).
 */

#include <stddef.h>

struct vmr_strvec {
	char **v;
	size_t n;
	size_t alloc;
};

#define VMR_STRVEC_INIT                                                                            \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* Append a copy of s. */
void vmr_strvec_push(struct vmr_strvec *sv, const char *s);
/* Append a formatted string. */
void vmr_strvec_pushf(struct vmr_strvec *sv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s, taking ownership of it. */
void vmr_strvec_push_take(struct vmr_strvec *sv, char *s);
/* Append all strings of a NULL-terminated array. */
void vmr_strvec_pushv(struct vmr_strvec *sv, const char *const *v);
/* Free all strings and reset to empty. */
void vmr_strvec_clear(struct vmr_strvec *sv);
/* Detach the array (caller owns it and its strings); sv becomes empty. */
char **vmr_strvec_detach(struct vmr_strvec *sv);
/* Free a NULL-terminated array of strings. NULL is fine. */
void vmr_strv_free(char **v);

#endif
