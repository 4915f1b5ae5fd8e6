/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The supervisor's seccomp filter: see lib/sandbox.h and docs/security.md. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <ucontext.h>
#include <unistd.h>

#include "lib/runtime/sandbox.h"
#include "lib/base/dlib.h"
#include "lib/base/util.h"

/*
 * libseccomp is loaded to build and load the filter, and unloaded once the
 * filter is in the kernel: a supervisor needs it for a moment at startup,
 * and its code would otherwise stay mapped for the guest's life, 120 KiB
 * that a supervisor alone on its host holds by itself (docs/performance.md).
 * Every function under its own name, through a pointer of its own type.
 */
#define SCMP_SONAME "libseccomp.so.2"
#define SCMP_SYMS(X)                                                                               \
	X(seccomp_init)                                                                            \
	X(seccomp_attr_set)                                                                        \
	X(seccomp_syscall_resolve_name)                                                            \
	X(seccomp_rule_add)                                                                        \
	X(seccomp_load)                                                                            \
	X(seccomp_release)

static struct {
#define SCMP_FN(f) __typeof__(f) *f;
	SCMP_SYMS(SCMP_FN)
#undef SCMP_FN
} scmp;
#define SCMP_SYM(f) {#f, (void **)&scmp.f},
static const struct vmr_dlib_sym scmp_syms[] = {SCMP_SYMS(SCMP_SYM)};
#undef SCMP_SYM
static void *scmp_handle;

static int scmp_load(struct vmr_error **err)
{
	if (scmp_handle)
		return 0;
	return vmr_dlib_load_handle(SCMP_SONAME,
				    "the supervisor's seccomp filter (Debian package libseccomp2)",
				    scmp_syms, ARRAY_SIZE(scmp_syms), &scmp_handle, err);
}

/* clang-format off */
#define seccomp_init (*scmp.seccomp_init)
#define seccomp_attr_set (*scmp.seccomp_attr_set)
#define seccomp_syscall_resolve_name (*scmp.seccomp_syscall_resolve_name)
#define seccomp_rule_add (*scmp.seccomp_rule_add)
#define seccomp_load (*scmp.seccomp_load)
#define seccomp_release (*scmp.seccomp_release)
/* clang-format on */

#if defined(__SANITIZE_ADDRESS__)
#define VMR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VMR_ASAN 1
#endif
#endif

/* clang-format off */
const char *const vmr_sandbox_denied[] = {
	/* running programs */
	"execve", "execveat",
	/* kernel modules */
	"init_module", "finit_module", "delete_module",
	/* mounts and root changes */
	"mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
	"fsconfig", "fsmount", "fspick", "mount_setattr",
	/* other processes' memory and fds */
#ifndef VMR_ASAN
	"ptrace",
#endif
	"process_vm_readv", "process_vm_writev", "pidfd_getfd",
	/* the machine */
	"kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl",
	"sethostname", "setdomainname", "settimeofday", "clock_settime", "clock_adjtime",
	"adjtimex", "iopl", "ioperm", "syslog", "vhangup", "uselib", "personality",
	/* identities and capabilities */
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
	"setfsuid", "setfsgid", "capset",
	/* namespaces (setns stays: entering an existing one grants nothing new) */
	"unshare",
	/* kernel attack surface the supervisor never uses */
	"bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
	"open_by_handle_at", "lookup_dcookie",
	/* device nodes are made during setup only */
	"mknod", "mknodat",
	NULL,
};
/* clang-format on */

static const unsigned long clone_new_flags[] = {
    CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
    CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET,
};

/* terminal ioctls that write into another program's input */
static const unsigned long tty_ioctls[] = {TIOCSTI, TIOCLINUX};

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
#define NAMES_MAX 96

/* nr -> name of the denied calls, filled before the filter is loaded */
static struct {
	int nr;
	const char *name;
} names[NAMES_MAX];
static size_t nnames;
/* 1 once a denial of nr was logged; set from any thread */
static unsigned char logged[NR_MAX];

static void name_add(int nr, const char *name)
{
	for (size_t i = 0; i < nnames; i++)
		if (names[i].nr == nr)
			return;
	if (nnames < NAMES_MAX)
		names[nnames++] = (typeof(names[0])){.nr = nr, .name = name};
}

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
	for (size_t i = 0; i < nnames; i++)
		if (names[i].nr == nr)
			name = names[i].name;
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

static int rule_fail(int r, const char *what, struct vmr_error **err)
{
	return vmr_error_set(err, -r, "seccomp: add rule for '%s'", what);
}

int vmr_sandbox_filter_new(scmp_filter_ctx *ret, struct vmr_error **err)
{
	scmp_filter_ctx ctx;
	int r;

	if (scmp_load(err) < 0)
		return -1;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return vmr_error_set(err, ENOMEM, "seccomp: create filter");
	/* all threads or none: a thread left unfiltered would defeat it */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r < 0) {
		seccomp_release(ctx);
		return vmr_error_set(err, -r, "seccomp: set TSYNC");
	}
	for (size_t i = 0; vmr_sandbox_denied[i]; i++) {
		int nr = seccomp_syscall_resolve_name(vmr_sandbox_denied[i]);

		/* a libseccomp older than the call: nothing to deny with it */
		if (nr == __NR_SCMP_ERROR)
			continue;
		r = seccomp_rule_add(ctx, SCMP_ACT_TRAP, nr, 0);
		if (r < 0) {
			seccomp_release(ctx);
			return rule_fail(r, vmr_sandbox_denied[i], err);
		}
		name_add(nr, vmr_sandbox_denied[i]);
	}
	/* clone's flags are its first argument on x86_64 and aarch64 */
	for (size_t i = 0; i < ARRAY_SIZE(clone_new_flags); i++) {
		r = seccomp_rule_add(
		    ctx, SCMP_ACT_TRAP, SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, clone_new_flags[i], clone_new_flags[i]));
		if (r < 0) {
			seccomp_release(ctx);
			return rule_fail(r, "clone", err);
		}
	}
	name_add(SCMP_SYS(clone), "clone");
	/* no trap, no log: ENOSYS is glibc's cue to fall back to clone */
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r < 0) {
		seccomp_release(ctx);
		return rule_fail(r, "clone3", err);
	}
	for (size_t i = 0; i < ARRAY_SIZE(tty_ioctls); i++) {
		/* the request is an int in the kernel: compare the low 32 bits */
		r = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, tty_ioctls[i]));
		if (r < 0) {
			seccomp_release(ctx);
			return rule_fail(r, "ioctl", err);
		}
	}
	name_add(SCMP_SYS(ioctl), "ioctl");
	*ret = ctx;
	return 0;
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

int vmr_sandbox_supervisor(struct vmr_error **err)
{
	scmp_filter_ctx ctx = NULL;
	int r;

	if (!vmr_sandbox_enabled())
		return 0;
	r = vmr_sandbox_filter_new(&ctx, err);
	if (r < 0)
		return r;
	/* before the filter: a trap without its handler kills */
	r = vmr_sandbox_trap_handler(err);
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	/* libseccomp sets PR_SET_NO_NEW_PRIVS first (SCMP_FLTATR_CTL_NNP) */
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	/* the filter is the kernel's now: the library's pages can go */
	vmr_dlib_unload(&scmp_handle, scmp_syms, ARRAY_SIZE(scmp_syms));
	if (r < 0)
		return vmr_error_set(err, -r, "seccomp: load the supervisor's filter");
	return 1;
}
