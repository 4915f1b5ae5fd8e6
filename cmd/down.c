/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun down TOPOLOGY [GUEST...] [--timeout S]: stop the guests of a
 * topology gracefully and wait until their supervisors have undone their
 * host changes.
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/runtime/control.h"
#include "lib/runtime/reclaim.h"
#include "lib/base/util.h"

struct down_opts {
	long long timeout;
};

static const struct vmr_cli_opt down_options[] = {
    {"timeout", 't', "S", "seconds to wait for each guest to power off",
     VMR_CLI_SECONDS(struct down_opts, timeout, 0, 86400)},
    {0},
};

const struct vmr_cli_cmd cmd_down_cli = {
    .name = "down",
    .summary = "stop the guests of a topology gracefully and wait",
    .synopsis = "TOPOLOGY [GUEST...] [--timeout S]",
    .description = "Stop the running guests of TOPOLOGY (or only GUEST...): each supervisor\n"
		   "presses the ACPI power button, waits up to S seconds (default: the guest's\n"
		   "stop_timeout) for the guest to power off, then quits QEMU (SIGKILL if it\n"
		   "does not quit) and undoes its host changes.  Waits for all of that: S +\n"
		   "2 s + 30 s for the teardown at most.  For a guest that is not running,\n"
		   "what a killed supervisor left (its journal, its marked links) is undone.",
    .opts = down_options,
    .arg_names = "TOPOLOGY [GUEST...]",
    .min_args = 1,
    .max_args = VMR_CLI_ANY,
    .exit_status = "0 every guest stopped, 1 a guest did not stop or a request\n"
		   "failed, 2 bad usage or invalid topology",
    .run = cmd_down,
};

VERB(down)
{
	struct down_opts o = {.timeout = -1};
	struct vmr_config cfg = {0};
	struct vmr_topology *t = NULL;
	struct vmr_error *err = NULL;
	_cleanup_free_ const struct vmr_guest **sel = NULL;
	_cleanup_free_ bool *asked = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	struct vmr_cli_args a;
	size_t n = 0;
	int r, status = VMR_EXIT_OK;

	r = vmr_cli_parse(&cmd_down_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	r = vmr_cli_topology(a.v[0], &t);
	if (r)
		goto out_cfg;
	sel = xcalloc(t->nguests + (size_t)a.n, sizeof(*sel));
	if (a.n > 1) {
		for (int i = 1; i < a.n; i++) {
			const struct vmr_guest *g = vmr_topology_guest(t, a.v[i]);

			if (!g) {
				vmr_error_usage(&err, "guest '%s' not found in '%s'", a.v[i],
						a.v[0]);
				r = vmr_cli_fail(err);
				goto out;
			}
			sel[n++] = g;
		}
	} else {
		/* placement does not matter here: only running guests are stopped */
		for (size_t i = 0; i < t->nguests; i++)
			sel[n++] = &t->guests[i];
	}

	/* ask all first, then wait: the guests power off in parallel */
	asked = xcalloc(n + 1, sizeof(*asked));
	pids = xcalloc(n + 1, sizeof(*pids));
	for (size_t i = 0; i < n; i++) {
		r = vmr_guest_stop(cfg.state_dir, sel[i]->name, (int)o.timeout, false, &pids[i],
				   &err);
		if (r < 0) {
			vmr_error_print(err, stderr);
			vmr_error_clear(&err);
			status = VMR_EXIT_FAILURE;
		} else if (r == 0) {
			size_t undone = 0;

			/* a killed supervisor's leftovers: `down` leaves nothing behind */
			if (vmr_reclaim_guest(&cfg, sel[i], &undone, &err) < 0) {
				vmr_error_print(err, stderr);
				vmr_error_clear(&err);
				status = VMR_EXIT_FAILURE;
			} else if (undone > 0) {
				printf("guest '%s' was not running: undid %zu host change%s its "
				       "supervisor left\n",
				       sel[i]->name, undone, undone == 1 ? "" : "s");
			} else if (a.n > 1) {
				printf("guest '%s' is not running\n", sel[i]->name);
			}
		}
		asked[i] = r > 0;
	}
	for (size_t i = 0; i < n; i++) {
		int es;

		if (!asked[i])
			continue;
		/* the supervisor's own stop_timeout: the topology may have changed since */
		r = vmr_guest_wait_stopped(cfg.state_dir, sel[i]->name, pids[i],
					   vmr_guest_stop_wait_ms(cfg.state_dir, sel[i]->name,
								  (int)o.timeout,
								  sel[i]->stop_timeout),
					   &es, &err);
		if (r < 0) {
			vmr_error_print(err, stderr);
			vmr_error_clear(&err);
			status = VMR_EXIT_FAILURE;
			continue;
		}
		vmr_cli_print_stopped(sel[i]->name, es);
	}
	r = status;
out:
	vmr_topology_free(t);
out_cfg:
	vmr_config_free(&cfg);
	return r;
}
