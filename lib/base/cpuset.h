/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_CPUSET_H
#define VMR_CPUSET_H

/*
 * A set of host CPU numbers without duplicates, kept in the order written:
 * "vCPU i -> i-th CPU" means cpus[i], so "7,1-2" puts vCPU 0 on CPU 7, as
 * 5gdeploy does (its parseCpuset neither sorts nor merges).
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
 * into *ret in the written order (free with vmr_cpuset_free()).  A range
 * counts up ("3-5" is 3, 4, 5).  Rejects empty items, reversed
 * ranges, numbers above VMR_CPU_MAX and CPUs listed twice.  On failure
 * returns -EINVAL, leaves *ret untouched and, for the caller's message
 * ("reversed range '5-3'"), sets *ret_why to a static description of the
 * problem and *ret_bad to a copy of the offending item (caller frees);
 * either pointer may be NULL.
 */
int vmr_cpuset_parse(const char *s, struct vmr_cpuset *ret, char **ret_bad, const char **ret_why);
/*
 * Text in the set's order, ascending runs as ranges ("10-19,22", "7,1-2");
 * parsing it gives the same set in the same order.  Caller frees.
 */
char *vmr_cpuset_format(const struct vmr_cpuset *cs);
/* Whether the set holds CPUs in ascending order (vCPU order = CPU order). */
bool vmr_cpuset_sorted(const struct vmr_cpuset *cs);
/* Whether cpu is in the set. */
bool vmr_cpuset_contains(const struct vmr_cpuset *cs, unsigned cpu);
/* Lowest CPU present in both sets, or -1. */
long vmr_cpuset_first_common(const struct vmr_cpuset *a, const struct vmr_cpuset *b);
/* Make dst an independent copy of src (dst's old contents are not freed). */
void vmr_cpuset_copy(struct vmr_cpuset *dst, const struct vmr_cpuset *src);
/* Free the CPU array and empty the set; NULL is fine. */
void vmr_cpuset_free(struct vmr_cpuset *cs);

#endif
