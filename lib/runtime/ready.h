/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_READY_H
#define VMR_READY_H

/*
 * The pure parts of readiness (`ready_when:`, docs/topology.md) and of the
 * guest agent's protocol, for the supervisor (supervisor_ready.c) and the
 * unit tests: no fds, no clock.
 */

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/buf.h"
#include "lib/base/error.h"

#define VMR_READY_LINE_MAX 4096 /* a console line longer than this is cut */

/*
 * Console lines assembled from the serial byte stream and matched against
 * a POSIX extended regular expression (regcomp REG_EXTENDED|REG_NOSUB).
 * Terminal escape sequences and control characters are removed first, a
 * line ends at '\n' ('\r' is dropped), and the line still being written is
 * matched too: a prompt ("login: ") has no newline until someone types.
 */
struct vmr_ready_lines {
	regex_t re;
	bool have_re;
	struct vmr_buf line; /* the line being assembled, cleaned */
	int esc;	     /* inside an escape sequence: 1 after ESC, 2 in CSI */
	char *last;	     /* the last non-empty line seen (complete or not) */
	bool matched;
};

/* Compile regex (NULL: lines are only collected).  Usage error on a bad one. */
int vmr_ready_lines_init(struct vmr_ready_lines *l, const char *regex, struct vmr_error **err);
/* Feed console bytes; returns true the first time a line matches. */
bool vmr_ready_lines_feed(struct vmr_ready_lines *l, const char *data, size_t n);
/* Forget the match and the line in progress (the guest rebooted). */
void vmr_ready_lines_rearm(struct vmr_ready_lines *l);
void vmr_ready_lines_free(struct vmr_ready_lines *l);

/*
 * The guest agent (qemu-ga) protocol: one JSON object per request, the
 * reply echoing its "id".  vmr_agent_request() makes the line (with '\n');
 * vmr_agent_reply_parse() reads one reply line: 1 with *ret_id (0 when the
 * reply has no numeric id) and a new reference to "return" or, for an
 * error, *ret_error = "CLASS: DESC" (caller frees); 0 for a line that is
 * not a reply (noise, a delimiter byte); never fails otherwise.
 */
char *vmr_agent_request(const char *command, json_t *args, uint64_t id);
int vmr_agent_reply_parse(const char *line, size_t len, uint64_t *ret_id, json_t **ret_return,
			  char **ret_error);

#endif
