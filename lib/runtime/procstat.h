/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_PROCSTAT_H
#define VMR_PROCSTAT_H

/*
 * What /proc says of a process and its threads, for `vmrun stats`, the
 * exporter and inspect: CPU time (utime + stime of /proc/PID[/task/TID]/stat,
 * in seconds) and resident memory (VmRSS of /proc/PID/status).  proc is
 * the /proc root ("/proc"; tests pass a fake tree).
 */

#include <stdint.h>
#include <sys/types.h>

/* CPU seconds of process pid (tid 0) or of its thread tid; -errno when gone. */
int vmr_proc_cpu_seconds(const char *proc, pid_t pid, pid_t tid, double *ret);
/* Resident memory of process pid in bytes; -errno when gone. */
int vmr_proc_rss_bytes(const char *proc, pid_t pid, uint64_t *ret);
/* Parse the utime + stime of one stat line (pure); -EINVAL when malformed. */
int vmr_proc_stat_ticks(const char *line, unsigned long long *ret);

#endif
