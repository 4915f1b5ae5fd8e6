/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the QMP client: whatever QEMU (or something
 * pretending to be it) sends.
 *
 * Byte 0: bits 0-6 + 1 = the chunk size the rest is fed in (exercises
 * partial reads); bit 7 lowers the message cap to 256 bytes so overflows
 * are reachable with small inputs.  The client always has one command
 * pending (a new one is sent when it completes, ids 1, 2, ...).
 *
 * Invariants (a violation traps):
 * - no event or diagnostic handler call once the client is closed;
 * - every command completes exactly once, and all have after EOF;
 * - the pending table is empty once closed;
 * - the unfinished-message buffer never exceeds the cap.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qmp/qmp.h"

#define MAX_COMMANDS 64

struct fuzz_state {
	struct vmr_qmp *q;
	unsigned sent, completed;
};

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static void fuzz_send(struct fuzz_state *st);

static void on_reply(json_t *ret, int r, const char *error_class, struct vmr_error *err,
		     void *userdata)
{
	struct fuzz_state *st = userdata;

	CHECK((r == 0) == (ret != NULL));
	CHECK((r == 0) == (err == NULL));
	CHECK(!error_class || r == -EREMOTEIO);
	vmr_error_free(err);
	st->completed++;
	CHECK(st->completed <= st->sent);
	fuzz_send(st);
}

static void fuzz_send(struct fuzz_state *st)
{
	uint64_t id = 0;

	if (st->sent >= MAX_COMMANDS || vmr_qmp_closed(st->q))
		return;
	if (vmr_qmp_send(st->q, "query-status", NULL, -1, on_reply, st, &id, NULL) == 0) {
		st->sent++;
		CHECK(id == st->sent);
	}
}

static void on_event(const char *event, json_t *data, json_t *timestamp, void *userdata)
{
	struct fuzz_state *st = userdata;

	CHECK(!vmr_qmp_closed(st->q));
	CHECK(event != NULL);
}

static void on_diag(const char *msg, void *userdata)
{
	struct fuzz_state *st = userdata;

	CHECK(!vmr_qmp_closed(st->q));
	CHECK(msg != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_state st = {0};
	size_t chunk, cap;
	int sv[2];

	if (size < 1)
		return 0;
	chunk = (size_t)(data[0] & 0x7f) + 1;
	cap = (data[0] & 0x80) ? 256 : VMR_QMP_MAX_LINE;
	data++;
	size--;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (vmr_qmp_new(sv[0], &st.q) < 0)
		abort();
	vmr_qmp_set_max_line(st.q, cap);
	vmr_qmp_set_event_handler(st.q, on_event, &st);
	vmr_qmp_set_diag_handler(st.q, on_diag, &st);
	fuzz_send(&st);

	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		int r = vmr_qmp_feed(st.q, data + off, n);

		CHECK(vmr_qmp_buffered(st.q) <= cap);
		if (r < 0) {
			CHECK(vmr_qmp_closed(st.q));
			break;
		}
	}
	/* EOF: everything still pending fails, nothing else is called */
	CHECK(vmr_qmp_feed(st.q, NULL, 0) < 0);
	CHECK(vmr_qmp_closed(st.q));
	CHECK(vmr_qmp_pending_count(st.q) == 0);
	CHECK(vmr_qmp_buffered(st.q) == 0);
	CHECK(vmr_qmp_fd(st.q) == -1);
	CHECK(st.completed == st.sent);
	vmr_qmp_free(st.q);
	CHECK(st.completed == st.sent);
	close(sv[1]);
	return 0;
}
