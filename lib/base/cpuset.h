/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_CPUSET_H
#define VMR_CPUSET_H

/*
 * A set of host CPU numbers, kept sorted ascending without duplicates.
 * "vCPU i -> i-th CPU" means cpus[i].
 */

#include <stdbool.h>
#include <stddef.h>

#define VMR_CPU_MAX 8191 /* highest CPU number accepted */

struct vmr_cpuset {
	unsigned *cpus;
	size_t n;
};

/*
 * Parse "10-19,22" (ranges and single CPUs, comma separated, no spaces)
 * into *ret (free with vmr_cpuset_free()).  Rejects empty items, reversed
 * ranges, numbers above VMR_CPU_MAX and CPUs listed twice.  On failure
 * returns -EINVAL, leaves *ret untouched and, for the caller's message
 * ("reversed range '5-3'"), sets *ret_why to a static description of the
 * problem and *ret_bad to a copy of the offending item (caller frees);
 * either pointer may be NULL.
 */
int vmr_cpuset_parse(const char *s, struct vmr_cpuset *ret, char **ret_bad, const char **ret_why);
/* Canonical text ("10-19,22"); caller frees. */
char *vmr_cpuset_format(const struct vmr_cpuset *cs);
/* Whether cpu is in the set (binary search). */
bool vmr_cpuset_contains(const struct vmr_cpuset *cs, unsigned cpu);
/* First CPU present in both sets, or -1. */
long vmr_cpuset_first_common(const struct vmr_cpuset *a, const struct vmr_cpuset *b);
/* Make dst an independent copy of src (dst's old contents are not freed). */
void vmr_cpuset_copy(struct vmr_cpuset *dst, const struct vmr_cpuset *src);
/* Free the CPU array and empty the set; NULL is fine. */
void vmr_cpuset_free(struct vmr_cpuset *cs);

#endif
