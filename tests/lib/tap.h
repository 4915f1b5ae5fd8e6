/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_TAP_H
#define VMR_TAP_H

/*
 * Minimal TAP producer for unit tests.  Every check prints "ok N - what"
 * or "not ok N - what" (with file:line and the values on failure); skips
 * print "ok N - what # SKIP why".  tests/run.sh counts them.
 *
 *   int main(void) { ok(1 + 1 == 2, "arithmetic"); return tap_done(); }
 */

#include <stdbool.h>
#include <stdint.h>

bool tap_ok_at(const char *file, int line, bool cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool tap_is_int_at(const char *file, int line, long long got, long long want, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
bool tap_is_str_at(const char *file, int line, const char *got, const char *want, const char *fmt,
		   ...) __attribute__((format(printf, 5, 6)));
void tap_skip(const char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the plan line; returns the process exit status (1 if anything failed). */
int tap_done(void);

#define ok(cond, ...) tap_ok_at(__FILE__, __LINE__, (cond), __VA_ARGS__)
#define is_int(got, want, ...) tap_is_int_at(__FILE__, __LINE__, (got), (want), __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str_at(__FILE__, __LINE__, (got), (want), __VA_ARGS__)

#endif
