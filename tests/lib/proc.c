/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Process helpers for unit tests (tests/lib/proc.h). */
#include "lib/buf.h"
#include "lib/util.h"
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
