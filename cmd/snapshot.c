/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun snapshot create|list|revert|delete GUEST [NAME]: internal qcow2
 * snapshots of a guest's disks, with its memory while it runs
 * (lib/runtime/snapshot.h, docs/verbs.md).
 */
#include <stdio.h>
#include <time.h>

#include "cmd/cmd.h"
#include "lib/base/util.h"
#include "lib/runtime/snapshot.h"

struct snap_opts {
	const char *topology;
	bool json;
};

#define SNAP_TOPOLOGY_OPT                                                                          \
	{                                                                                          \
		"topology", 'f', "FILE",                                                           \
		    "take a stopped guest's disks from FILE (default: what\nits last run "         \
		    "recorded)",                                                                   \
		    VMR_CLI_STRING(struct snap_opts, topology)                                     \
	}

static const struct vmr_cli_opt snap_options[] = {SNAP_TOPOLOGY_OPT, {0}};
static const struct vmr_cli_opt list_options[] = {
    SNAP_TOPOLOGY_OPT,
    {"json", 'j', NULL, "a JSON array", VMR_CLI_FLAG(struct snap_opts, json)},
    {0},
};

#define SNAP_EXIT                                                                                  \
	"0 done, 1 failure, 2 bad usage or a guest that cannot have\n"                             \
	"snapshots (a raw or shared disk, a vfio device while it runs)"

static int snap_create(int argc, char **argv);
static int snap_list(int argc, char **argv);
static int snap_revert(int argc, char **argv);
static int snap_delete(int argc, char **argv);

static const struct vmr_cli_cmd snap_create_cli = {
    .name = "snapshot create",
    .summary = "take a snapshot (memory too while the guest runs)",
    .synopsis = "GUEST NAME [--topology FILE]",
    .description = "Take snapshot NAME of every writable disk of GUEST (qcow2 internal\n"
		   "snapshots).  While the guest runs, its memory and device state too (QMP\n"
		   "snapshot-save; the guest pauses meanwhile); while it is stopped, the disks\n"
		   "only (qemu-img snapshot).",
    .opts = snap_options,
    .arg_names = "GUEST NAME",
    .min_args = 2,
    .max_args = 2,
    .exit_status = SNAP_EXIT,
    .run = snap_create,
};

static const struct vmr_cli_cmd snap_list_cli = {
    .name = "snapshot list",
    .summary = "list a guest's snapshots",
    .synopsis = "GUEST [--json] [--topology FILE]",
    .description = "List the snapshots of GUEST: name, date, the size of its memory state\n"
		   "(none for a snapshot taken while the guest was stopped) and its disks.",
    .opts = list_options,
    .arg_names = "GUEST",
    .min_args = 1,
    .max_args = 1,
    .exit_status = SNAP_EXIT,
    .run = snap_list,
};

static const struct vmr_cli_cmd snap_revert_cli = {
    .name = "snapshot revert",
    .summary = "go back to a snapshot (a running guest: its running state)",
    .synopsis = "GUEST NAME [--topology FILE]",
    .description = "Revert GUEST to snapshot NAME.  A running guest gets the snapshot's memory\n"
		   "and disks back and runs on from there (QMP snapshot-load); it needs a\n"
		   "snapshot taken while it ran.  A stopped guest's disks go back (qemu-img\n"
		   "snapshot -a).",
    .opts = snap_options,
    .arg_names = "GUEST NAME",
    .min_args = 2,
    .max_args = 2,
    .exit_status = SNAP_EXIT,
    .run = snap_revert,
};

static const struct vmr_cli_cmd snap_delete_cli = {
    .name = "snapshot delete",
    .summary = "delete a snapshot",
    .synopsis = "GUEST NAME [--topology FILE]",
    .description = "Delete snapshot NAME of GUEST from every disk that has it.",
    .opts = snap_options,
    .arg_names = "GUEST NAME",
    .min_args = 2,
    .max_args = 2,
    .exit_status = SNAP_EXIT,
    .run = snap_delete,
};

