/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_QMP_H
#define VMR_QMP_H

/*
 * A QMP client (QEMU Machine Protocol, docs/interop/qmp-spec.rst) for the
 * guest supervisor and for short synchronous callers.  docs/qmp.md states
 * the guarantees in full; in short:
 *
 * - One connected stream socket, non-blocking inside; every command gets
 *   a numeric id and an entry in a pending table; replies are matched by
 *   id, events are routed to the event handler, even when they arrive
 *   before the reply they relate to (RESUME before cont's return).
 * - Messages are capped at VMR_QMP_MAX_LINE (10 MiB): a longer one is a
 *   fatal protocol error ("QMP message exceeds 10 MiB").
 * - A malformed or id-less error reply fails the oldest pending command
 *   only; with nothing pending it goes to the diagnostic handler.  Replies
 *   with unknown ids are dropped (diagnostic).
 * - EOF, ECONNRESET or a fatal protocol error closes the client: the fd is
 *   closed, every pending command fails ("QMP connection closed"), no
 *   handler is called afterwards, and every later call fails at once with
 *   -EPIPE.
 *
 * Return values of the fallible calls (err is set on every failure):
 *   -ETIMEDOUT  a deadline passed (greeting or reply)
 *   -EPIPE      the connection is closed (err->errnum is ECONNRESET when
 *               the peer reset it, else 0)
 *   -EREMOTEIO  QEMU answered with an error; its class is available
 *               through vmr_qmp_error_class() (never parse the desc)
 *   -EPROTO     a malformed reply
 *   -EBUSY      called from inside a handler where that is not allowed
 *   other -errno from connect/send
 *
 * Handlers run from vmr_qmp_process()/vmr_qmp_execute()/vmr_qmp_handshake().
 * Inside a handler you may call vmr_qmp_send() and the accessors, but not
 * vmr_qmp_execute(), vmr_qmp_handshake(), vmr_qmp_process() (they return
 * -EBUSY) nor vmr_qmp_free().
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/error.h"
#include "qmp/line.h" /* VMR_QMP_MAX_LINE */

struct vmr_qmp;

/*
 * An event: event is its name ("SHUTDOWN"); data and timestamp are
 * borrowed (json_incref to keep them); data is NULL when the event has
 * none.
 */
typedef void (*vmr_qmp_event_fn)(const char *event, json_t *data, json_t *timestamp,
				 void *userdata);

/*
 * A diagnostic: something the client tolerated but a log should show
 * (a reply with an unknown id, an id-less error with nothing pending, an
 * unparsable line with nothing pending, the reason the connection closed).
 * msg is lowercase, without trailing period, valid during the call.
 */
typedef void (*vmr_qmp_diag_fn)(const char *msg, void *userdata);

/*
 * Completion of an asynchronous command, called exactly once: on the
 * reply, on a failure, when the deadline passes, when the connection
 * closes, or from vmr_qmp_free().  On success ret is the reply's "return"
 * value (borrowed) and err is NULL.  On failure ret is NULL, err is yours
 * (free it with vmr_error_free) and error_class is QEMU's error class
 * ("GenericError", "CommandNotFound", ...) or NULL when the failure is not
 * QEMU's answer.  r is the value vmr_qmp_execute() would return.
 */
typedef void (*vmr_qmp_reply_fn)(json_t *ret, int r, const char *error_class, struct vmr_error *err,
				 void *userdata);

/*
 * Wrap a connected stream socket; the fd is taken (closed on failure and
 * by vmr_qmp_free) and set O_NONBLOCK and O_CLOEXEC.  Diagnostics name it
 * "fd N" until vmr_qmp_set_name().  Returns 0 or -errno.
 */
int vmr_qmp_new(int fd, struct vmr_qmp **ret);

/*
 * Connect to the unix socket at path, retrying while it does not exist or
 * refuses connections, for up to timeout_ms (< 0: no limit).  The client
 * is named after path.  No handshake is done.
 */
int vmr_qmp_connect_path(const char *path, int timeout_ms, struct vmr_qmp **ret,
			 struct vmr_error **err);

/* Name the peer in diagnostics and handshake errors (e.g. the socket path); copied. */
void vmr_qmp_set_name(struct vmr_qmp *q, const char *name);

/* Install the event handler (NULL: events are dropped). */
void vmr_qmp_set_event_handler(struct vmr_qmp *q, vmr_qmp_event_fn fn, void *userdata);

/* Install the diagnostic handler (NULL: diagnostics are dropped). */
void vmr_qmp_set_diag_handler(struct vmr_qmp *q, vmr_qmp_diag_fn fn, void *userdata);

/*
 * Lower the message cap (tests and fuzzing only; 0 restores
 * VMR_QMP_MAX_LINE).  Call before any data is read.
 */
void vmr_qmp_set_max_line(struct vmr_qmp *q, size_t cap);

