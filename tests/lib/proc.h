/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_TESTS_PROC_H
#define VMR_TESTS_PROC_H

/* Helpers for unit tests that look at processes: reading pipes and /proc status text. */

/* Read fd until EOF into a NUL-terminated string (caller frees). */
char *test_read_fd(int fd);

/*
 * The value of the "Key:\tvalue" line of a /proc/PID/status text, without
 * surrounding blanks, or "<missing>" (caller frees).
 */
char *test_status_field(const char *text, const char *key);

#endif
