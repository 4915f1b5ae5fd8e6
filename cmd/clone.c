/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun clone TOPOLOGY GUEST NEW [-o FILE] [--ip NIC=ADDR/PFX] [--cpuset LIST]
 * [--dry-run]: a new guest like GUEST with disks of its own copied from a
 * snapshot of GUEST's (lib/runtime/clone.h, docs/verbs.md).
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/util.h"
#include "lib/runtime/clone.h"

struct clone_opts {
	const char *output;
	struct vmr_strvec ips;
	const char *cpuset;
	bool dry_run;
};

static const struct vmr_cli_opt clone_options[] = {
    {"output", 'o', "FILE",
     "write the whole topology with NEW added to FILE\n(TOPOLOGY itself, or a file in "
     "its directory);\ndefault: print NEW's entry",
     VMR_CLI_STRING(struct clone_opts, output)},
    {"ip", 0, "NIC=ADDR/PFX", "the clone's address on NIC (NIC=none: without one);\nrepeatable",
     VMR_CLI_LIST(struct clone_opts, ips)},
    {"cpuset", 0, "LIST", "the clone's cpuset (none: without one)",
     VMR_CLI_STRING(struct clone_opts, cpuset)},
    {"dry-run", 'n', NULL, "check and show the entry and the disks, copy nothing",
     VMR_CLI_FLAG(struct clone_opts, dry_run)},
    {0},
};

const struct vmr_cli_cmd cmd_clone_cli = {
    .name = "clone",
    .summary = "a new guest like another, with copies of its disks",
    .synopsis = "TOPOLOGY GUEST NEW [-o FILE] [--ip NIC=ADDR/PFX]\n"
		" [--cpuset LIST] [--dry-run]",
    .description = "Write the entry of guest NEW, like GUEST: MACs GUEST has written out are\n"
		   "derived again from NEW's name, its hostname (so its seed and instance-id)\n"
		   "is NEW's, and each writable qcow2 disk (the root overlay too) is a copy of\n"
		   "GUEST's taken through a snapshot (with memory while GUEST runs), an overlay\n"
		   "on the same base when the disk has one.  The topology with NEW must be\n"
		   "valid and no other NIC may have NEW's addresses (give --ip); nothing is\n"
		   "copied otherwise.  Start the clone with `vmrun up FILE NEW`.",
    .opts = clone_options,
    .arg_names = "TOPOLOGY GUEST NEW",
    .min_args = 3,
    .max_args = 3,
    .exit_status = "0 cloned, 1 failure (nothing of the clone is left), 2 bad usage or\n"
		   "a clone the topology refuses (an address clash, a raw disk...)",
    .run = cmd_clone,
};

VERB(clone)
{
	struct clone_opts o = {.ips = VMR_STRVEC_INIT};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	struct vmr_clone_result res = {0};
	struct vmr_clone_opts co;
	struct vmr_cli_args a;
	int r;

	r = vmr_cli_parse(&cmd_clone_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	r = vmr_cli_config(&cfg);
	if (r)
		goto out_opts;
	co = (struct vmr_clone_opts){
	    .cfg = &cfg,
	    .topo_path = a.v[0],
	    .source = a.v[1],
	    .name = a.v[2],
	    .ips = &o.ips,
	    .cpuset = o.cpuset,
	    .out_path = o.output,
	    .dry_run = o.dry_run,
	};
	if (vmr_clone(&co, &res, &err) < 0) {
		r = vmr_cli_fail(err);
		goto out;
	}
	for (size_t i = 0; i < res.disks.n; i++)
		fprintf(stderr, "vmrun: %s disk %s\n", o.dry_run ? "would copy" : "copied",
			res.disks.v[i]);
	if (res.warning)
		fprintf(stderr, "vmrun: warning: %s\n", res.warning);
	if (o.output && !o.dry_run) {
		r = write_file_atomic(o.output, res.topology, strlen(res.topology), 0644);
		if (r < 0) {
			/* a clone nobody can start: its disks go */
			for (size_t i = 0; i < res.files.n; i++)
				(void)unlink(res.files.v[i]);
			vmr_error_set(&err, -r, "write '%s'", o.output);
			r = vmr_cli_fail(err);
			goto out;
		}
		printf("guest '%s' cloned from '%s' into '%s'\n", a.v[2], a.v[1], o.output);
	} else {
		fputs(res.entry, stdout);
	}
	r = VMR_EXIT_OK;
out:
	vmr_clone_result_free(&res);
	vmr_config_free(&cfg);
out_opts:
	vmr_strvec_clear(&o.ips);
	return r;
}