/*
 * Wait for the greeting and negotiate with qmp_capabilities (no optional
 * capability is requested: no OOB), all within timeout_ms (< 0: no limit).
 * Events arriving meanwhile are dispatched.  On a missing greeting the
 * error names the peer: "qmp '/run/g/qmp.sock': no greeting within 3000 ms".
 */
int vmr_qmp_handshake(struct vmr_qmp *q, int timeout_ms, struct vmr_error **err);

/*
 * The greeting's "QMP" object ({"version":..., "capabilities":[...]}),
 * borrowed, or NULL before it arrived.
 */
json_t *vmr_qmp_greeting(const struct vmr_qmp *q);

/*
 * Send command with args (borrowed, may be NULL) and wait up to
 * timeout_ms (< 0: no limit) for its reply, dispatching events meanwhile.
 * On success *ret_return (if not NULL) gets a new reference to the
 * "return" value.  QEMU errors read "qmp 'cont': GenericError: DESC".
 * A late reply after a timeout is dropped as an unknown id.
 */
int vmr_qmp_execute(struct vmr_qmp *q, const char *command, json_t *args, int timeout_ms,
		    json_t **ret_return, struct vmr_error **err);

/*
 * vmr_qmp_execute() with fd sent along as SCM_RIGHTS ancillary data on
 * the first byte of the command (QMP's way to pass an fd: `getfd`,
 * `add-fd`; qmp-spec.rst).  fd is borrowed: a duplicate is kept until the
 * command is sent, so the caller may close fd on return.  Needs a unix
 * socket; a negative fd fails with -EBADF.
 */
int vmr_qmp_execute_fd(struct vmr_qmp *q, const char *command, json_t *args, int fd, int timeout_ms,
		       json_t **ret_return, struct vmr_error **err);

/*
 * QEMU's error class of the last vmr_qmp_execute() that failed with
 * -EREMOTEIO, or NULL.  Valid until the next vmr_qmp_execute().
 */
const char *vmr_qmp_error_class(const struct vmr_qmp *q);

/*
 * Queue command with args (borrowed, may be NULL) and return at once; fn
 * (may be NULL) is called exactly once as described at vmr_qmp_reply_fn.
 * timeout_ms < 0 means no deadline; deadlines are checked by
 * vmr_qmp_process() (see vmr_qmp_timeout()).  *ret_id (may be NULL) gets
 * the id.  Fails (without calling fn) only when the client is closed.
 */
int vmr_qmp_send(struct vmr_qmp *q, const char *command, json_t *args, int timeout_ms,
		 vmr_qmp_reply_fn fn, void *userdata, uint64_t *ret_id, struct vmr_error **err);

/*
 * vmr_qmp_send() with fd passed along (as vmr_qmp_execute_fd()).  Several
 * commands with fds may be queued: each fd travels with its own command.
 * When the connection closes before it is sent, the duplicate is closed.
 */
int vmr_qmp_send_fd(struct vmr_qmp *q, const char *command, json_t *args, int fd, int timeout_ms,
		    vmr_qmp_reply_fn fn, void *userdata, uint64_t *ret_id, struct vmr_error **err);

/* The socket to poll, or -1 once closed (poll() ignores negative fds). */
int vmr_qmp_fd(const struct vmr_qmp *q);

/* The poll() events to ask for: POLLIN, plus POLLOUT while output is queued. */
short vmr_qmp_poll_events(const struct vmr_qmp *q);

/*
 * Milliseconds until the earliest pending deadline (0 if one has passed),
 * or -1 when none: a poll() timeout for loop owners.
 */
int vmr_qmp_timeout(const struct vmr_qmp *q);

/*
 * Do whatever can be done now without blocking: flush queued output, read
 * what is readable (a bounded amount per call, to stay fair in a poll
 * loop), dispatch events and completions, fail commands whose deadline
 * passed.  Returns 0 while the connection is open; -EPIPE with err set
 * ("qmp 'NAME': QMP connection closed") when it closed now or earlier.
 */
int vmr_qmp_process(struct vmr_qmp *q, struct vmr_error **err);

/*
 * Process bytes as if read from the socket (tests and fuzzing).  Returns
 * 0 or -EPIPE once closed; n == 0 means EOF.
 */
int vmr_qmp_feed(struct vmr_qmp *q, const void *data, size_t n);

/* Whether the client is closed (EOF, reset or fatal protocol error). */
bool vmr_qmp_closed(const struct vmr_qmp *q);

/* Commands sent and not yet completed. */
size_t vmr_qmp_pending_count(const struct vmr_qmp *q);

/* Bytes held for an unfinished incoming message (never above the cap). */
size_t vmr_qmp_buffered(const struct vmr_qmp *q);

/*
 * Close the fd, complete every pending command with "QMP connection
 * closed" and free everything.  NULL is fine.
 */
void vmr_qmp_free(struct vmr_qmp *q);

static inline void vmr_qmp_freep(struct vmr_qmp **q)
{
	vmr_qmp_free(*q);
}
#define _cleanup_qmp_ __attribute__((cleanup(vmr_qmp_freep)))

#endif
