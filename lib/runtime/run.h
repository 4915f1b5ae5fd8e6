/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_RUN_H
#define VMR_RUN_H

/*
 * Internals of the guest supervisor (lib/supervisor.c): the console
 * fan-out (lib/run_console.c) and unix socket helpers (lib/run_socket.c).
 * Everything here is non-blocking and driven by the supervisor's poll()
 * loop; nothing here may ever wait for a peer.
 */

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/buf.h"
#include "lib/base/error.h"

#define RUN_CONSOLE_LOG_CAP (1u << 20)	/* console.log rotates to console.log.1 */
#define RUN_EVENTS_LOG_CAP (1u << 20)	/* events.jsonl rotates to events.jsonl.1 */
#define RUN_CLIENT_OUT_CAP (256u << 10) /* a slower client loses output beyond this */
#define RUN_TO_GUEST_CAP (64u << 10)	/* console input waiting for the guest */
#define RUN_MAX_CLIENTS 16		/* per socket */

/* An append-only log file of capped size; rotates to PATH.1 when full. */
struct run_caplog {
	char *path;
	int fd;
	size_t size, cap;
};

/* Open path (rotating an existing non-empty file to PATH.1 first). */
int run_caplog_open(struct run_caplog *l, const char *path, size_t cap, struct vmr_error **err);
/* Append; rotates first when the data would pass the cap.  Best effort. */
void run_caplog_write(struct run_caplog *l, const void *data, size_t n);
void run_caplog_close(struct run_caplog *l);

/*
 * Output waiting for a non-blocking fd, capped: data beyond the cap is
 * dropped (and counted) rather than buffered or waited for.
 */
struct run_outq {
	struct vmr_buf buf;
	size_t cap;
	uint64_t dropped;
};

/* Queue data (dropping what does not fit). */
void run_outq_add(struct run_outq *q, const void *data, size_t n);
/*
 * Write what fd takes now.  send_flags != 0 uses send() with those flags
 * (sockets).  Returns 0, or -errno when the peer is gone.
 */
int run_outq_flush(struct run_outq *q, int fd, int send_flags);

/* A connected console client. */
struct run_console_client {
	int fd;
	uint64_t id;
	struct run_outq out;
};

/*
 * The console: the guest's serial port (a connection to QEMU's serial
 * chardev) copied to stdout, console.log and every console client; input
 * from one client (the writer: the oldest connected one) to the guest.
 */
struct run_console {
	int serial_fd; /* -1 once QEMU closed it */
	struct run_outq to_guest;
	int out_fd;	    /* our stdout, or -1 */
	int out_send_flags; /* MSG_DONTWAIT when out_fd is a socket */
	struct run_outq out;
	struct run_caplog log;
	int listen_fd; /* console.sock, or -1 */
	struct run_console_client *clients[RUN_MAX_CLIENTS];
	size_t nclients;
	uint64_t next_id;
	/* every chunk of guest output, after run_console_init() (may be NULL) */
	void (*on_output)(const char *data, size_t n, void *userdata);
	void *on_output_userdata;
};

/*
 * Set up the console: serial_fd is taken (set non-blocking); out_fd (may
 * be -1) is duplicated in a way that never blocks the supervisor; log_path
 * is console.log; listen_fd (taken, may be -1) serves console clients.
 */
int run_console_init(struct run_console *c, int serial_fd, int out_fd, const char *log_path,
		     int listen_fd, struct vmr_error **err);
/* Append the poll entries the console needs; returns how many (at most 3 + clients). */
size_t run_console_poll(const struct run_console *c, struct pollfd *pfd);
/* Act on the poll results for the entries run_console_poll() added. */
void run_console_dispatch(struct run_console *c, const struct pollfd *pfd, size_t n);
/*
 * After QEMU exited: read what the serial socket still holds and try to
 * hand everything queued to its readers, waiting at most timeout_ms for
 * stdout.
 */
void run_console_drain(struct run_console *c, int timeout_ms);
void run_console_close(struct run_console *c);

/*
 * A listening unix stream socket at path (a stale socket file is
 * replaced), mode 0600 from the moment it exists (vmr_unix_listen(),
 * lib/base/unixsock.h), O_CLOEXEC, non-blocking when nonblock.
 */
int run_socket_listen(const char *path, int backlog, bool nonblock, struct vmr_error **err);
/* Connect to the unix socket at path; O_CLOEXEC, blocking. */
int run_socket_connect(const char *path, struct vmr_error **err);
/* Set O_NONBLOCK on fd; -errno on failure. */
int run_fd_nonblock(int fd);

#endif
