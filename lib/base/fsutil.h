/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_FSUTIL_H
#define VMR_FSUTIL_H

/* Small file-system helpers shared by the modules. */

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * mkdir -p: make path and its missing parents.  The parents get 0755, path
 * itself mode (both less the umask); an existing path keeps its mode.  An
 * existing directory is fine, anything else there fails with -ENOTDIR.
 * Returns 0 or -errno.
 */
int vmr_mkdir_p(const char *path, mode_t mode);

/* A user as the kernel's permission checks see it (no capabilities). */
struct vmr_path_user {
	uid_t uid;
	gid_t gid;
	const gid_t *groups; /* supplementary groups */
	size_t ngroups;
};

/*
 * Whether user u can reach the absolute path and use it for want (R_OK,
 * W_OK, X_OK or'ed), judged by mode bits as the kernel does for a process
 * without capabilities: search (x) on every directory on the way,
 * symlinks followed component by component (so the directories of both
 * the link and its target count), then want on the file, from exactly one
 * class of its bits (owner, else group, else other).  A directory or file
 * with a POSIX ACL is left to the kernel (taken as allowed).  uid 0 always
 * can.  Returns 0 when it can; -EACCES with *ret_where (caller frees) the
 * directory or file that stops it and *ret_st its stat; another -errno
 * when path does not resolve (-ENOENT, -ENOTDIR, -ELOOP, -EINVAL for a
 * relative path).  Reads only metadata; opens nothing.
 */
int vmr_path_access(const char *path, const struct vmr_path_user *u, int want, char **ret_where,
		    struct stat *ret_st);

/*
 * The hexadecimal masks of /proc/self/status named by fields (e.g.
 * "CapBnd", "SigIgn"), read with one open: ret[i] is fields[i]'s.  Returns
 * 0, or -errno when the file cannot be read or a field is missing or not
 * one 64-bit hexadecimal number (then ret is unspecified).
 */
int vmr_proc_status_masks(const char *const *fields, size_t n, uint64_t *ret);

#endif
