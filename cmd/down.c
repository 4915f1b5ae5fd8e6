/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun down TOPOLOGY [GUEST...] [--timeout S]: stop the guests of a
 * topology gracefully and wait until their supervisors have undone their
 * host changes.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/runtime/control.h"
#include "lib/runtime/reclaim.h"
#include "lib/base/util.h"

static void down_usage(FILE *f)
{
	fputs("usage: vmrun down TOPOLOGY [GUEST...] [--timeout S]\n\n"
	      "Stop the running guests of TOPOLOGY (or only GUEST...): each supervisor\n"
	      "presses the ACPI power button, waits up to S seconds (default: the guest's\n"
	      "stop_timeout) for the guest to power off, then quits QEMU (SIGKILL if it\n"
	      "does not quit) and undoes its host changes.  Waits for all of that: S +\n"
	      "2 s + 30 s for the teardown at most.  For a guest that is not running,\n"
	      "what a killed supervisor left (its journal, its marked links) is undone.\n\n"
	      "  -t, --timeout S   seconds to wait for each guest to power off\n"
	      "  -h, --help        show this help\n\n"
	      "exit status: 0 every guest stopped, 1 a guest did not stop or a request\n"
	      "failed, 2 bad usage or invalid topology\n",
	      f);
}

VERB(down)
{
	static const struct option opts[] = {
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct vmr_config cfg = {0};
	struct vmr_topology *t = NULL;
	struct vmr_error *err = NULL;
	_cleanup_free_ const struct vmr_guest **sel = NULL;
	_cleanup_free_ bool *asked = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	long long timeout_s = -1;
	unsigned long long v;
	size_t n = 0;
	int c, r, status = VMR_EXIT_OK;

	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (vmr_cli_timeout("down", optarg, 0, 86400, &v))
				return VMR_EXIT_USAGE;
			timeout_s = (long long)v;
			break;
		case 'h':
			down_usage(stdout);
			return VMR_EXIT_OK;
		default:
			down_usage(stderr);
			return VMR_EXIT_USAGE;
		}
	}
	if (argc - optind < 1) {
		fprintf(stderr, "vmrun: error: down needs a topology file\n");
		down_usage(stderr);
		return VMR_EXIT_USAGE;
	}
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	r = vmr_cli_topology(argv[optind], &t);
	if (r)
		goto out_cfg;
	sel = xcalloc(t->nguests + (size_t)argc, sizeof(*sel));
	if (argc - optind > 1) {
		for (int i = optind + 1; i < argc; i++) {
			const struct vmr_guest *g = vmr_topology_guest(t, argv[i]);

			if (!g) {
				vmr_error_usage(&err, "guest '%s' not found in '%s'", argv[i],
						argv[optind]);
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
		r = vmr_guest_stop(cfg.state_dir, sel[i]->name, (int)timeout_s, false, &pids[i],
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
			} else if (argc - optind > 1) {
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
								  (int)timeout_s,
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
