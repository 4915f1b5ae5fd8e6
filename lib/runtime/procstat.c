/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CPU time and memory from /proc (lib/runtime/procstat.h). */
#include <stdio.h>
#include <stdlib.h>

#include "lib/base/util.h"
#include "lib/runtime/procstat.h"

int vmr_proc_stat_ticks(const char *line, unsigned long long *ret)
{
	/* "PID (COMM) STATE ...": COMM may hold spaces and ')', so start after the last ')' */
	const char *p = strrchr(line, ')');
	unsigned long long utime, stime;

	if (!p)
		return -EINVAL;
	/* after ") ": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
	 * utime(14) stime(15) */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
		   &stime) != 2)
		return -EINVAL;
	*ret = utime + stime;
	return 0;
}

int vmr_proc_cpu_seconds(const char *proc, pid_t pid, pid_t tid, double *ret)
{
	_cleanup_free_ char *path = tid > 0
					? xasprintf("%s/%d/task/%d/stat", proc, (int)pid, (int)tid)
					: xasprintf("%s/%d/stat", proc, (int)pid);
	_cleanup_free_ char *text = NULL;
	unsigned long long ticks;
	long hz = sysconf(_SC_CLK_TCK);
	int r;

	r = read_file(path, 4096, &text, NULL);
	if (r < 0)
		return r;
	r = vmr_proc_stat_ticks(text, &ticks);
	if (r < 0)
		return r;
	*ret = (double)ticks / (double)(hz > 0 ? hz : 100);
	return 0;
}

int vmr_proc_rss_bytes(const char *proc, pid_t pid, uint64_t *ret)
{
	_cleanup_free_ char *path = xasprintf("%s/%d/status", proc, (int)pid);
	_cleanup_free_ char *text = NULL;
	const char *p;
	int r;

	r = read_file(path, 1 << 16, &text, NULL);
	if (r < 0)
		return r;
	p = strstr(text, "\nVmRSS:");
	if (!p)
		return -ENODATA; /* a zombie or a kernel thread */
	*ret = strtoull(p + strlen("\nVmRSS:"), NULL, 10) * 1024;
	return 0;
}
