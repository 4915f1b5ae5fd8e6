/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the control protocol: one request line as any
 * client of STATE/GUEST/control.sock may send it (vmr_ctl_parse()).
 *
 * Invariants (a violation traps): exactly one of a request or an error
 * text; an error text is one of the protocol's; a QMP or agent request
 * has a command and arguments that are an object or absent; a stop's or
 * reboot's timeout is -1 or 0..86400; the requests without a value carry
 * none.  Every kind of request is reached (the replay in `make check` runs
 * the seed corpus through it, tests/fuzz/replay.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runtime/control.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmr_ctl_request req;
	char *why = NULL;

	if (vmr_ctl_parse((const char *)data, size, &req, &why) < 0) {
		CHECK(why && (strncmp(why, "invalid request: ", 17) == 0 ||
			      strncmp(why, "unknown request '", 17) == 0));
		free(why);
		return 0;
	}
	CHECK(!why);
	CHECK(req.doc);
	switch (req.kind) {
	case VMR_CTL_QMP:
	case VMR_CTL_AGENT:
		CHECK(req.execute && (!req.arguments || json_is_object(req.arguments)));
		break;
	case VMR_CTL_STOP:
	case VMR_CTL_REBOOT:
		CHECK(req.timeout >= -1 && req.timeout <= 86400);
		break;
	case VMR_CTL_HEALTH:
		break;
	case VMR_CTL_STATUS:
	case VMR_CTL_PING:
	case VMR_CTL_KILL:
	case VMR_CTL_STATS:
		CHECK(!req.wait && req.timeout == -1 && !req.execute);
		break;
	default:
		CHECK(0);
	}
	vmr_ctl_request_free(&req);
	return 0;
}
