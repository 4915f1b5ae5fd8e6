/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host CPU sets. */
#include <errno.h>
#include <stdlib.h>

#include "lib/base/cpuset.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

/* Parse s and format it back, or "ERR:<why>:<bad>". */
static char *roundtrip(const char *s)
{
	struct vmr_cpuset cs = {0};
	_cleanup_free_ char *bad = NULL;
	const char *why = NULL;
	char *out;

	if (vmr_cpuset_parse(s, &cs, &bad, &why) < 0)
		return xasprintf("ERR:%s:%s", why, bad);
	out = vmr_cpuset_format(&cs);
	vmr_cpuset_free(&cs);
	return out;
}

static void check(const char *in, const char *want)
{
	_cleanup_free_ char *got = roundtrip(in);

	is_str(got, want, "cpuset '%s'", in);
}

int main(void)
{
	struct vmr_cpuset a = {0}, b = {0}, c = {0};

	check("10-19,22", "10-19,22");
	/* the written order is kept: vCPU i on the i-th CPU, as 5gdeploy pins */
	check("3,1,2", "3,1-2");
	check("7,1-2", "7,1-2");
	check("1-2,7", "1-2,7");
	check("9,8,7", "9,8,7");
	check("2,3,0,1", "2-3,0-1");
	check("2,2", "ERR:duplicate CPU:2");
	check("0", "0");
	check("8191", "8191");
	check("5-5", "5");
	check("0-2,4,6-7", "0-2,4,6-7");
	check("5-3", "ERR:reversed range:5-3");
	check("1,5-3", "ERR:reversed range:5-3");
	check("1-3,3", "ERR:duplicate CPU:3");
	check("1-4,2-3", "ERR:duplicate CPU:2");
	check("", "ERR:empty cpuset:");
	check("1,,2", "ERR:empty item:");
	check("1,", "ERR:empty item:");
	check("x", "ERR:invalid item:x");
	check("1-", "ERR:invalid item:1-");
	check("-1", "ERR:invalid item:-1");
	check(" 1", "ERR:invalid item: 1");
	check("1-2-3", "ERR:invalid item:1-2-3");
	check("8192", "ERR:CPU number above 8191 in item:8192");
	check("0-99999999999", "ERR:CPU number above 8191 in item:0-99999999999");

	ok(vmr_cpuset_parse("2-5", &a, NULL, NULL) == 0 && a.n == 4 && a.cpus[0] == 2 &&
	       a.cpus[3] == 5,
	   "vCPU i maps to the i-th CPU");
	ok(vmr_cpuset_contains(&a, 3) && !vmr_cpuset_contains(&a, 6), "contains");
	ok(vmr_cpuset_sorted(&a), "2-5 is in ascending order");
	{
		struct vmr_cpuset o = {0}, p = {0};

		ok(vmr_cpuset_parse("7,1-2", &o, NULL, NULL) == 0 && o.n == 3 && o.cpus[0] == 7 &&
		       o.cpus[1] == 1 && o.cpus[2] == 2,
		   "7,1-2: vCPU 0 on CPU 7, vCPU 1 on CPU 1, vCPU 2 on CPU 2");
		ok(!vmr_cpuset_sorted(&o), "7,1-2 is not in ascending order");
		ok(vmr_cpuset_contains(&o, 7) && vmr_cpuset_contains(&o, 1) &&
		       !vmr_cpuset_contains(&o, 3),
		   "contains, unsorted");
		vmr_cpuset_parse("9,2,7", &p, NULL, NULL);
		is_int(vmr_cpuset_first_common(&o, &p), 2, "lowest common CPU of unsorted sets");
		vmr_cpuset_free(&o);
		vmr_cpuset_free(&p);
	}
	vmr_cpuset_parse("5-9", &b, NULL, NULL);
	is_int(vmr_cpuset_first_common(&a, &b), 5, "first common CPU");
	vmr_cpuset_parse("0-1,6", &c, NULL, NULL);
	is_int(vmr_cpuset_first_common(&a, &c), -1, "disjoint sets");
	vmr_cpuset_free(&c);
	vmr_cpuset_copy(&c, &a);
	ok(c.n == a.n && c.cpus != a.cpus && c.cpus[1] == 3, "copy is deep");
	ok(!vmr_cpuset_contains(&(struct vmr_cpuset){0}, 0), "empty set contains nothing");
	vmr_cpuset_free(&a);
	vmr_cpuset_free(&b);
	vmr_cpuset_free(&c);
	vmr_cpuset_free(NULL);
	ok(a.cpus == NULL && a.n == 0, "free resets");
	return tap_done();
}
