/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_FAULT_H
#define VMR_FAULT_H

/*
 * Fault injection for tests/faults/: named points on the supervisor's way
 * (after each journal entry, after spawn, after the QMP greeting, after
 * pinning, ...) where a test build stops or kills the process, so a test
 * can kill QEMU or the supervisor at exactly that step.  Only test builds
 * (`make faults`: -DVMR_FAULT_INJECTION, in build/fault/) have the hook;
 * in every other build vmr_fault_point() is an empty inline function.
 *
 * VMRUN_FAULT=POINT[:N]=ACTION (several separated by ','): at the Nth time
 * (default the first) the process passes POINT, do ACTION:
 *   die   SIGKILL itself (a supervisor killed there);
 *   stop  SIGSTOP itself, after writing "POINT\n" to $VMRUN_FAULT_MARK if
 *         set: the test then acts (kills QEMU, fills the disk) and sends
 *         SIGCONT;
 *   exit  _exit(99) without any cleanup.
 * The points are listed in docs/reliability.md.
 */

#ifdef VMR_FAULT_INJECTION
void vmr_fault_point(const char *point);
/* Forget the hits so far: a forked child counts from zero, as an exec'd program does. */
void vmr_fault_reset(void);
#else
static inline void vmr_fault_point(const char *point)
{
	(void)point;
}
static inline void vmr_fault_reset(void)
{
}
#endif

#endif
