/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_QMP_LINE_H
#define VMR_QMP_LINE_H

/*
 * The QMP line assembler: a pure byte-stream splitter with no I/O, so the
 * unit tests and the fuzz target can drive it directly.
 *
 * Bytes go in with vmr_qmp_lines_feed(); every complete line (ending in
 * "\n", a trailing "\r" stripped, empty lines skipped) is handed to a
 * callback at once.  Only the unfinished tail is kept, and never more than
 * `cap` bytes of it: a line longer than cap is an error, the assembler
 * drops what it holds and stays failed.  So the memory it holds is bounded
 * by cap + 1 whatever the peer sends.
 */

#include <stdbool.h>
#include <stddef.h>

/* QMP messages larger than this are a protocol error (as in libvirt and qemu.qmp). */
#define VMR_QMP_MAX_LINE ((size_t)10 * 1024 * 1024)

struct vmr_qmp_lines {
	char *buf; /* the unfinished line, not NUL-terminated */
	size_t len;
	size_t alloc; /* never above cap + 1 */
	size_t cap;
	bool failed; /* a line exceeded cap; every later feed fails */
};

/*
 * Called for each complete line; line is NOT NUL-terminated and is only
 * valid during the call.  Return < 0 to stop feeding (that value is then
 * returned by vmr_qmp_lines_feed()), >= 0 to go on.
 */
typedef int (*vmr_qmp_line_fn)(const char *line, size_t len, void *userdata);

/* Initialise an empty assembler with the given line cap (0 = VMR_QMP_MAX_LINE). */
void vmr_qmp_lines_init(struct vmr_qmp_lines *l, size_t cap);

/*
 * Feed n bytes.  Complete lines go to fn in order.  Returns 0, the
 * callback's negative value if it stopped the feed (the unconsumed rest of
 * data is discarded: the caller is tearing down), or -EMSGSIZE if a line
 * exceeds the cap (the assembler is then failed and empty).
 */
int vmr_qmp_lines_feed(struct vmr_qmp_lines *l, const void *data, size_t n, vmr_qmp_line_fn fn,
		       void *userdata);

/* Bytes held for the unfinished line (always <= cap). */
size_t vmr_qmp_lines_pending(const struct vmr_qmp_lines *l);

/* Release the buffer; the assembler may be initialised again. */
void vmr_qmp_lines_free(struct vmr_qmp_lines *l);

#endif
