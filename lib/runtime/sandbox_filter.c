/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's seccomp filter as libseccomp rules: see
 * lib/runtime/sandbox.h.  Compiled to BPF at build time (the Makefile runs
 * lib/runtime/gen/sandbox_bpf.c), which the supervisor loads.
 */
#include <errno.h>
#include <sched.h>
#include <sys/ioctl.h>

#include "lib/runtime/sandbox.h"
#include "lib/base/dlib.h"
#include "lib/base/util.h"

/*
 * libseccomp is loaded when a filter is built: at build time by
 * lib/runtime/gen/sandbox_bpf.c, and by the tests.  A supervisor loads the
 * BPF compiled then (lib/runtime/sandbox.c) and never maps the library.
 * Every function under its own name, through a pointer of its own type.
 */
#define SCMP_SONAME "libseccomp.so.2"
#define SCMP_SYMS(X)                                                                               \
	X(seccomp_init)                                                                            \
	X(seccomp_attr_set)                                                                        \
	X(seccomp_syscall_resolve_name)                                                            \
	X(seccomp_rule_add)                                                                        \
	X(seccomp_export_bpf)                                                                      \
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
	return vmr_dlib_load_handle(
	    SCMP_SONAME, "building the supervisor's seccomp filter (Debian package libseccomp2)",
	    scmp_syms, ARRAY_SIZE(scmp_syms), &scmp_handle, err);
}

/* clang-format off */
#define seccomp_init (*scmp.seccomp_init)
#define seccomp_attr_set (*scmp.seccomp_attr_set)
#define seccomp_syscall_resolve_name (*scmp.seccomp_syscall_resolve_name)
#define seccomp_rule_add (*scmp.seccomp_rule_add)
#define seccomp_export_bpf (*scmp.seccomp_export_bpf)
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
	*ret = ctx;
	return 0;
}

int vmr_sandbox_filter_export(int fd, struct vmr_error **err)
{
	scmp_filter_ctx ctx = NULL;
	int r = vmr_sandbox_filter_new(&ctx, err);

	if (r < 0)
		return r;
	r = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	if (r < 0)
		return vmr_error_set(err, -r, "seccomp: export the filter as BPF");
	return 0;
}

int vmr_sandbox_syscall_nr(const char *name)
{
	if (scmp_load(NULL) < 0)
		return -1;
	return seccomp_syscall_resolve_name(name);
}
