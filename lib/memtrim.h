/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_MEMTRIM_H
#define VMR_MEMTRIM_H

/*
 * Shed the code pages startup touched.
 *
 * Startup (YAML, netlink, seed building, QMP negotiation) runs code the
 * long-running supervisor loop never runs again, yet those pages stay
 * mapped and count in its RSS.  vmr_memtrim_text() drops this process's
 * page-table entries for every private, read-only file mapping (program
 * and library text and read-only data) that holds no copy-on-write page
 * (smaps "Anonymous: 0 kB"; relocated relro pages are private and are never
 * dropped).  Such pages are the file's own, so nothing is lost: they stay in
 * the page cache, shared with other processes, and fault back in on demand.
 * Writable and anonymous memory is never touched.  It is what reclaim does
 * under memory pressure, done at a known quiet point so RSS shows the
 * steady-state working set.
 *
 * Returns the number of bytes advised, or -errno if /proc/self/maps cannot
 * be read.  Best effort: a failing madvise() of one mapping is skipped.
 */
long vmr_memtrim_text(void);

#endif
