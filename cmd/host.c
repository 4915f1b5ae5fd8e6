/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun host up|down TOPOLOGY [HOST]: the host-level setup guests need
 * before they start and its undo (lib/runtime/hostsup.h).
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "lib/base/util.h"
#include "lib/runtime/hostsup.h"

struct host_opts {
	const char *host;
	bool foreground;
};

static int host_up(int argc, char **argv);
static int host_down(int argc, char **argv);

#define HOST_OPT VMR_CLI_OPT_HOST("the host (same as the HOST argument)", struct host_opts, host)

static const struct vmr_cli_opt host_up_options[] = {
    HOST_OPT,
    {"foreground", 'f', NULL, "after setting up, wait for SIGTERM/SIGINT, then undo",
     VMR_CLI_FLAG(struct host_opts, foreground)},
    {0},
};

static const struct vmr_cli_opt host_down_options[] = {
    HOST_OPT,
    {0},
};

#define HOST_WHAT                                                                                  \
	"Set up (or undo) what the guests placed on HOST need from the host:\n"                    \
	"the 'vmctrl' interface of the topology's ctrlif (on the primary host)\n"                  \
	"and the SR-IOV VFs of their 'vf' NICs (sriov_numvfs, VF MAC, VLAN,\n"                     \
	"trust and spoofchk, bound to vfio-pci).  HOST defaults to the primary\n"                  \
	"host (or this machine when the topology names no hosts)."
#define HOST_JOURNAL                                                                               \
	"Changes are journaled in STATE/host-NAME/journal.jsonl; `down` restores\n"                \
	"the host from it."
#define HOST_EXIT                                                                                  \
	"0 done, 1 runtime failure (the host is restored as far as\n"                              \
	"possible), 2 bad usage or invalid topology (nothing changed)"

/* up and down: the same text, arguments and exit status */
#define HOST_SUB(verb, summary_, synopsis_, opts_, run_)                                           \
	{                                                                                          \
		.name = "host " verb, .summary = summary_, .synopsis = synopsis_,                  \
		.description = HOST_WHAT, .opts = opts_, .arg_names = "TOPOLOGY [HOST]",           \
		.min_args = 1, .max_args = 2, .footer = HOST_JOURNAL, .exit_status = HOST_EXIT,    \
		.run = run_,                                                                       \
	}

static const struct vmr_cli_cmd host_up_cli =
    HOST_SUB("up", "set up HOST for its guests (and undo that at a signal with --foreground)",
	     "[--foreground] TOPOLOGY [HOST]", host_up_options, host_up);
static const struct vmr_cli_cmd host_down_cli =
    HOST_SUB("down", "undo what `host up` set up on HOST, also after it was killed",
	     "TOPOLOGY [HOST]", host_down_options, host_down);

static const struct vmr_cli_cmd *const host_subs[] = {&host_up_cli, &host_down_cli, NULL};

const struct vmr_cli_cmd cmd_host_cli = {
    .name = "host",
    .summary = "set up (or undo) the host for its guests: vmctrl, SR-IOV VFs",
    .description = HOST_WHAT,
    .arg_names = "COMMAND [ARGS...]",
    .min_args = 1,
    .max_args = VMR_CLI_ANY,
    .footer = HOST_JOURNAL,
    .exit_status = HOST_EXIT,
    .subs = host_subs,
};

/* host up and host down: up sets up (then, with --foreground, undoes at a signal) */
static int host_run(const struct vmr_cli_cmd *cmd, bool up, int argc, char **argv)
{
	struct host_opts o = {0};
	struct vmr_config cfg = {0};
	struct vmr_topology *t = NULL;
	struct vmr_hostsup h = {.lock_fd = -1};
	struct vmr_error *err = NULL;
	struct vmr_cli_args a;
	const char *host, *file;
	int status;

	status = vmr_cli_parse(cmd, argc, argv, &o, &a);
	if (status != VMR_CLI_RUN)
		return status;
	if (vmr_cli_host(cmd, o.host, a.n > 1 ? a.v[1] : NULL, &host))
		return VMR_EXIT_USAGE;
	file = a.v[0];
	if (o.foreground)
		vmr_hostsup_block_signals();

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
	if (o.foreground) {
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

static int host_up(int argc, char **argv)
{
	return host_run(&host_up_cli, true, argc, argv);
}

static int host_down(int argc, char **argv)
{
	return host_run(&host_down_cli, false, argc, argv);
}
