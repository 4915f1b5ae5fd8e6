/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_ERROR_H
#define VMR_ERROR_H

/*
 * The error contract (after crun's design-docs/error_handling.md):
 *
 * - A function that can fail takes `struct vmr_error **err` as its last
 *   parameter, returns a negative value on failure and sets *err; on
 *   success it returns >= 0 and leaves *err untouched.
 * - Callers add context on the way up with vmr_error_wrap():
 *   "create macvtap 'vm-52de...' on 'eth1': Device or resource busy".
 * - Library code never prints.  Only cmd/ prints, with vmr_error_print().
 * - Messages are lowercase, have no trailing period, say what failed and
 *   quote the subject.
 */

#include <stdarg.h>
#include <stdio.h>

/* exit statuses shared by every verb */
enum {
	VMR_EXIT_OK = 0,
	VMR_EXIT_FAILURE = 1, /* runtime failure */
	VMR_EXIT_USAGE = 2,   /* bad usage or invalid input; nothing changed */
};

struct vmr_error {
	int errnum; /* errno value, 0 when the failure has no errno */
	int status; /* process exit status this error maps to */
	char *msg;  /* without the strerror() text */
	char *hint; /* optional second line ("did you mean ..."), may be NULL */
};

/*
 * Set *err (which must be NULL or point to NULL) to a new error.
 * errnum may be 0.  Returns -errnum, or -1 when errnum is 0, so callers
 * can write `return vmr_error_set(err, errno, "open '%s'", path);`.
 * The status is VMR_EXIT_FAILURE.  If err is NULL the error is dropped.
 */
int vmr_error_set(struct vmr_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same as vmr_error_set() but for invalid input: status VMR_EXIT_USAGE. */
int vmr_error_usage(struct vmr_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* va_list variant of vmr_error_set() with an explicit status. */
int vmr_error_setv(struct vmr_error **err, int status, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/*
 * Prefix the message of *err with the formatted context and ": ".
 * Returns the same negative value vmr_error_set() returned.
 */
int vmr_error_wrap(struct vmr_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Attach or replace the hint of *err.  No-op if err or *err is NULL. */
void vmr_error_hint(struct vmr_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The value a failing function returns for *err: -errnum or -1. */
int vmr_error_ret(const struct vmr_error *err);

/* Free an error; NULL is fine. */
void vmr_error_free(struct vmr_error *err);

/* Clear *err (free and set to NULL). */
void vmr_error_clear(struct vmr_error **err);

/*
 * Print "vmrun: error: MSG[: strerror]" (and "vmrun: hint: HINT") to f.
 * Only cmd/ calls this.
 */
void vmr_error_print(const struct vmr_error *err, FILE *f);

/* Full message text "MSG[: strerror]" into a new string (caller frees). */
char *vmr_error_text(const struct vmr_error *err);

#endif
