/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault injection points of test builds (lib/fault.h). */
#include "lib/base/fault.h"

#ifdef VMR_FAULT_INJECTION
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>

#include "lib/base/util.h"

#define MAX_POINTS 64

static struct {
	const char *name;
	unsigned hits;
} seen[MAX_POINTS];

static unsigned hit(const char *point)
{
	size_t i;

	for (i = 0; i < MAX_POINTS && seen[i].name; i++)
		if (streq(seen[i].name, point))
			return ++seen[i].hits;
	if (i == MAX_POINTS)
		return 0;
	seen[i].name = point;
	return seen[i].hits = 1;
}

void vmr_fault_reset(void)
{
	memset(seen, 0, sizeof(seen));
}

/* Does one "POINT[:N]=ACTION" item of VMRUN_FAULT match this hit?  Returns the action. */
static const char *match(const char *item, size_t len, const char *point, unsigned n)
{
	const char *eq = memchr(item, '=', len);
	const char *colon;
	size_t plen;
	unsigned want = 1;

	if (!eq)
		return NULL;
	colon = memchr(item, ':', (size_t)(eq - item));
	plen = (size_t)((colon ? colon : eq) - item);
	if (colon)
		want = (unsigned)strtoul(colon + 1, NULL, 10);
	if (plen != strlen(point) || memcmp(item, point, plen) != 0 || want != n)
		return NULL;
	return eq + 1;
}

void vmr_fault_point(const char *point)
{
	const char *spec = getenv("VMRUN_FAULT"), *mark = getenv("VMRUN_FAULT_MARK");
	unsigned n = hit(point);

	while (spec && *spec) {
		size_t len = strcspn(spec, ",");
		const char *action = match(spec, len, point, n);

		if (action) {
			size_t alen = len - (size_t)(action - spec);

			if (alen == 3 && !memcmp(action, "die", 3))
				raise(SIGKILL);
			if (alen == 4 && !memcmp(action, "exit", 4))
				_exit(99);
			if (alen == 4 && !memcmp(action, "stop", 4)) {
				if (mark) {
					int fd = open(
					    mark, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

					if (fd >= 0) {
						(void)write_all(fd, point, strlen(point));
						(void)write_all(fd, "\n", 1);
						close(fd);
					}
				}
				raise(SIGSTOP);
			}
		}
		spec += len;
		if (*spec == ',')
			spec++;
	}
}
#endif
