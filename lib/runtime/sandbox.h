/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_SANDBOX_H
#define VMR_SANDBOX_H

/*
 * The supervisor's own seccomp filter, written as libseccomp rules
 * (sandbox_filter.c), compiled to BPF when vmrun is built and loaded from
 * that (sandbox.c; docs/security.md).
 *
 * Once QEMU runs and the host is set up, the supervisor only talks QMP,
 * copies the console, reaps, and at the end undoes the journal (netlink,
 * sysfs writes, unlink, kill, waitpid, flock).  It never again needs to
 * exec a program, load a module, mount, ptrace, kexec, reboot, change its
 * ids or create namespaces, so those fail with EPERM from then on: a bug
 * that hands an attacker control of the supervisor (say, through a
 * hostile QMP reply) cannot turn into any of them.
 *
 * The filter allows by default and denies a list: a teardown that fails
 * because a needed call was forgotten is worse than a call left allowed.
 * A denied call traps: SIGSYS, whose handler returns EPERM and logs the
 * first denial of each call (vmr_sandbox_trap_handler()).
 * Foreign system call ABIs (i386 int 0x80, x32) kill the process:
 * libseccomp's default for an architecture the filter does not name, so
 * the list cannot be bypassed through them.
 */

#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/base/error.h"

/*
 * The system calls the filter makes fail with EPERM (and logs), NULL-terminated.
 * On top of these: clone() with any CLONE_NEW* flag fails with EPERM,
 * clone3() with ENOSYS (its flags are behind a pointer seccomp cannot
 * read; glibc then falls back to clone()), ioctl TIOCSTI and TIOCLINUX
 * with EPERM.  Under AddressSanitizer ptrace is left allowed, because
 * LeakSanitizer needs it at exit.
 */
extern const char *const vmr_sandbox_denied[];

/*
 * Build the filter with libseccomp (loaded with dlopen) without loading it:
 * for the build-time generator and for inspection (seccomp_export_pfc) in
 * tests.  The caller releases *ret with seccomp_release().
 */
int vmr_sandbox_filter_new(scmp_filter_ctx *ret, struct vmr_error **err);

/* The filter as BPF (seccomp_export_bpf(3)) written to fd. */
int vmr_sandbox_filter_export(int fd, struct vmr_error **err);

/* This architecture's number of the system call NAME; negative if unknown. */
int vmr_sandbox_syscall_nr(const char *name);

/*
 * The program vmr_sandbox_supervisor() loads: the export of the filter
 * above made at build time (lib/runtime/gen/sandbox_bpf.c), *ret_len
 * instructions.
 */
const struct sock_filter *vmr_sandbox_bpf(size_t *ret_len);

/*
 * Install the SIGSYS handler that answers the filter's traps: the denied
 * call returns -1 with errno EPERM, and the first denial of each system
 * call writes one line to stderr, "vmrun: seccomp: denied execve (pid N)"
 * (async-signal-safe, one write(2)).  Also unblocks SIGSYS, which the
 * kernel would otherwise turn into a kill.  vmr_sandbox_supervisor()
 * calls it; exported for tests that load a filter of their own.
 */
int vmr_sandbox_trap_handler(struct vmr_error **err);

/* False when the environment says VMRUN_NO_SANDBOX=1 (for debugging). */
bool vmr_sandbox_enabled(void);

/*
 * Load the filter into this process, for all its threads (TSYNC), after
 * setting PR_SET_NO_NEW_PRIVS.  Irreversible; inherited by every child
 * forked later, but not by QEMU, which must already run.  Returns 1 when
 * loaded, 0 when disabled by VMRUN_NO_SANDBOX=1, negative with *err.
 */
int vmr_sandbox_supervisor(struct vmr_error **err);

#endif