static int snap_run(const struct vmr_cli_cmd *cli, int argc, char **argv, enum vmr_snapshot_op op)
{
	struct snap_opts o = {0};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	struct vmr_cli_args a;
	const char *how = NULL;
	json_t *list = NULL;
	int r;

	r = vmr_cli_parse(cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	r = vmr_snapshot_do(&cfg, a.v[0], o.topology, op, a.n > 1 ? a.v[1] : NULL, &list, &how,
			    &err);
	if (r < 0) {
		r = vmr_cli_fail(err);
		goto out;
	}
	switch (op) {
	case VMR_SNAPSHOT_CREATE:
		printf("guest '%s': snapshot '%s' taken (%s)\n", a.v[0], a.v[1],
		       streq(how, "running") ? "memory and disks" : "disks only: it is stopped");
		break;
	case VMR_SNAPSHOT_REVERT:
		printf("guest '%s': reverted to snapshot '%s' (%s)\n", a.v[0], a.v[1],
		       streq(how, "running") ? "memory and disks: it runs on from there" : "disks");
		break;
	case VMR_SNAPSHOT_DELETE:
		printf("guest '%s': snapshot '%s' deleted\n", a.v[0], a.v[1]);
		break;
	case VMR_SNAPSHOT_LIST:
		if (o.json) {
			char *text = json_dumps(list, JSON_INDENT(2) | JSON_SORT_KEYS);

			printf("%s\n", text ? text : "[]");
			free(text);
		} else {
			size_t k;
			json_t *e;

			printf("%-24s  %-19s  %-12s  %s\n", "NAME", "DATE", "VM-STATE", "DISKS");
			json_array_foreach(list, k, e)
			{
				time_t t = (time_t)json_integer_value(json_object_get(e, "date"));
				json_int_t vm =
				    json_integer_value(json_object_get(e, "vm_state_size"));
				char date[32] = "-", vms[32] = "-";
				struct tm tm;
				size_t m;
				json_t *d;

				if (localtime_r(&t, &tm))
					strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
				if (vm > 0)
					snprintf(vms, sizeof(vms), "%lld", (long long)vm);
				printf("%-24s  %-19s  %-12s  ",
				       json_string_value(json_object_get(e, "name")), date, vms);
				json_array_foreach(json_object_get(e, "disks"), m, d)
				    printf("%s%s", m ? "," : "", json_string_value(d));
				printf("\n");
			}
		}
		break;
	}
	r = VMR_EXIT_OK;
out:
	json_decref(list);
	vmr_config_free(&cfg);
	return r;
}

static int snap_create(int argc, char **argv)
{
	return snap_run(&snap_create_cli, argc, argv, VMR_SNAPSHOT_CREATE);
}

static int snap_list(int argc, char **argv)
{
	return snap_run(&snap_list_cli, argc, argv, VMR_SNAPSHOT_LIST);
}

static int snap_revert(int argc, char **argv)
{
	return snap_run(&snap_revert_cli, argc, argv, VMR_SNAPSHOT_REVERT);
}

static int snap_delete(int argc, char **argv)
{
	return snap_run(&snap_delete_cli, argc, argv, VMR_SNAPSHOT_DELETE);
}

static const struct vmr_cli_cmd *const snap_subs[] = {&snap_create_cli, &snap_list_cli,
						      &snap_revert_cli, &snap_delete_cli, NULL};

const struct vmr_cli_cmd cmd_snapshot_cli = {
    .name = "snapshot",
    .summary = "snapshots of a guest: create, list, revert, delete",
    .description = "Internal qcow2 snapshots of a guest's writable disks, with its memory and\n"
		   "device state while it runs (docs/verbs.md).",
    .arg_names = "COMMAND [ARGS...]",
    .min_args = 1,
    .max_args = VMR_CLI_ANY,
    .exit_status = SNAP_EXIT,
    .subs = snap_subs,
};
