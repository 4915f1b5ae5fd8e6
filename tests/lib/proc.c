/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Process helpers for unit tests (tests/lib/proc.h). */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "lib/base/buf.h"
#include "lib/base/util.h"
#include "tests/lib/proc.h"

char *test_read_fd(int fd)
{
	struct vmr_buf b = VMR_BUF_INIT;
	char tmp[4096];
	ssize_t n;

	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		vmr_buf_add(&b, tmp, (size_t)n);
	vmr_buf_addc(&b, '\0');
	return vmr_buf_detach(&b);
}

char *test_status_field(const char *text, const char *key)
{
	size_t len = strlen(key);

	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');

		if (strncmp(p, key, len) == 0 && p[len] == ':') {
			const char *v = p + len + 1, *end = nl ? nl : v + strlen(v);

			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			return xstrndup(v, (size_t)(end - v));
		}
		p = nl ? nl + 1 : NULL;
	}
	return xstrdup("<missing>");
}

char *test_stage_dir(void)
{
	_cleanup_free_ char *dir = xstrdup("/tmp/vmrt-stage.XXXXXX");

	if (!mkdtemp(dir))
		return NULL;
	/* mkdtemp makes it 0700: open it up for the user the test drops to */
	if (chmod(dir, 0755) < 0) {
		int saved = errno;

		rmdir(dir);
		errno = saved;
		return NULL;
	}
	return TAKE_PTR(dir);
}

/* Copy fd in to fd out to its end; 0 or -errno. */
static int copy_fd(int in, int out)
{
	char buf[65536];
	ssize_t n;
	int r;

	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		r = write_all(out, buf, (size_t)n);
		if (r < 0)
			return r;
	}
	return 0;
}

char *test_stage_copy(const char *dir, const char *src, mode_t mode)
{
	const char *base = strrchr(src, '/');
	_cleanup_free_ char *dst = xasprintf("%s/%s", dir, base ? base + 1 : src);
	_cleanup_close_ int in = -1, out = -1;
	int r;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return NULL;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		return NULL;
	r = copy_fd(in, out);
	/* fchmod, not the open mode: the umask must not take "other" bits away */
	if (r == 0 && fchmod(out, mode) < 0)
		r = -errno;
	if (r == 0 && close(TAKE_FD(out)) < 0)
		r = -errno;
	if (r < 0) {
		unlink(dst);
		errno = -r;
		return NULL;
	}
	return TAKE_PTR(dst);
}

void test_stage_remove(const char *dir)
{
	DIR *d;
	struct dirent *de;

	if (!dir)
		return;
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d)))
			if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}
