/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sysfs through the configured root (cfg->sysfs_root), so tests point it
 * at a fake tree.  Writes are one write(2) of the whole value, which is
 * what sysfs attributes expect (a short or split write is a different
 * command to the kernel).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/strvec.h"
#include "lib/base/util.h"
#include "net/internal.h"

#define SYSFS_ATTR_MAX 4096

const char *net_sysfs_root(const struct vmr_config *cfg)
{
	return cfg && cfg->sysfs_root && cfg->sysfs_root[0] ? cfg->sysfs_root : "/sys";
}

const char *net_dev_root(const struct vmr_config *cfg)
{
	return cfg && cfg->dev_root && cfg->dev_root[0] ? cfg->dev_root : "/dev";
}

static char *vpath(const struct vmr_config *cfg, const char *fmt, va_list ap) _printf_(2, 0);

static char *vpath(const struct vmr_config *cfg, const char *fmt, va_list ap)
{
	_cleanup_free_ char *rel = xvasprintf(fmt, ap);

	return xasprintf("%s/%s", net_sysfs_root(cfg), rel);
}

char *net_sysfs_path(const struct vmr_config *cfg, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = vpath(cfg, fmt, ap);
	va_end(ap);
	return p;
}

/* read the attribute at path (caller frees *ret_path), trailing newline removed */
static int vread(const struct vmr_config *cfg, char **ret_path, char **ret, struct vmr_error **err,
		 const char *fmt, va_list ap) _printf_(5, 0);

static int vread(const struct vmr_config *cfg, char **ret_path, char **ret, struct vmr_error **err,
		 const char *fmt, va_list ap)
{
	char *s = NULL;
	size_t len = 0;
	int r;

	*ret_path = vpath(cfg, fmt, ap);
	r = read_file(*ret_path, SYSFS_ATTR_MAX, &s, &len);
	if (r < 0)
		return vmr_error_set(err, -r, "read '%s'", *ret_path);
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
		s[--len] = '\0';
	*ret = s;
	return 0;
}

int net_sysfs_read(const struct vmr_config *cfg, char **ret, struct vmr_error **err,
		   const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vread(cfg, &path, ret, err, fmt, ap);
	va_end(ap);
	return r;
}

int net_sysfs_read_uint(const struct vmr_config *cfg, unsigned long *ret, struct vmr_error **err,
			const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL, *s = NULL;
	unsigned long v;
	char *end;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vread(cfg, &path, &s, err, fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	errno = 0;
	v = strtoul(s, &end, 0);
	/* strtoul takes "-1" for ULONG_MAX: a count is never negative */
	if (errno || end == s || *end || s[strspn(s, " \t")] == '-')
		return vmr_error_set(err, EINVAL, "read '%s': not a number: '%.32s'", path, s);
	*ret = v;
	return 0;
}

int net_sysfs_write(const struct vmr_config *cfg, const char *value, struct vmr_error **err,
		    const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	size_t n = strlen(value);
	va_list ap;
	ssize_t w;

	va_start(ap, fmt);
	path = vpath(cfg, fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return vmr_error_set(err, errno, "write '%s' to '%s'", value, path);
	do
		w = write(fd, value, n);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return vmr_error_set(err, errno, "write '%s' to '%s'", value, path);
	if ((size_t)w != n)
		return vmr_error_set(err, EIO, "write '%s' to '%s': short write", value, path);
	/* regular files (a fake tree) report nothing until close */
	if (close(TAKE_FD(fd)) < 0)
		return vmr_error_set(err, errno, "write '%s' to '%s'", value, path);
	return 0;
}

int net_sysfs_link_name(const struct vmr_config *cfg, char **ret, struct vmr_error **err,
			const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL;
	char target[4096];
	const char *base;
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	path = vpath(cfg, fmt, ap);
	va_end(ap);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		if (errno == ENOENT)
			return 0;
		return vmr_error_set(err, errno, "read link '%s'", path);
	}
	target[n] = '\0';
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	*ret = xstrdup(base ? base + 1 : target);
	return 1;
}

bool net_sysfs_exists(const struct vmr_config *cfg, const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL;
	va_list ap;

	va_start(ap, fmt);
	path = vpath(cfg, fmt, ap);
	va_end(ap);
	return access(path, F_OK) == 0;
}

static int cmpstr(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

int net_sysfs_list(const struct vmr_config *cfg, char ***ret, struct vmr_error **err,
		   const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct dirent *de;
	va_list ap;
	DIR *d;

	va_start(ap, fmt);
	path = vpath(cfg, fmt, ap);
	va_end(ap);
	d = opendir(path);
	if (!d)
		return vmr_error_set(err, errno, "list '%s'", path);
	while ((de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		vmr_strvec_push(&sv, de->d_name);
	}
	closedir(d);
	if (sv.n)
		qsort(sv.v, sv.n, sizeof(*sv.v), cmpstr);
	*ret = vmr_strvec_detach(&sv);
	return 0;
}
