/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vCPU pinning: the decision from query-cpus-fast, and applying it. */
#include <dirent.h>
#include <sched.h>
#include <stdio.h>

#include "lib/runtime/pin.h"
#include "lib/base/util.h"

static int cmp_vcpu(const void *a, const void *b)
{
	const struct vmr_vcpu *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

int vmr_pin_parse(const json_t *reply, struct vmr_vcpu **ret, size_t *ret_n, struct vmr_error **err)
{
	_cleanup_free_ struct vmr_vcpu *v = NULL;
	size_t n, i;
	json_t *item;

	if (!json_is_array(reply))
		return vmr_error_set(err, EPROTO, "query-cpus-fast: reply is not an array");
	n = json_array_size(reply);
	if (n == 0)
		return vmr_error_set(err, EPROTO, "query-cpus-fast: no vCPUs");
	v = xcalloc(n, sizeof(*v));
	json_array_foreach(reply, i, item)
	{
		json_t *idx = json_object_get(item, "cpu-index");
		json_t *tid = json_object_get(item, "thread-id");

		if (!json_is_integer(idx) || !json_is_integer(tid) || json_integer_value(idx) < 0 ||
		    json_integer_value(idx) > VMR_CPU_MAX || json_integer_value(tid) <= 0 ||
		    json_integer_value(tid) > INT32_MAX)
			return vmr_error_set(err, EPROTO,
					     "query-cpus-fast: entry %zu lacks a valid "
					     "cpu-index and thread-id",
					     i);
		v[i].index = (unsigned)json_integer_value(idx);
		v[i].tid = (pid_t)json_integer_value(tid);
	}
	qsort(v, n, sizeof(*v), cmp_vcpu);
	for (i = 1; i < n; i++)
		if (v[i].index == v[i - 1].index)
			return vmr_error_set(
			    err, EPROTO, "query-cpus-fast: cpu-index %u listed twice", v[i].index);
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

int vmr_pin_map(const struct vmr_vcpu *v, size_t n, const struct vmr_cpuset *cs,
		struct vmr_pin **ret, struct vmr_error **err)
{
	_cleanup_free_ struct vmr_pin *pins = NULL;

	if (n != cs->n)
		return vmr_error_set(err, 0, "QEMU reports %zu vCPUs but the cpuset has %zu CPUs",
				     n, cs->n);
	/* sorted by index (vmr_pin_parse), so index i must sit at i */
	for (size_t i = 0; i < n; i++)
		if (v[i].index != i)
			return vmr_error_set(err, EPROTO,
					     "query-cpus-fast: no vCPU with cpu-index %zu", i);
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++)
			if (v[i].tid == v[k].tid) {
				/* no errno text: "Invalid argument" would add nothing */
				vmr_error_set(err, 0,
					      "vCPU threads are not distinct "
					      "(TCG thread=single?): cannot pin");
				vmr_error_hint(err,
					       "vCPU %u and vCPU %u both run on thread %d; "
					       "use KVM or -accel tcg,thread=multi",
					       v[i].index, v[k].index, (int)v[i].tid);
				return vmr_error_ret(*err);
			}
	pins = xcalloc(n, sizeof(*pins));
	for (size_t i = 0; i < n; i++) {
		pins[i].vcpu = v[i].index;
		pins[i].tid = v[i].tid;
		pins[i].cpu = cs->cpus[i];
	}
	*ret = TAKE_PTR(pins);
	return 0;
}

/* A cpu_set_t sized for every CPU number we accept. */
struct cpus {
	size_t size;
	cpu_set_t *set;
};

static void cpus_init(struct cpus *c)
{
	c->set = CPU_ALLOC(VMR_CPU_MAX + 1);
	if (!c->set)
		abort();
	c->size = CPU_ALLOC_SIZE(VMR_CPU_MAX + 1);
	CPU_ZERO_S(c->size, c->set);
}

static void cpus_free(struct cpus *c)
{
	if (c->set)
		CPU_FREE(c->set);
	c->set = NULL;
}

static void cpus_from_cpuset(struct cpus *c, const struct vmr_cpuset *cs)
{
	CPU_ZERO_S(c->size, c->set);
	for (size_t i = 0; i < cs->n; i++)
		CPU_SET_S(cs->cpus[i], c->size, c->set);
}

static void cpus_to_cpuset(const struct cpus *c, struct vmr_cpuset *ret)
{
	size_t n = 0;

	ret->n = (size_t)CPU_COUNT_S(c->size, c->set);
	ret->cpus = xcalloc(ret->n ? ret->n : 1, sizeof(*ret->cpus));
	for (unsigned cpu = 0; cpu <= VMR_CPU_MAX && n < ret->n; cpu++)
		if (CPU_ISSET_S(cpu, c->size, c->set))
			ret->cpus[n++] = cpu;
}

static int pin_one(pid_t tid, const struct cpus *c, struct vmr_error **err)
{
	if (sched_setaffinity(tid, c->size, c->set) == 0)
		return 0;
	return vmr_error_set(err, errno, "sched_setaffinity");
}

static bool is_vcpu(const struct vmr_pin *pins, size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (pins[i].tid == tid)
			return true;
	return false;
}

static bool tid_in(const pid_t *v, size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == tid)
			return true;
	return false;
}

