/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shedding startup's code pages (lib/memtrim.h). */
#include <stdio.h>
#include <sys/mman.h>

#include "lib/memtrim.h"
#include "lib/util.h"

struct range {
	unsigned long start, end;
	bool eligible;
};

long vmr_memtrim_text(void)
{
	_cleanup_free_ char *smaps = NULL;
	_cleanup_free_ struct range *v = NULL;
	size_t n = 0, alloc = 0;
	long total = 0;
	char *line, *save = NULL;
	int r;

	/* read it whole first: madvise() while reading would change it */
	r = read_file("/proc/self/smaps", 4 << 20, &smaps, NULL);
	if (r < 0)
		return r;
	for (line = strtok_r(smaps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long start, end, inode, anon;
		char perms[5];
		int fields, off = 0;

		/* a mapping's header: "start-end perms offset dev inode [path]" */
		fields =
		    sscanf(line, "%lx-%lx %4s %*s %*s %lu %n", &start, &end, perms, &inode, &off);

		if (fields == 4 && off > 0) {
			XGROW(v, alloc, n + 1);
			/*
			 * Private, read-only (r-x or r--) mappings of a file: their
			 * pages are the file's own unless copy-on-write made some
			 * private (relro after relocation), which "Anonymous" shows.
			 */
			v[n++] = (struct range){start, end,
						perms[1] == '-' && perms[3] == 'p' && inode != 0 &&
						    line[off] == '/'};
		} else if (n > 0 && sscanf(line, "Anonymous: %lu kB", &anon) == 1 && anon > 0) {
			v[n - 1].eligible = false;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].eligible &&
		    madvise((void *)v[i].start, v[i].end - v[i].start, MADV_DONTNEED) == 0)
			total += (long)(v[i].end - v[i].start);
	return total;
}
