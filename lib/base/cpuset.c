/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host CPU sets: "10-19,22" parsing, formatting, membership. */
#include <stdint.h>
#include <stdio.h>

#include "lib/base/buf.h"
#include "lib/base/cpuset.h"
#include "lib/base/util.h"

static int cpuset_fail(char **ret_bad, const char **ret_why, const char *bad, size_t badlen,
		       const char *why)
{
	if (ret_bad)
		*ret_bad = xstrndup(bad, badlen);
	if (ret_why)
		*ret_why = why;
	return -EINVAL;
}

int vmr_cpuset_parse(const char *s, struct vmr_cpuset *ret, char **ret_bad, const char **ret_why)
{
	/* a bitmap finds duplicates before anything is expanded */
	uint64_t seen[(VMR_CPU_MAX + 64) / 64] = {0};
	_cleanup_free_ unsigned *cpus = NULL;
	size_t n = 0, alloc = 0;
	const char *p = s;

	if (!s || !*s)
		return cpuset_fail(ret_bad, ret_why, "", 0, "empty cpuset");
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		_cleanup_free_ char *item = xstrndup(p, len);
		char *dash = strchr(item, '-');
		unsigned long long lo, hi;

		if (len == 0)
			return cpuset_fail(ret_bad, ret_why, p, 0, "empty item");
		if (dash)
			*dash = '\0';
		if (parse_uint(item, ~0ull, &lo) < 0 ||
		    (dash && parse_uint(dash + 1, ~0ull, &hi) < 0))
			return cpuset_fail(ret_bad, ret_why, p, len, "invalid item");
		if (!dash)
			hi = lo;
		if (hi < lo)
			return cpuset_fail(ret_bad, ret_why, p, len, "reversed range");
		if (hi > VMR_CPU_MAX)
			return cpuset_fail(ret_bad, ret_why, p, len,
					   "CPU number above 8191 in item");
		for (unsigned long long c = lo; c <= hi; c++) {
			if (seen[c / 64] & (1ull << (c % 64))) {
				char num[24];
				int l = snprintf(num, sizeof(num), "%llu", c);

				return cpuset_fail(ret_bad, ret_why, num, (size_t)l,
						   "duplicate CPU");
			}
			seen[c / 64] |= 1ull << (c % 64);
		}
		/* no duplicates, so at most VMR_CPU_MAX + 1 CPUs in all */
		XGROW(cpus, alloc, n + (size_t)(hi - lo + 1));
		for (unsigned long long c = lo; c <= hi; c++)
			cpus[n++] = (unsigned)c;
		if (!end)
			break;
		p = end + 1;
	}
	ret->cpus = TAKE_PTR(cpus);
	ret->n = n;
	return 0;
}

char *vmr_cpuset_format(const struct vmr_cpuset *cs)
{
	struct vmr_buf b = VMR_BUF_INIT;

	for (size_t i = 0; i < cs->n;) {
		size_t j = i;

		while (j + 1 < cs->n && cs->cpus[j + 1] == cs->cpus[j] + 1)
			j++;
		if (b.len)
			vmr_buf_addc(&b, ',');
		if (j == i)
			vmr_buf_addf(&b, "%u", cs->cpus[i]);
		else
			vmr_buf_addf(&b, "%u-%u", cs->cpus[i], cs->cpus[j]);
		i = j + 1;
	}
	if (!b.s)
		return xstrdup("");
	return vmr_buf_detach(&b);
}

bool vmr_cpuset_sorted(const struct vmr_cpuset *cs)
{
	for (size_t i = 1; i < cs->n; i++)
		if (cs->cpus[i] < cs->cpus[i - 1])
			return false;
	return true;
}

bool vmr_cpuset_contains(const struct vmr_cpuset *cs, unsigned cpu)
{
	for (size_t i = 0; i < cs->n; i++)
		if (cs->cpus[i] == cpu)
			return true;
	return false;
}

long vmr_cpuset_first_common(const struct vmr_cpuset *a, const struct vmr_cpuset *b)
{
	uint64_t in_a[(VMR_CPU_MAX + 64) / 64] = {0};
	long best = -1;

	for (size_t i = 0; i < a->n; i++)
		in_a[a->cpus[i] / 64] |= 1ull << (a->cpus[i] % 64);
	for (size_t j = 0; j < b->n; j++)
		if ((in_a[b->cpus[j] / 64] & (1ull << (b->cpus[j] % 64))) &&
		    (best < 0 || b->cpus[j] < (unsigned long)best))
			best = (long)b->cpus[j];
	return best;
}

void vmr_cpuset_copy(struct vmr_cpuset *dst, const struct vmr_cpuset *src)
{
	dst->n = src->n;
	dst->cpus = NULL;
	if (src->n) {
		dst->cpus = xmalloc(src->n * sizeof(*src->cpus));
		memcpy(dst->cpus, src->cpus, src->n * sizeof(*src->cpus));
	}
}

void vmr_cpuset_free(struct vmr_cpuset *cs)
{
	if (!cs)
		return;
	free(cs->cpus);
	cs->cpus = NULL;
	cs->n = 0;
}
