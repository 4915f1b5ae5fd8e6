/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's seccomp filter, loaded: see lib/runtime/sandbox.h and
 * docs/security.md.  The program is the BPF libseccomp compiled from
 * lib/runtime/sandbox_filter.c at build time (Firecracker's seccompiler
 * does the same): a start of the supervisor neither maps libseccomp nor
 * spends half a millisecond building the same program again.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "lib/runtime/sandbox.h"
#include "lib/base/util.h"

/* sandbox_bpf_prog[] and sandbox_bpf_names[], made by lib/runtime/gen/sandbox_bpf.c */
#include "sandbox_bpf.h"

/*
 * A denied call traps (SECCOMP_RET_TRAP): the kernel skips it and sends
 * SIGSYS to the thread that made it, whose handler makes the call return
 * -EPERM and says so on stderr, once per system call number.
 */
#if defined(__x86_64__)
#define SET_RETURN(uc, v) ((uc)->uc_mcontext.gregs[REG_RAX] = (greg_t)(v))
#elif defined(__aarch64__)
#define SET_RETURN(uc, v) ((uc)->uc_mcontext.regs[0] = (unsigned long long)(v))
#else
#error "lib/runtime/sandbox.c: say how a SIGSYS handler sets a system call's return value here"
#endif

/* si_code of a seccomp trap (linux/signal.h, not always in glibc's headers) */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* system call numbers of both architectures are below this */
#define NR_MAX 1024

/* 1 once a denial of nr was logged; set from any thread */
static unsigned char logged[NR_MAX];

/* Async-signal-safe: the decimal digits of v, written backwards from end */
static char *fmt_uint(char *end, unsigned long v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

static void put(char **p, const char *s)
{
	while (*s)
		*(*p)++ = *s++;
}

static void on_sigsys(int sig, siginfo_t *si, void *ucv)
{
	int saved = errno;
	const char *name = NULL;
	char line[160], num[24], pid[24], *p = line;
	int nr;

	(void)sig;
	/* not a trap of our filter (a SIGSYS sent with kill): nothing to answer */
	if (si->si_code != SYS_SECCOMP)
		return;
	nr = si->si_syscall;
	SET_RETURN((ucontext_t *)ucv, -EPERM);
	if (nr >= 0 && nr < NR_MAX && __atomic_exchange_n(&logged[nr], 1, __ATOMIC_RELAXED)) {
		errno = saved;
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(sandbox_bpf_names); i++)
		if (sandbox_bpf_names[i].nr == nr)
			name = sandbox_bpf_names[i].name;
	put(&p, "vmrun: seccomp: denied ");
	if (name) {
		put(&p, name);
	} else {
		num[sizeof(num) - 1] = '\0';
		put(&p, "system call ");
		put(&p, fmt_uint(num + sizeof(num) - 1, (unsigned long)(unsigned)nr));
	}
	pid[sizeof(pid) - 1] = '\0';
	put(&p, " (pid ");
	put(&p, fmt_uint(pid + sizeof(pid) - 1, (unsigned long)getpid()));
	put(&p, ")\n");
	/* one write: lines of two threads do not interleave */
	(void)!write(STDERR_FILENO, line, (size_t)(p - line));
	errno = saved;
}

bool vmr_sandbox_enabled(void)
{
	const char *e = getenv("VMRUN_NO_SANDBOX");

	return !streq(e, "1");
}

int vmr_sandbox_trap_handler(struct vmr_error **err)
{
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO | SA_RESTART};
	sigset_t set;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return vmr_error_set(err, errno, "seccomp: install the SIGSYS handler");
	/* a blocked SIGSYS from a trap would kill the process instead */
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) < 0)
		return vmr_error_set(err, errno, "seccomp: unblock SIGSYS");
	return 0;
}

const struct sock_filter *vmr_sandbox_bpf(size_t *ret_len)
{
	*ret_len = ARRAY_SIZE(sandbox_bpf_prog);
	return sandbox_bpf_prog;
}

int vmr_sandbox_supervisor(struct vmr_error **err)
{
	struct sock_fprog prog = {.len = (unsigned short)ARRAY_SIZE(sandbox_bpf_prog),
				  .filter = (struct sock_filter *)sandbox_bpf_prog};
	long r;

	if (!vmr_sandbox_enabled())
		return 0;
	/* before the filter: a trap without its handler kills */
	r = vmr_sandbox_trap_handler(err);
	if (r < 0)
		return (int)r;
	/* what lets an unprivileged process load a filter, as libseccomp's default does */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return vmr_error_set(err, errno, "seccomp: set PR_SET_NO_NEW_PRIVS");
	/* for every thread or none (TSYNC): a thread left unfiltered would defeat it */
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
	if (r > 0)
		return vmr_error_set(err, ESRCH,
				     "seccomp: load the supervisor's filter: thread %ld could not "
				     "take it",
				     r);
	if (r < 0)
		return vmr_error_set(err, errno, "seccomp: load the supervisor's filter");
	return 1;
}
