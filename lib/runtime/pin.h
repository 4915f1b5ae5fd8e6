/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_PIN_H
#define VMR_PIN_H

/*
 * vCPU pinning.  The decision is pure and tested on its own: QEMU's
 * `query-cpus-fast` reply gives each vCPU's cpu-index and host thread id;
 * vCPU i (by cpu-index, never by reply order) goes to cpuset.cpus[i].
 * Applying it is sched_setaffinity() on each vCPU thread, then confining
 * every other thread of the QEMU process to the whole cpuset.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/base/cpuset.h"
#include "lib/base/error.h"

/* One vCPU as QEMU reports it. */
struct vmr_vcpu {
	unsigned index; /* cpu-index */
	pid_t tid;	/* thread-id */
};

/* One pinning decision: vCPU `vcpu` on thread `tid` runs on `cpu`. */
struct vmr_pin {
	unsigned vcpu;
	pid_t tid;
	unsigned cpu;
};

/*
 * Parse the "return" value of query-cpus-fast into an array sorted by
 * cpu-index (*ret, caller frees; *ret_n entries).  A reply that is not an
 * array of objects with integer "cpu-index" and "thread-id", or that lists
 * an index twice, fails with EPROTO.
 */
int vmr_pin_parse(const json_t *reply, struct vmr_vcpu **ret, size_t *ret_n,
		  struct vmr_error **err);

/*
 * Decide where each vCPU runs: vCPU i on cs->cpus[i].  Fails when the
 * number of vCPUs differs from the cpuset's size, when the indexes are not
 * 0..n-1, or when two vCPUs share a thread ("vCPU threads are not distinct
 * (TCG thread=single?): cannot pin"), which would pin one thread twice and
 * leave the guest on one CPU.  *ret (caller frees) has n entries in
 * cpu-index order.
 */
int vmr_pin_map(const struct vmr_vcpu *v, size_t n, const struct vmr_cpuset *cs,
		struct vmr_pin **ret, struct vmr_error **err);

/*
 * Apply pins to the threads of process pid: each vCPU thread to its CPU,
 * then every other thread listed in /proc/PID/task to the whole cpuset.
 * Threads that exit meanwhile are skipped.  A CPU outside what the process
 * may use (a container's cpuset) fails with EINVAL and a hint.
 */
int vmr_pin_apply(pid_t pid, const struct vmr_pin *pins, size_t n, const struct vmr_cpuset *cs,
		  struct vmr_error **err);

/*
 * Where the threads of a QEMU process go (docs/topology.md, "Thread
 * placement"): the vCPUs one CPU each (pins), the iothreads (their thread
 * ids from query-iothreads) on iothreads, every other thread of the
 * process and its vhost-net workers on emulator.  A NULL set falls back:
 * iothreads to emulator, emulator to vcpus (the guest's cpuset); a thread
 * whose set is NULL after that is left alone.
 */
struct vmr_pin_place {
	const struct vmr_pin *pins; /* n vCPU pins (may be none) */
	size_t n;
	const struct vmr_cpuset *vcpus;
	const struct vmr_cpuset *emulator;
	const struct vmr_cpuset *iothreads;
	const pid_t *io_tids; /* the iothreads' thread ids */
	size_t nio;
	const char *proc; /* where /proc is ("/proc"; tests give a fake tree) */
	/*
	 * the guest has vhost-net fds: its kernel workers go with the
	 * emulator (finding them lists every process of the host, so only then)
	 */
	bool vhost_workers;
};

/* Apply place to the threads of process pid (as vmr_pin_apply()). */
int vmr_pin_apply_place(pid_t pid, const struct vmr_pin_place *place, struct vmr_error **err);

/*
 * The thread ids of query-iothreads' "return" value (*ret, caller frees;
 * *ret_n entries).  A reply that is not an array of objects with a
 * positive integer "thread-id" fails with EPROTO.
 */
int vmr_pin_parse_iothreads(const json_t *reply, pid_t **ret, size_t *ret_n,
			    struct vmr_error **err);

/*
 * The vhost-net workers of QEMU process pid: kernel threads named
 * "vhost-PID" (Linux < 6.4 makes them outside the process, so they are
 * not in /proc/PID/task) found under proc (NULL: /proc).  *ret (caller
 * frees) gets *ret_n ids; none is not an error.
 */
int vmr_pin_vhost_workers(const char *proc, pid_t pid, pid_t **ret, size_t *ret_n,
			  struct vmr_error **err);

/* The CPUs thread tid may run on, into *ret (free with vmr_cpuset_free). */
int vmr_pin_affinity(pid_t tid, struct vmr_cpuset *ret, struct vmr_error **err);

/*
 * Check that every CPU of cs is one this process may run on (and so may
 * give to QEMU).  Fails with usage status naming the first CPU that is not
 * and the allowed set, so a bad cpuset is refused before anything changes.
 */
int vmr_pin_check_available(const struct vmr_cpuset *cs, struct vmr_error **err);

#endif