/* set a thread that may have ended meanwhile (ESRCH is fine) */
static int place_one(pid_t tid, const struct vmr_cpuset *cs, struct cpus *c, const char *what,
		     struct vmr_error **err)
{
	_cleanup_free_ char *csname = NULL;
	int e;

	cpus_from_cpuset(c, cs);
	if (sched_setaffinity(tid, c->size, c->set) == 0 || errno == ESRCH)
		return 0;
	e = errno;
	csname = vmr_cpuset_format(cs);
	vmr_error_set(err, e, "confine %s %d to CPUs %s", what, (int)tid, csname);
	if (e == EINVAL)
		vmr_error_hint(err,
			       "CPUs %s are not available to this process (offline, or outside "
			       "the container's cpuset)",
			       csname);
	return vmr_error_ret(*err);
}

int vmr_pin_apply_place(pid_t pid, const struct vmr_pin_place *pl, struct vmr_error **err)
{
	const char *proc = pl->proc ? pl->proc : "/proc";
	_cleanup_free_ char *taskdir = xasprintf("%s/%d/task", proc, (int)pid);
	const struct vmr_cpuset *emu = pl->emulator ? pl->emulator : pl->vcpus;
	const struct vmr_cpuset *io = pl->iothreads ? pl->iothreads : emu;
	_cleanup_free_ pid_t *vhost = NULL;
	size_t nvhost = 0;
	struct cpus c = {0};
	struct dirent *de;
	DIR *d = NULL;
	int r = 0;

	cpus_init(&c);
	for (size_t i = 0; i < pl->n; i++) {
		unsigned one = pl->pins[i].cpu;
		struct vmr_cpuset single = {&one, 1};

		cpus_from_cpuset(&c, &single);
		r = pin_one(pl->pins[i].tid, &c, err);
		if (r < 0) {
			if (vmr_error_ret(*err) == -EINVAL)
				vmr_error_hint(err,
					       "CPU %u is not available to this process "
					       "(offline, or outside the container's cpuset)",
					       one);
			vmr_error_wrap(err, "pin vCPU %u (thread %d) to CPU %u", pl->pins[i].vcpu,
				       (int)pl->pins[i].tid, one);
			goto out;
		}
	}
	if (!emu && !io)
		goto out;

	d = opendir(taskdir);
	if (!d) {
		r = vmr_error_set(err, errno, "list threads of QEMU pid %d", (int)pid);
		goto out;
	}
	while ((de = readdir(d))) {
		unsigned long long tid;
		bool iothread;

		if (parse_uint(de->d_name, INT32_MAX, &tid) < 0)
			continue;
		if (is_vcpu(pl->pins, pl->n, (pid_t)tid))
			continue;
		iothread = tid_in(pl->io_tids, pl->nio, (pid_t)tid);
		if (!(iothread ? io : emu))
			continue;
		r = place_one((pid_t)tid, iothread ? io : emu, &c,
			      iothread ? "QEMU iothread" : "QEMU thread", err);
		if (r < 0)
			goto out;
	}
	/* vhost-net workers run the NICs' data path for the emulator: with it */
	if (emu && pl->vhost_workers) {
		r = vmr_pin_vhost_workers(proc, pid, &vhost, &nvhost, err);
		for (size_t i = 0; r >= 0 && i < nvhost; i++)
			r = place_one(vhost[i], emu, &c, "vhost-net worker", err);
	}
out:
	if (d)
		closedir(d);
	cpus_free(&c);
	return r;
}

