/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun disk grow GUEST DISK SIZE [--topology FILE]: a larger disk, online or offline. */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/netaddr.h"
#include "lib/base/util.h"
#include "lib/runtime/diskgrow.h"

struct grow_opts {
	const char *topology;
};

static int disk_grow(int argc, char **argv);

static const struct vmr_cli_opt grow_options[] = {
    {"topology", 'f', "FILE",
     "take a stopped guest's disks from FILE (default: what\nits last run recorded)",
     VMR_CLI_STRING(struct grow_opts, topology)},
    {0},
};

static const struct vmr_cli_cmd disk_grow_cli = {
    .name = "disk grow",
    .summary = "make a guest's disk larger, running (block_resize) or stopped",
    .synopsis = "GUEST DISK SIZE [--topology FILE]",
    .description = "Grow DISK of GUEST to SIZE (a number with K, M, G or T; bare numbers are\n"
		   "MiB).  DISK is its id as `vmrun inspect` shows it (root, disk0, disk1...)\n"
		   "or its file.  A running guest's disk grows with QMP block_resize and the\n"
		   "guest sees the new size at once (its partitions and file systems are its\n"
		   "own to grow); a stopped guest's with qemu-img resize, its lock held.  A\n"
		   "disk never shrinks.",
    .opts = grow_options,
    .arg_names = "GUEST DISK SIZE",
    .min_args = 3,
    .max_args = 3,
    .exit_status = "0 grown, 1 failure, 2 bad usage, unknown disk or a size\n"
		   "not above the current one (nothing changed)",
    .run = disk_grow,
};

static int disk_grow(int argc, char **argv)
{
	struct grow_opts o = {0};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	struct vmr_disk_grow_result res;
	struct vmr_cli_args a;
	uint64_t size;
	int r;

	r = vmr_cli_parse(&disk_grow_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	if (vmr_size_parse(a.v[2], 1ull << 20, &size) < 0 || size == 0)
		return vmr_cli_usage_error(
		    &disk_grow_cli, "invalid SIZE '%s': want a number with K, M, G or T", a.v[2]);
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	if (vmr_disk_grow(&cfg, a.v[0], a.v[1], size, o.topology, &res, &err) < 0) {
		r = vmr_cli_fail(err);
		goto out;
	}
	printf("guest '%s': disk %s grew from %llu to %llu bytes (%s)\n", a.v[0], a.v[1],
	       (unsigned long long)res.old_size, (unsigned long long)res.new_size,
	       res.online ? "online: the guest sees it now" : "offline: seen at the next start");
	if (res.topology_size && res.topology_size < res.new_size)
		fprintf(stderr,
			"vmrun: note: the topology gives this disk 'size: %llu' bytes: raise it to "
			"at least %llu (or remove it), since a start refuses to shrink an image\n",
			(unsigned long long)res.topology_size, (unsigned long long)res.new_size);
	r = VMR_EXIT_OK;
out:
	vmr_config_free(&cfg);
	return r;
}

static const struct vmr_cli_cmd *const disk_subs[] = {&disk_grow_cli, NULL};

const struct vmr_cli_cmd cmd_disk_cli = {
    .name = "disk",
    .summary = "change a guest's disks (grow)",
    .description = "Change a guest's disks.",
    .arg_names = "COMMAND [ARGS...]",
    .min_args = 1,
    .max_args = VMR_CLI_ANY,
    .exit_status = "0 done, 1 failure, 2 bad usage",
    .subs = disk_subs,
};
