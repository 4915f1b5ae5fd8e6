/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_UNIXSOCK_H
#define VMR_UNIXSOCK_H

/*
 * Listening unix sockets in a state directory, private from the moment
 * they exist: mode 0600, owned by the caller.  The file bind() makes takes
 * its mode from the socket's inode less the umask, so the socket is
 * fchmod()ed to 0600 before bind() and the umask is 0177 during bind()
 * (either alone suffices on Linux; both guard against the other being
 * lost).  There is no moment when the file is wider, and no chmod() after
 * bind() that a connect() could race.  The umask is the process's: callers
 * are single-threaded (the supervisor and its setup are).
 */

#include <stdbool.h>

#include "lib/base/error.h"

/* The mode of every socket vmr_unix_listen() makes. */
#define VMR_SOCKET_MODE 0600

/*
 * Bind a stream socket at path (a socket left there is replaced; anything
 * else is an error) with mode VMR_SOCKET_MODE and listen with backlog.
 * The fd is SOCK_CLOEXEC, and SOCK_NONBLOCK when nonblock.  Returns the
 * fd, or -errno with err set ("bind socket '/run/vmrun/a/control.sock'").
 */
int vmr_unix_listen(const char *path, int backlog, bool nonblock, struct vmr_error **err);

#endif
