/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmr_memtrim_text(): RSS goes down, and code, data and relocations survive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/memtrim.h"
#include "lib/util.h"
#include "tests/lib/tap.h"

static int counter = 41;              /* writable data: must survive */
static const char table[] = "rodata"; /* read-only data: refaulted from the file */

static long rss_kib(void)
{
	_cleanup_free_ char *status = NULL;
	const char *p;

	if (read_file("/proc/self/status", 1 << 16, &status, NULL) < 0)
		return -1;
	p = strstr(status, "VmRSS:");
	return p ? strtol(p + 6, NULL, 10) : -1;
}

int main(void)
{
	char buf[64];
	long before, after, n;

	/* touch a fair amount of libc text so there is something to shed */
	for (int i = 0; i < 1000; i++)
		snprintf(buf, sizeof(buf), "%d %f %s", i, i / 3.0, table);
	counter++;
	before = rss_kib();
	n = vmr_memtrim_text();
	after = rss_kib();
	ok(n > 0, "some read-only file mappings were released (%ld bytes)", n);
	ok(before > 0 && after > 0 && after < before, "RSS went down (%ld -> %ld KiB)", before,
	   after);
	is_int(counter, 42, "writable data kept its value");
	is_str(table, "rodata", "read-only data faults back in");
	/* through the PLT/GOT: relocated relro pages must not have been dropped */
	snprintf(buf, sizeof(buf), "%s-%d", table, counter);
	is_str(buf, "rodata-42", "library calls still work after the trim");
	ok(vmr_memtrim_text() >= 0, "a second trim is harmless");
	return tap_done();
}
