/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun exporter [--listen ADDR:PORT]: every guest's metrics for Prometheus on /metrics. */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/util.h"
#include "lib/runtime/exporter.h"

struct exporter_opts {
	const char *listen;
};

static const struct vmr_cli_opt exporter_options[] = {
    {"listen", 'l', "ADDR:PORT",
     "where to listen (default 127.0.0.1:9177; :PORT\nfor every IPv4 address, "
     "[IPV6]:PORT, port 0\nfor any free one)",
     VMR_CLI_STRING(struct exporter_opts, listen)},
    {0},
};

const struct vmr_cli_cmd cmd_exporter_cli = {
    .name = "exporter",
    .summary = "serve every guest's metrics to Prometheus (HTTP /metrics)",
    .synopsis = "[--listen ADDR:PORT]",
    .description = "Serve the metrics of every guest of the state directory on\n"
		   "http://ADDR:PORT/metrics in the Prometheus text format, collected at each\n"
		   "scrape (the same figures as `vmrun stats`, names starting with vmrun_;\n"
		   "docs/verbs.md lists them).  Runs in the foreground until SIGTERM or SIGINT.",
    .opts = exporter_options,
    .max_args = 0,
    .exit_status = "0 stopped by a signal, 1 cannot listen, 2 bad usage",
    .run = cmd_exporter,
};

static void exporter_log(enum vmr_log_level level, const char *msg, void *userdata)
{
	fprintf(stderr, "vmrun: %s%s\n", level == VMR_LOG_WARNING ? "warning: " : "", msg);
}

VERB(exporter)
{
	struct exporter_opts o = {0};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	struct vmr_cli_args a;
	_cleanup_free_ char *dflt = xasprintf("127.0.0.1:%d", VMR_EXPORTER_DEFAULT_PORT);
	struct vmr_exporter_opts eo = {.log = exporter_log};
	int r;

	r = vmr_cli_parse(&cmd_exporter_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	eo.state_dir = cfg.state_dir;
	eo.listen = o.listen ? o.listen : dflt;
	r = vmr_exporter_run(&eo, &err) < 0 ? vmr_cli_fail(err) : VMR_EXIT_OK;
	vmr_config_free(&cfg);
	return r;
}
