/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small file-system helpers (lib/fsutil.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/base/fsutil.h"
#include "lib/base/util.h"

int vmr_mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = xstrdup(path);
	struct stat st;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	/* EEXIST says nothing about what is there */
	if (stat(p, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

#define PATH_LINKS_MAX 40 /* the kernel's MAXSYMLINKS */

static bool user_in_group(const struct vmr_path_user *u, gid_t gid)
{
	if (u->gid == gid)
		return true;
	for (size_t i = 0; i < u->ngroups; i++)
		if (u->groups[i] == gid)
			return true;
	return false;
}

/* want (R_OK|W_OK|X_OK: the rwx bits) from the one class of st's mode that applies to u */
static bool mode_allows(const char *path, const struct stat *st, const struct vmr_path_user *u,
			int want)
{
	unsigned bits;

	if (st->st_uid == u->uid)
		bits = (st->st_mode >> 6) & 7;
	else if (user_in_group(u, st->st_gid))
		bits = (st->st_mode >> 3) & 7;
	else
		bits = st->st_mode & 7;
	if ((bits & (unsigned)want) == (unsigned)want)
		return true;
	/* an ACL may grant what the bits (its mask) seem to refuse: the kernel decides */
	return lgetxattr(path, "system.posix_acl_access", NULL, 0) >= 0;
}

static int blocked(const char *where, const struct stat *st, char **ret_where, struct stat *ret_st)
{
	if (ret_where)
		*ret_where = xstrdup(where);
	if (ret_st)
		*ret_st = *st;
	return -EACCES;
}

/* "/a/b" -> "/a", "/a" -> "/" */
static void path_up(char *dir)
{
	char *slash = strrchr(dir, '/');

	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
}

int vmr_path_access(const char *path, const struct vmr_path_user *u, int want, char **ret_where,
		    struct stat *ret_st)
{
	_cleanup_free_ char *cur = NULL, *rest = NULL;
	unsigned links = 0;
	struct stat st;

	if (path[0] != '/')
		return -EINVAL;
	if (u->uid == 0)
		return 0;
	cur = xstrdup("/"); /* the directory reached, free of symlinks */
	rest = xstrdup(path);
	for (;;) {
		_cleanup_free_ char *child = NULL;
		char *comp = rest + strspn(rest, "/"), *end;
		bool last;

		if (!*comp) {
			/* the path names a directory ("/", "a/.."): want on it */
			if (stat(cur, &st) < 0)
				return -errno;
			return mode_allows(cur, &st, u, want)
				   ? 0
				   : blocked(cur, &st, ret_where, ret_st);
		}
		end = comp + strcspn(comp, "/");
		last = !end[strspn(end, "/")];
		/* a lookup in cur: search permission on it */
		if (stat(cur, &st) < 0)
			return -errno;
		if (!mode_allows(cur, &st, u, X_OK))
			return blocked(cur, &st, ret_where, ret_st);
		if ((size_t)(end - comp) == 1 && comp[0] == '.') {
			memmove(rest, end, strlen(end) + 1);
			continue;
		}
		if ((size_t)(end - comp) == 2 && comp[0] == '.' && comp[1] == '.') {
			path_up(cur);
			memmove(rest, end, strlen(end) + 1);
			continue;
		}
		child =
		    xasprintf("%s%s%.*s", cur, streq(cur, "/") ? "" : "/", (int)(end - comp), comp);
		if (lstat(child, &st) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n;
			char *spliced;

			if (++links > PATH_LINKS_MAX)
				return -ELOOP;
			n = readlink(child, target, sizeof(target) - 1);
			if (n < 0)
				return -errno;
			target[n] = '\0';
			/* the link's target takes its place; an absolute one starts again at / */
			spliced = xasprintf("%s%s", target, end);
			free(rest);
			rest = spliced;
			if (target[0] == '/') {
				free(cur);
				cur = xstrdup("/");
			}
			continue;
		}
		if (last)
			return mode_allows(child, &st, u, want)
				   ? 0
				   : blocked(child, &st, ret_where, ret_st);
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		free(cur);
		cur = TAKE_PTR(child);
		memmove(rest, end, strlen(end) + 1);
	}
}

int vmr_proc_status_masks(const char *const *fields, size_t n, uint64_t *ret)
{
	_cleanup_free_ char *status = NULL;
	int r;

	r = read_file("/proc/self/status", 1 << 16, &status, NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *key = xasprintf("\n%s:", fields[i]);
		const char *p, *hex;
		unsigned long long v;
		char *end;

		/* the first line has no newline before it */
		if (strncmp(status, key + 1, strlen(key + 1)) == 0)
			hex = status + strlen(key + 1);
		else if ((p = strstr(status, key)))
			hex = p + strlen(key);
		else
			return -ENOENT;
		hex += strspn(hex, " \t");
		errno = 0;
		v = strtoull(hex, &end, 16);
		if (errno != 0 || end == hex || *end != '\n' || *hex == '-')
			return -EINVAL;
		ret[i] = (uint64_t)v;
	}
	return 0;
}