int vmr_pin_apply(pid_t pid, const struct vmr_pin *pins, size_t n, const struct vmr_cpuset *cs,
		  struct vmr_error **err)
{
	struct vmr_pin_place pl = {.pins = pins, .n = n, .vcpus = cs};

	return vmr_pin_apply_place(pid, &pl, err);
}

int vmr_pin_parse_iothreads(const json_t *reply, pid_t **ret, size_t *ret_n, struct vmr_error **err)
{
	_cleanup_free_ pid_t *v = NULL;
	size_t n, i;
	json_t *item;

	if (!json_is_array(reply))
		return vmr_error_set(err, EPROTO, "query-iothreads: reply is not an array");
	n = json_array_size(reply);
	v = xcalloc(n + 1, sizeof(*v));
	json_array_foreach(reply, i, item)
	{
		json_t *tid = json_object_get(item, "thread-id");

		if (!json_is_integer(tid) || json_integer_value(tid) <= 0 ||
		    json_integer_value(tid) > INT32_MAX)
			return vmr_error_set(
			    err, EPROTO, "query-iothreads: entry %zu lacks a valid thread-id", i);
		v[i] = (pid_t)json_integer_value(tid);
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

int vmr_pin_vhost_workers(const char *proc, pid_t pid, pid_t **ret, size_t *ret_n,
			  struct vmr_error **err)
{
	_cleanup_free_ pid_t *v = NULL;
	size_t n = 0, alloc = 0;
	char want[32];
	struct dirent *de;
	DIR *d;

	if (!proc)
		proc = "/proc";
	snprintf(want, sizeof(want), "vhost-%d", (int)pid);
	d = opendir(proc);
	if (!d)
		return vmr_error_set(err, errno, "list '%s'", proc);
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = NULL, *comm = NULL;
		unsigned long long tid;
		size_t len;

		if (parse_uint(de->d_name, INT32_MAX, &tid) < 0)
			continue;
		path = xasprintf("%s/%s/comm", proc, de->d_name);
		if (read_file(path, 64, &comm, &len) < 0)
			continue; /* gone meanwhile */
		while (len && comm[len - 1] == '\n')
			comm[--len] = '\0';
		if (!streq(comm, want))
			continue;
		XGROW(v, alloc, n + 1);
		v[n++] = (pid_t)tid;
	}
	closedir(d);
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

int vmr_pin_affinity(pid_t tid, struct vmr_cpuset *ret, struct vmr_error **err)
{
	struct cpus c = {0};

	cpus_init(&c);
	if (sched_getaffinity(tid, c.size, c.set) < 0) {
		int r = vmr_error_set(err, errno, "get CPU affinity of thread %d", (int)tid);

		cpus_free(&c);
		return r;
	}
	cpus_to_cpuset(&c, ret);
	cpus_free(&c);
	return 0;
}

int vmr_pin_check_available(const struct vmr_cpuset *cs, struct vmr_error **err)
{
	struct vmr_cpuset mine = {0};
	int r;

	r = vmr_pin_affinity(0, &mine, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < cs->n; i++) {
		if (!vmr_cpuset_contains(&mine, cs->cpus[i])) {
			_cleanup_free_ char *allowed = vmr_cpuset_format(&mine);

			r = vmr_error_usage(err, "CPU %u is not available here (allowed: %s)",
					    cs->cpus[i], allowed);
			break;
		}
	}
	vmr_cpuset_free(&mine);
	return r;
}
