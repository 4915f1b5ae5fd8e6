/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun host up|down TOPOLOGY [HOST]: the host-level setup guests need
 * before they start and its undo (lib/runtime/hostsup.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "lib/base/util.h"
#include "lib/runtime/hostsup.h"

static void usage(FILE *f)
{
	fputs("usage: vmrun host up [--foreground] TOPOLOGY [HOST]\n"
	      "       vmrun host down TOPOLOGY [HOST]\n\n"
	      "Set up (or undo) what the guests placed on HOST need from the host:\n"
	      "the 'vmctrl' interface of the topology's ctrlif (on the primary host)\n"
	      "and the SR-IOV VFs of their 'vf' NICs (sriov_numvfs, VF MAC, VLAN,\n"
	      "trust and spoofchk, bound to vfio-pci).  HOST defaults to the primary\n"
	      "host (or this machine when the topology names no hosts).\n\n"
	      "  -H, --host NAME    the host (same as the HOST argument)\n"
	      "  -f, --foreground   after setting up, wait for SIGTERM/SIGINT, then undo\n"
	      "  -h, --help         show this help\n\n"
	      "Changes are journaled in STATE/host-NAME/journal.jsonl; `down` restores\n"
	      "the host from it.\n\n"
	      "exit status: 0 done, 1 runtime failure (the host is restored as far as\n"
	      "possible), 2 bad usage or invalid topology (nothing changed)\n",
	      f);
}

int cmd_host(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"host", required_argument, NULL, 'H'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct vmr_config cfg = {0};
	struct vmr_topology *t = NULL;
	struct vmr_hostsup h = {.lock_fd = -1};
	struct vmr_error *err = NULL;
	const char *host = NULL, *action, *file;
	bool foreground = false, up;
	int c, status;

	/* GNU getopt permutes: options may come anywhere */
	while ((c = getopt_long(argc, argv, "H:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			host = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'h':
			usage(stdout);
			return VMR_EXIT_OK;
		default:
			usage(stderr);
			return VMR_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return VMR_EXIT_USAGE;
	}
	action = argv[optind++];
	if (!streq(action, "up") && !streq(action, "down")) {
		fprintf(stderr, "vmrun: error: host: unknown action '%s' (up or down)\n", action);
		return VMR_EXIT_USAGE;
	}
	up = streq(action, "up");
	if (optind >= argc || argc - optind > 2 || (host && argc - optind > 1) ||
	    (foreground && !up)) {
		usage(stderr);
		return VMR_EXIT_USAGE;
	}
	file = argv[optind];
	if (foreground)
		vmr_hostsup_block_signals();
	if (argc - optind == 2)
		host = argv[optind + 1];

	status = vmr_cli_config(&cfg);
	if (status)
		return status;
	status = vmr_cli_topology(file, &t);
	if (status)
		goto out;
	if (host && !vmr_topology_host(t, host)) {
		vmr_error_usage(&err, "host '%s' is not in the topology '%s'", host, file);
		status = vmr_cli_fail(TAKE_PTR(err));
		goto out;
	}
	/* opening undoes what a previous `up` (maybe killed) left */
	if (vmr_hostsup_open(&cfg, host, &h, &err) < 0) {
		status = vmr_cli_fail(TAKE_PTR(err));
		goto out;
	}
	if (!up) {
		printf("host '%s': undone\n", h.name);
		goto out;
	}
	if (vmr_hostsup_up(&h, t, &err) < 0) {
		status = vmr_cli_fail(TAKE_PTR(err));
		goto out;
	}
	printf("host '%s': set up (%zu change%s journaled in '%s/journal.jsonl')\n", h.name,
	       vmr_journal_count(h.journal), vmr_journal_count(h.journal) == 1 ? "" : "s", h.dir);
	fflush(stdout);
	if (foreground) {
		int sig = vmr_hostsup_wait_signal();

		printf("host '%s': %s, undoing the setup\n", h.name, strsignal(sig));
		if (vmr_hostsup_undo(&h, &err) < 0)
			status = vmr_cli_fail(TAKE_PTR(err));
	}
out:
	vmr_hostsup_close(&h);
	vmr_topology_free(t);
	vmr_config_free(&cfg);
	return status;
}
