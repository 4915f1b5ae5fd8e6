/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_EXPORTER_H
#define VMR_EXPORTER_H

/*
 * `vmrun exporter` (docs/verbs.md): an HTTP server (libmicrohttpd, one
 * internal thread) that answers GET /metrics with every guest of the state
 * directory in the Prometheus text format (lib/runtime/metrics.h),
 * collected at each scrape.  Runs until SIGTERM, SIGINT or SIGHUP.
 */

#include <sys/socket.h>

#include "lib/base/error.h"
#include "lib/runtime/supervisor.h"

#define VMR_EXPORTER_DEFAULT_PORT 9177
#define VMR_EXPORTER_GUEST_TIMEOUT_MS 2000

struct vmr_exporter_opts {
	const char *state_dir;
	const char *listen; /* ADDR:PORT, [V6]:PORT or :PORT (every address); port 0: any */
	vmr_log_fn log;	    /* the address it listens on, errors of the HTTP server */
	void *log_userdata;
};

/*
 * Parse o->listen (pure): usage error naming the value when it is not
 * ADDR:PORT.
 */
int vmr_exporter_parse_listen(const char *listen, struct sockaddr_storage *ret, socklen_t *ret_len,
			      struct vmr_error **err);

/* Serve until a signal ends it; 0 then, negative with *err when it cannot listen. */
int vmr_exporter_run(const struct vmr_exporter_opts *o, struct vmr_error **err);

#endif
