/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun rm TOPOLOGY GUEST [--dry-run]: a stopped guest's overlays and state removed. */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/util.h"
#include "lib/runtime/remove.h"

struct rm_opts {
	bool dry_run;
};

static const struct vmr_cli_opt rm_options[] = {
    {"dry-run", 'n', NULL, "list what would be removed, remove nothing",
     VMR_CLI_FLAG(struct rm_opts, dry_run)},
    {0},
};

const struct vmr_cli_cmd cmd_rm_cli = {
    .name = "rm",
    .summary = "delete a stopped guest's overlays, seed and state",
    .synopsis = "TOPOLOGY GUEST [--dry-run]",
    .description =
	"Delete what vmrun made for GUEST, which must be stopped: its root overlay\n"
	"(image:), its overlays on a backing:, what its devices keep in\n"
	"IMAGE_DIR/GUEST (UEFI variables, TPM state) and its state directory (seed,\n"
	"logs, status).  Never a base image, a disk named by file: alone (its own data:\n"
	"listed as kept), or a file another guest's disks are built on.  The\n"
	"topology itself is not changed.",
    .opts = rm_options,
    .arg_names = "TOPOLOGY GUEST",
    .min_args = 2,
    .max_args = 2,
    .exit_status = "0 removed (or listed), 1 running, left host changes, used by\n"
		   "another guest or a failure, 2 bad usage or invalid topology",
    .run = cmd_rm,
};

VERB(rm)
{
	struct rm_opts o = {0};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	struct vmr_rm_result res = {0};
	struct vmr_cli_args a;
	int r;

	r = vmr_cli_parse(&cmd_rm_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	if (vmr_guest_remove(&cfg, a.v[0], a.v[1], o.dry_run, &res, &err) < 0) {
		r = vmr_cli_fail(err);
		goto out;
	}
	for (size_t i = 0; i < res.removed.n; i++)
		printf("%s %s\n", o.dry_run ? "would remove" : "removed", res.removed.v[i]);
	for (size_t i = 0; i < res.kept.n; i++)
		printf("kept %s\n", res.kept.v[i]);
	if (res.removed.n == 0)
		printf("guest '%s': nothing to remove\n", a.v[1]);
	r = VMR_EXIT_OK;
out:
	vmr_rm_result_free(&res);
	vmr_config_free(&cfg);
	return r;
}
