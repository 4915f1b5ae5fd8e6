/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_STATEDIR_H
#define VMR_STATEDIR_H

/*
 * A guest's state directory STATE/GUEST/ (docs/state-dir.md) and its lock.
 * The supervisor holds an exclusive flock on STATE/GUEST/lock for its whole
 * life and writes its pid into that file, so other verbs can tell whether
 * a guest is running (the lock is held) and by whom, and wait for a
 * supervisor to finish (the lock is released when its process ends, however
 * it ends).
 */

#include <stdbool.h>
#include <sys/types.h>

#include "lib/base/error.h"

struct vmr_statedir {
	char *path;  /* STATE/GUEST */
	int lock_fd; /* holds the flock; -1 when not locked */
};

/*
 * Create STATE (0755) and STATE/GUEST (0700: QEMU gets what it needs from
 * there as fds, whatever user it runs as), take the lock and record our pid.
 * A guest already locked fails with "guest 'a' is already running
 * (supervisor pid N)" (EBUSY).  Free with vmr_statedir_release().
 */
int vmr_statedir_lock(const char *state_root, const char *guest, struct vmr_statedir *ret,
		      struct vmr_error **err);

/*
 * Take the exclusive flock of the lock file at path (created 0600), held
 * until *ret_fd is closed or the process ends, and write our pid into it.
 * A lock held by another process is retried every 10 ms, retries times,
 * then fails with -EBUSY and the holder's pid (0 if unknown) in
 * *ret_holder.  Returns 0 or -errno.
 */
int vmr_lockfile_take(const char *path, unsigned retries, int *ret_fd, pid_t *ret_holder);

/* STATE/GUEST/name (caller frees). */
char *vmr_statedir_file(const struct vmr_statedir *d, const char *name);

/* The same without a locked directory: STATE/GUEST/name (caller frees). */
char *vmr_statedir_path(const char *state_root, const char *guest, const char *name);

/* Close the lock (releasing it) and free; the directory stays. */
void vmr_statedir_release(struct vmr_statedir *d);

/*
 * Whether a supervisor runs guest in state_root: 1 (with its pid in
 * *ret_pid when not NULL; 0 if it has not written it yet), 0 when nobody
 * holds the lock (or the directory does not exist), negative on error.
 */
int vmr_statedir_probe(const char *state_root, const char *guest, pid_t *ret_pid,
		       struct vmr_error **err);

/*
 * Wait until no supervisor holds guest's lock, up to timeout_ms (< 0: no
 * limit).  Returns 0 once free, -ETIMEDOUT with *err after the timeout.
 */
int vmr_statedir_wait(const char *state_root, const char *guest, int timeout_ms,
		      struct vmr_error **err);

#endif
