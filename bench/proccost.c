/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a process costs on this machine, the unit prices behind the
 * launchers' CPU figures (docs/performance.md, "Machine B"): an anonymous
 * page fault, a cheap system call, creating and removing a file, fork(2)
 * of a small process, and starting /bin/true by fork + exec against
 * clone(CLONE_VM | CLONE_VFORK) + exec (what lib/base/spawn.c does) from a
 * process with 1 MiB of heap that writes 32 of its pages afterwards, as a
 * supervisor does.  CPU time of this process only (children excluded),
 * medians of 9 runs of each.
 *
 *   cc -O2 -o proccost bench/proccost.c && ./proccost [DIR]   (DIR: /run)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUNS 9

static double cpu_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static char *const true_argv[] = {"/bin/true", NULL};
static char *heap;

static int exec_true(void *arg)
{
	(void)arg;
	execv(true_argv[0], true_argv);
	_exit(127);
}

/* one measurement: the CPU per operation, in microseconds */
static double faults(void)
{
	const int n = 2000;
	double t0 = cpu_us();
	char *p = mmap(NULL, (size_t)n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	for (int i = 0; i < n; i++)
		p[(size_t)i * 4096] = 1;
	t0 = (cpu_us() - t0) / n;
	munmap(p, (size_t)n * 4096);
	return t0;
}

static double syscalls(void)
{
	const int n = 20000;
	double t0 = cpu_us();

	for (int i = 0; i < n; i++)
		syscall(SYS_getppid);
	return (cpu_us() - t0) / n;
}

static const char *dir = "/run";

static double files(void)
{
	const int n = 200;
	char path[4096];
	double t0;

	snprintf(path, sizeof(path), "%s/vmrt-proccost.%d", dir, (int)getpid());
	t0 = cpu_us();
	for (int i = 0; i < n; i++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd < 0)
			exit(1);
		close(fd);
		unlink(path);
	}
	return (cpu_us() - t0) / n;
}

static double spawn(int shared_vm)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	const int n = 50;
	double t0 = cpu_us();

	for (int i = 0; i < n; i++) {
		pid_t pid;

		if (shared_vm)
			pid = clone(exec_true, stack + sizeof(stack),
				    CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
		else if ((pid = fork()) == 0)
			exec_true(NULL);
		if (pid < 0)
			exit(1);
		for (int k = 0; k < 32; k++)
			heap[(size_t)k * 4096 * 8]++;
		waitpid(pid, NULL, 0);
	}
	return (cpu_us() - t0) / n;
}

static double do_fork(void)
{
	return spawn(0);
}

static double do_clone(void)
{
	return spawn(1);
}

static void report(const char *what, double (*fn)(void))
{
	double v[RUNS];

	for (int i = 0; i < RUNS; i++)
		v[i] = fn();
	qsort(v, RUNS, sizeof(v[0]), cmp);
	printf("  %-52s %9.2f us\n", what, v[RUNS / 2]);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		dir = argv[1];
	heap = malloc(1 << 20);
	if (!heap)
		return 1;
	memset(heap, 1, 1 << 20);
	printf("CPU of this process per operation, median of %d runs:\n", RUNS);
	report("anonymous page fault (first write to a page)", faults);
	report("system call (getppid)", syscalls);
	report("create + close + unlink a file", files);
	report("spawn /bin/true: fork + exec (parent's side)", do_fork);
	report("spawn /bin/true: clone(CLONE_VM|CLONE_VFORK) + exec", do_clone);
	return 0;
}
