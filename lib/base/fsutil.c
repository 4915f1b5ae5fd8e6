/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small file-system helpers (lib/fsutil.h). */
#include <errno.h>
#include <sys/stat.h>

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
