/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vCPU pinning: query-cpus-fast reply -> (thread, CPU) decisions, and applying them. */
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "lib/runtime/pin.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

static json_t *reply(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	if (!j) {
		tap_diag("bad test JSON: %s", jerr.text);
		abort();
	}
	return j;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void nftw_rm(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct vmr_cpuset cpuset(const char *s)
{
	struct vmr_cpuset cs = {0};

	if (vmr_cpuset_parse(s, &cs, NULL, NULL) < 0)
		abort();
	return cs;
}

/* Run parse + map; returns the pins as "vcpu:tid:cpu ..." or the error message. */
static char *decide(const char *text, const char *cpus)
{
	json_t *j = reply(text);
	struct vmr_cpuset cs = cpuset(cpus);
	struct vmr_error *err = NULL;
	struct vmr_vcpu *v = NULL;
	struct vmr_pin *p = NULL;
	size_t n = 0;
	char *out;

	if (vmr_pin_parse(j, &v, &n, &err) < 0 || vmr_pin_map(v, n, &cs, &p, &err) < 0) {
		out = xasprintf("error: %s", err->msg);
	} else {
		char buf[512] = "";
		size_t len = 0;

		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%u:%d:%u",
						i ? " " : "", p[i].vcpu, (int)p[i].tid, p[i].cpu);
		out = xstrdup(buf);
	}
	vmr_error_free(err);
	free(v);
	free(p);
	vmr_cpuset_free(&cs);
	json_decref(j);
	return out;
}

static void test_decisions(void)
{
	static const struct {
		const char *reply, *cpus, *want, *what;
	} cases[] = {
	    {"[{\"cpu-index\":0,\"thread-id\":101,\"qom-path\":\"/machine/unattached/device[0]\","
	     "\"target\":\"x86_64\"},{\"cpu-index\":1,\"thread-id\":102}]",
	     "10-11", "0:101:10 1:102:11", "vCPU i to cpuset.cpus[i]"},
	    {"[{\"cpu-index\":2,\"thread-id\":303},{\"cpu-index\":0,\"thread-id\":301},"
	     "{\"cpu-index\":1,\"thread-id\":302}]",
	     "4,6,9", "0:301:4 1:302:6 2:303:9", "by cpu-index, not reply order"},
	    {"[{\"cpu-index\":0,\"thread-id\":7}]", "1", "0:7:1", "single vCPU"},
	    {"[{\"cpu-index\":0,\"thread-id\":41},{\"cpu-index\":1,\"thread-id\":42},"
	     "{\"cpu-index\":2,\"thread-id\":43}]",
	     "7,1-2", "0:41:7 1:42:1 2:43:2", "the written order: (7,1-2) puts vCPU 0 on CPU 7"},
	    {"[{\"cpu-index\":0,\"thread-id\":500},{\"cpu-index\":1,\"thread-id\":500}]", "0-1",
	     "error: vCPU threads are not distinct (TCG thread=single?): cannot pin",
	     "duplicate thread ids refused"},
	    {"[{\"cpu-index\":0,\"thread-id\":1},{\"cpu-index\":1,\"thread-id\":2},"
	     "{\"cpu-index\":2,\"thread-id\":1}]",
	     "0-2", "error: vCPU threads are not distinct (TCG thread=single?): cannot pin",
	     "duplicate among three refused"},
	    {"[{\"cpu-index\":0,\"thread-id\":1},{\"cpu-index\":1,\"thread-id\":2}]", "0-2",
	     "error: QEMU reports 2 vCPUs but the cpuset has 3 CPUs", "count mismatch"},
	    {"[{\"cpu-index\":0,\"thread-id\":1},{\"cpu-index\":2,\"thread-id\":2}]", "0-1",
	     "error: query-cpus-fast: no vCPU with cpu-index 1", "gap in indexes"},
	    {"[{\"cpu-index\":0,\"thread-id\":1},{\"cpu-index\":0,\"thread-id\":2}]", "0-1",
	     "error: query-cpus-fast: cpu-index 0 listed twice", "index listed twice"},
	    {"[{\"cpu-index\":0}]", "0",
	     "error: query-cpus-fast: entry 0 lacks a valid cpu-index and thread-id",
	     "missing thread-id"},
	    {"[{\"cpu-index\":0,\"thread-id\":\"12\"}]", "0",
	     "error: query-cpus-fast: entry 0 lacks a valid cpu-index and thread-id",
	     "string thread-id"},
	    {"{\"cpu-index\":0}", "0", "error: query-cpus-fast: reply is not an array",
	     "not an array"},
	    {"[]", "0", "error: query-cpus-fast: no vCPUs", "empty reply"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *got = decide(cases[i].reply, cases[i].cpus);

		is_str(got, cases[i].want, "%s", cases[i].what);
	}
}

static char *thread_cpus(pid_t tid)
{
	_cleanup_free_ char *path = xasprintf("/proc/self/task/%d/status", (int)tid);
	_cleanup_free_ char *s = NULL;
	char *p, *nl;

	if (read_file(path, 1 << 16, &s, NULL) < 0)
		return xstrdup("?");
	p = strstr(s, "\nCpus_allowed_list:");
	if (!p)
		return xstrdup("?");
	p += strlen("\nCpus_allowed_list:");
	while (*p == ' ' || *p == '\t')
		p++;
	nl = strchr(p, '\n');
	return xstrndup(p, nl ? (size_t)(nl - p) : strlen(p));
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static pid_t tids[3];
static int started, done;

static void *worker(void *arg)
{
	int i = (int)(long)arg;

	pthread_mutex_lock(&lock);
	tids[i] = (pid_t)syscall(SYS_gettid);
	started++;
	pthread_cond_broadcast(&cond);
	while (!done)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void test_apply(void)
{
	struct vmr_cpuset all = cpuset("0-1");
	struct vmr_error *err = NULL;
	struct vmr_pin pins[2];
	struct vmr_cpuset got = {0};
	pthread_t th[3];
	char *s;

	if (vmr_pin_check_available(&all, &err) < 0) {
		tap_skip(err->msg, "apply pins to real threads");
		vmr_error_free(err);
		vmr_cpuset_free(&all);
		return;
	}
	/* two "vCPU" threads and one other thread, plus main */
	for (long i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	pthread_mutex_lock(&lock);
	while (started < 3)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);

	pins[0] = (struct vmr_pin){.vcpu = 0, .tid = tids[0], .cpu = 1};
	pins[1] = (struct vmr_pin){.vcpu = 1, .tid = tids[1], .cpu = 0};
	/* narrow the others first, so confining them is visible */
	{
		struct vmr_pin narrow = {.vcpu = 9, .tid = tids[2], .cpu = 0};
		struct vmr_cpuset zero = cpuset("0");

		ok(vmr_pin_apply(getpid(), &narrow, 1, &zero, &err) == 0,
		   "narrow all threads to CPU 0");
		vmr_cpuset_free(&zero);
	}
	ok(vmr_pin_apply(getpid(), pins, 2, &all, &err) == 0, "apply pins");
	s = thread_cpus(tids[0]);
	is_str(s, "1", "vCPU 0 thread pinned to CPU 1");
	free(s);
	s = thread_cpus(tids[1]);
	is_str(s, "0", "vCPU 1 thread pinned to CPU 0");
	free(s);
	s = thread_cpus(tids[2]);
	is_str(s, "0-1", "other thread confined to the whole cpuset");
	free(s);
	s = thread_cpus(getpid());
	is_str(s, "0-1", "main thread confined to the whole cpuset");
	free(s);
	ok(vmr_pin_affinity(tids[0], &got, &err) == 0 && got.n == 1 && got.cpus[0] == 1,
	   "vmr_pin_affinity reads the pin back");
	vmr_cpuset_free(&got);

	/*
	 * Thread placement: "vCPU" tids[0] on CPU 1, "iothread" tids[1] on
	 * iothread_cpus 1, the rest (main, tids[2]) on emulator_cpus 0.  /proc
	 * is a fake tree listing our real threads, where tids[2] is also named
	 * like a vhost-net worker of ours ("vhost-PID"), so the worker path
	 * pins a real thread.
	 */
	{
		_cleanup_free_ char *dir = xstrdup("/tmp/vmrt-pin.XXXXXX");
		struct vmr_pin one = {.vcpu = 0, .tid = tids[0], .cpu = 1};
		struct vmr_cpuset emu = cpuset("0"), io = cpuset("1");
		pid_t io_tids[1] = {tids[1]};
		pid_t self = getpid(), *vw = NULL;
		size_t nvw = 0;
		char path[256];
		FILE *f;

		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/%d", dir, (int)self);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/%d/task", dir, (int)self);
		mkdir(path, 0755);
		for (int i = 0; i < 4; i++) {
			pid_t t = i < 3 ? tids[i] : self;

			snprintf(path, sizeof(path), "%s/%d/task/%d", dir, (int)self, (int)t);
			mkdir(path, 0755);
		}
		/* a worker of ours, someone else's, a non-process entry */
		snprintf(path, sizeof(path), "%s/%d", dir, (int)tids[2]);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/%d/comm", dir, (int)tids[2]);
		f = fopen(path, "w");
		fprintf(f, "vhost-%d\n", (int)self);
		fclose(f);
		snprintf(path, sizeof(path), "%s/999999", dir);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/999999/comm", dir);
		f = fopen(path, "w");
		fprintf(f, "vhost-%d\n", (int)self + 1);
		fclose(f);
		snprintf(path, sizeof(path), "%s/self", dir);
		mkdir(path, 0755);

		ok(vmr_pin_vhost_workers(dir, self, &vw, &nvw, &err) == 0 && nvw == 1 &&
		       vw[0] == tids[2],
		   "vhost-net workers: the kernel thread named vhost-PID, no other");
		free(vw);

		/* spread everything first, so each placement is visible */
		ok(vmr_pin_apply(getpid(), NULL, 0, &all, &err) == 0, "threads on CPUs 0-1");
		{
			struct vmr_pin_place pl = {
			    .pins = &one,
			    .n = 1,
			    .emulator = &emu,
			    .iothreads = &io,
			    .io_tids = io_tids,
			    .nio = 1,
			    .proc = dir,
			    .vhost_workers = true,
			};

			ok(vmr_pin_apply_place(self, &pl, &err) == 0, "apply a placement");
		}
		s = thread_cpus(tids[0]);
		is_str(s, "1", "placement: the vCPU on its CPU");
		free(s);
		s = thread_cpus(tids[1]);
		is_str(s, "1", "placement: the iothread on iothread_cpus");
		free(s);
		s = thread_cpus(self);
		is_str(s, "0", "placement: the main thread on emulator_cpus");
		free(s);
		s = thread_cpus(tids[2]);
		is_str(s, "0", "placement: the vhost-net worker with the emulator");
		free(s);

		/* no emulator_cpus and no cpuset: iothreads placed, others left alone */
		ok(vmr_pin_apply(getpid(), NULL, 0, &all, &err) == 0, "threads on CPUs 0-1 again");
		{
			struct vmr_pin_place pl = {
			    .iothreads = &emu, .io_tids = io_tids, .nio = 1, .proc = dir};

			ok(vmr_pin_apply_place(self, &pl, &err) == 0, "apply iothread_cpus alone");
		}
		s = thread_cpus(tids[1]);
		is_str(s, "0", "iothread_cpus alone: the iothread placed");
		free(s);
		s = thread_cpus(self);
		is_str(s, "0-1", "iothread_cpus alone: the main thread left alone");
		free(s);
		vmr_cpuset_free(&emu);
		vmr_cpuset_free(&io);
		nftw_rm(dir);
	}

	/* a CPU we may not use: EINVAL with a hint, named in the message */
	{
		struct vmr_pin bad = {.vcpu = 0, .tid = tids[0], .cpu = 4000};
		struct vmr_cpuset big = cpuset("4000");

		_cleanup_free_ char *want = xasprintf("pin vCPU 0 (thread %d) to CPU 4000: "
						      "sched_setaffinity",
						      (int)tids[0]);
		_cleanup_free_ char *want2 = NULL, *mine_s = NULL;
		struct vmr_cpuset mine = {0};

		ok(vmr_pin_apply(getpid(), &bad, 1, &big, &err) < 0 && err && err->errnum == EINVAL,
		   "unavailable CPU fails");
		is_str(err ? err->msg : NULL, want, "message names vCPU, thread and CPU");
		ok(err && err->hint && strstr(err->hint, "cpuset"), "hint mentions the cpuset");
		vmr_error_clear(&err);
		vmr_pin_affinity(0, &mine, NULL);
		mine_s = vmr_cpuset_format(&mine);
		want2 = xasprintf("CPU 4000 is not available here (allowed: %s)", mine_s);
		vmr_cpuset_free(&mine);
		ok(vmr_pin_check_available(&big, &err) < 0 && err && err->status == VMR_EXIT_USAGE,
		   "check_available refuses CPU 4000 as invalid input");
		is_str(err ? err->msg : NULL, want2, "message names the CPU and the allowed set");
		vmr_error_clear(&err);
		vmr_cpuset_free(&big);
	}

	pthread_mutex_lock(&lock);
	done = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	vmr_cpuset_free(&all);
}

static void test_iothreads(void)
{
	struct vmr_error *err = NULL;
	pid_t *v = NULL;
	size_t n = 0;
	json_t *j = reply("[{\"id\":\"io0\",\"thread-id\":17194,\"poll-max-ns\":32768},"
			  "{\"id\":\"io1\",\"thread-id\":17195}]");

	ok(vmr_pin_parse_iothreads(j, &v, &n, &err) == 0 && n == 2 && v[0] == 17194 &&
	       v[1] == 17195,
	   "query-iothreads: the thread ids");
	free(v);
	json_decref(j);
	j = reply("[{\"id\":\"io0\"}]");
	ok(vmr_pin_parse_iothreads(j, &v, &n, &err) < 0 && err && err->errnum == EPROTO,
	   "query-iothreads: an entry without thread-id is EPROTO");
	vmr_error_clear(&err);
	json_decref(j);
	j = reply("{}");
	ok(vmr_pin_parse_iothreads(j, &v, &n, &err) < 0, "query-iothreads: not an array");
	vmr_error_clear(&err);
	json_decref(j);
}

int main(void)
{
	test_decisions();
	test_iothreads();
	test_apply();
	return tap_done();
}
