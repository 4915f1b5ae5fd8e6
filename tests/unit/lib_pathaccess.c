/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmr_path_access(): whether QEMU's user reaches a file by mode bits, on a
 * temporary tree.  Only metadata is read, so uids and gids need not exist
 * and the test needs no user of its own (it never changes the machine's).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/fsutil.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

#define UID 4242
#define GID 4242
#define SUPP 4343

static char top[] = "/tmp/vmrt-pathaccess-XXXXXX";

static char *at(const char *rel)
{
	return xasprintf("%s/%s", top, rel);
}

/* mkdir or create rel with mode and owner (uid:gid) */
static void make(const char *rel, bool dir, mode_t mode, uid_t uid, gid_t gid)
{
	_cleanup_free_ char *p = at(rel);

	if (dir) {
		if (mkdir(p, mode) < 0)
			tap_diag("mkdir %s: %m", p);
	} else {
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

		if (fd < 0)
			tap_diag("create %s: %m", p);
		else
			close(fd);
	}
	if (chown(p, uid, gid) < 0 || chmod(p, mode) < 0)
		tap_diag("chown/chmod %s: %m", p);
}

static void link_to(const char *rel, const char *target)
{
	_cleanup_free_ char *p = at(rel);

	if (symlink(target, p) < 0)
		tap_diag("symlink %s: %m", p);
}

/* vmr_path_access on top/rel; where (relative to top) in *ret_where */
static int check(const char *rel, int want, char **ret_where, mode_t *ret_mode)
{
	static const gid_t groups[] = {SUPP};
	const struct vmr_path_user u = {.uid = UID, .gid = GID, .groups = groups, .ngroups = 1};
	_cleanup_free_ char *p = at(rel);
	_cleanup_free_ char *where = NULL;
	struct stat st = {0};
	int r;

	r = vmr_path_access(p, &u, want, &where, &st);
	if (ret_where)
		*ret_where = r == -EACCES && where && startswith(where, top)
				 ? xstrdup(where + strlen(top) + (where[strlen(top)] == '/'))
				 : NULL;
	if (ret_mode)
		*ret_mode = r == -EACCES ? st.st_mode & 07777 : 0;
	return r;
}

int main(void)
{
	_cleanup_free_ char *where = NULL;
	mode_t mode = 0;

	if (geteuid() != 0) {
		/* the tree needs files owned by other uids */
		tap_skip("needs root (chown)", "vmr_path_access");
		return tap_done();
	}
	if (!mkdtemp(top))
		return tap_diag("mkdtemp failed"), 1;
	chmod(top, 0755);
	make("pub", true, 0755, 0, 0);
	make("pub/k", false, 0644, 0, 0);
	make("pub/x", false, 0755, 0, 0);
	make("priv", true, 0700, 0, 0);
	make("priv/k", false, 0644, 0, 0);
	make("grp", true, 0710, 0, SUPP);
	make("grp/k", false, 0640, 0, SUPP);
	make("own", true, 0077, UID, 0);
	make("own/k", false, 0644, 0, 0);
	make("pub/g", false, 0604, 0, GID);
	make("pub/w", false, 0666, 0, 0);
	make("pub/mine", false, 0600, UID, GID);
	link_to("pub/to-priv", "../priv/k");
	link_to("priv/to-pub", "../pub/k");
	link_to("pub/abs", top); /* an absolute link to a directory */
	link_to("pub/loop1", "loop2");
	link_to("pub/loop2", "loop1");

	is_int(check("pub/k", R_OK, NULL, NULL), 0, "0755 directory, 0644 file: readable");
	is_int(check("pub/k", R_OK | W_OK, &where, &mode), -EACCES, "0644 file: not writable");
	is_str(where, "pub/k", "the file itself is what stops a write");
	is_int(mode, 0644, "with its mode");
	where = (free(where), NULL);
	is_int(check("pub/w", R_OK | W_OK, NULL, NULL), 0, "0666 file: writable");
	is_int(check("pub/mine", R_OK | W_OK, NULL, NULL), 0, "0600 file of the user: its own");

	is_int(check("priv/k", R_OK, &where, &mode), -EACCES, "0700 directory of root: no way in");
	is_str(where, "priv", "the directory is named");
	is_int(mode, 0700, "with its mode");
	where = (free(where), NULL);

	is_int(check("grp/k", R_OK, NULL, NULL), 0,
	       "0710 directory and 0640 file of a supplementary group: reachable");
	is_int(check("own/k", R_OK, &where, NULL), -EACCES,
	       "one class only: the owner's bits of 0077 refuse, whatever others may");
	is_str(where, "own", "the owner's own directory is named");
	where = (free(where), NULL);
	is_int(check("pub/g", R_OK, &where, NULL), -EACCES,
	       "one class only: the group's bits of 0604 refuse the group");
	where = (free(where), NULL);

	is_int(check("pub/to-priv", R_OK, &where, NULL), -EACCES,
	       "a link into a private directory: refused");
	is_str(where, "priv", "the target's directory is named");
	where = (free(where), NULL);
	is_int(check("priv/to-pub", R_OK, &where, NULL), -EACCES,
	       "a link inside a private directory: refused there, wherever it points");
	is_str(where, "priv", "the link's directory is named");
	where = (free(where), NULL);
	is_int(check("pub/abs/pub/k", R_OK, NULL, NULL), 0, "an absolute link is followed");
	is_int(check("pub/abs/priv/k", R_OK, &where, NULL), -EACCES,
	       "through an absolute link into a private directory: refused");
	is_str(where, "priv", "named after the link's target");
	where = (free(where), NULL);
	is_int(check("pub/../priv/k", R_OK, &where, NULL), -EACCES, "'..' is followed");
	is_str(where, "priv", "the directory '..' led to is named");
	where = (free(where), NULL);
	is_int(check("pub/./k", R_OK, NULL, NULL), 0, "'.' is skipped");

	is_int(check("pub/x", X_OK, NULL, NULL), 0, "0755 file: runnable");
	is_int(check("pub/k", X_OK, &where, NULL), -EACCES, "0644 file: not runnable");
	where = (free(where), NULL);
	is_int(check("pub", R_OK | X_OK, NULL, NULL), 0, "a directory as the path");

	is_int(check("pub/none", R_OK, NULL, NULL), -ENOENT, "a missing file: ENOENT");
	is_int(check("pub/k/x", R_OK, NULL, NULL), -ENOTDIR, "a file as a directory: ENOTDIR");
	is_int(check("pub/loop1", R_OK, NULL, NULL), -ELOOP, "a symlink loop: ELOOP");
	{
		const struct vmr_path_user u = {.uid = UID, .gid = GID};
		const struct vmr_path_user root = {.uid = 0, .gid = 0};
		_cleanup_free_ char *p = at("priv/k");

		is_int(vmr_path_access("pub/k", &u, R_OK, NULL, NULL), -EINVAL,
		       "a relative path: EINVAL");
		is_int(vmr_path_access(p, &root, R_OK | W_OK, NULL, NULL), 0, "uid 0 always can");
	}

	{
		static const char *const files[] = {
		    "pub/k",   "pub/x",	    "priv/k",	"grp/k",       "own/k",
		    "pub/g",   "pub/w",	    "pub/mine", "pub/to-priv", "priv/to-pub",
		    "pub/abs", "pub/loop1", "pub/loop2"};
		static const char *const dirs[] = {"pub", "priv", "grp", "own"};
		bool gone = true;

		for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
			_cleanup_free_ char *p = at(files[i]);

			gone &= unlink(p) == 0;
		}
		for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
			_cleanup_free_ char *p = at(dirs[i]);

			gone &= rmdir(p) == 0;
		}
		ok(gone && rmdir(top) == 0, "temporary tree removed");
	}
	return tap_done();
}
