/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_NOTIFY_H
#define VMR_NOTIFY_H

#include "lib/base/util.h"

/*
 * The notification protocol of systemd's sd_notify(3): one datagram of
 * KEY=VALUE lines ("READY=1", "STATUS=…", "STOPPING=1", "MAINPID=N") to
 * the AF_UNIX socket that $NOTIFY_SOCKET names, a path or, with a leading
 * '@', an abstract name.  The receiver learns the sender's pid from
 * SCM_CREDENTIALS (its SO_PASSCRED).  The supervisor reports to systemd
 * (Type=notify units) and to the `vmrun up` that started it this way.
 *
 * Implemented here, not with libsystemd: loading libsystemd and its six
 * libraries cost every vmrun process, the supervisor above all, CPU at
 * exec and memory for as long as it runs (docs/performance.md).
 *
 * Returns 1 when sent, 0 when $NOTIFY_SOCKET is unset or empty, a negative
 * errno otherwise (-EINVAL: not an absolute path or '@' name, or too long).
 */
int vmr_notify(const char *state);
int vmr_notifyf(const char *fmt, ...) _printf_(1, 2);

#endif
