/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_TESTS_PROC_H
#define VMR_TESTS_PROC_H

/*
 * Helpers for unit tests that look at processes: reading pipes and /proc
 * status text, and staging files for a process that runs as another user.
 */

#include <sys/types.h>

/* Read fd until EOF into a NUL-terminated string (caller frees). */
char *test_read_fd(int fd);

/*
 * The value of the "Key:\tvalue" line of a /proc/PID/status text, without
 * surrounding blanks, or "<missing>" (caller frees).
 */
char *test_status_field(const char *text, const char *key);

/*
 * Create a directory under /tmp that every user can traverse and read (0755)
 * and return its path (caller frees; remove it with test_stage_remove()).
 * Programs a test runs as another user (uid 65534) are copied there: the
 * checkout may sit in a directory only its owner can enter, such as a
 * mktemp -d or /root.  NULL with errno set on failure.
 */
char *test_stage_dir(void);

/*
 * Copy the regular file src into dir under its own base name with the given
 * mode (not masked by the umask) and return the copy's path (caller frees).
 * NULL with errno set on failure.
 */
char *test_stage_copy(const char *dir, const char *src, mode_t mode);

/*
 * Remove dir and the files in it (a directory of test_stage_dir()); NULL is
 * fine.  Best effort: a test's leftover in /tmp is not worth failing it.
 */
void test_stage_remove(const char *dir);

#endif
