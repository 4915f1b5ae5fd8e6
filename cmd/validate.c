/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun validate TOPOLOGY [--quiet]: load, check, summarise. */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/util.h"

struct validate_opts {
	bool quiet;
};

static const struct vmr_cli_opt validate_options[] = {
    {"quiet", 'q', NULL, "print nothing on success", VMR_CLI_FLAG(struct validate_opts, quiet)},
    {0},
};

const struct vmr_cli_cmd cmd_validate_cli = {
    .name = "validate",
    .summary = "check a topology file and summarise it",
    .synopsis = "[--quiet] TOPOLOGY",
    .description = "Check a topology file and print a summary of its guests.\n"
		   "Every problem is printed as FILE:LINE:COL: error: MESSAGE.",
    .opts = validate_options,
    .arg_names = "TOPOLOGY",
    .min_args = 1,
    .max_args = 1,
    .exit_status = "0 valid, 2 invalid or bad usage, 1 the file cannot be read",
    .run = cmd_validate,
};

static void print_memory(uint64_t bytes)
{
	if (bytes % (1ull << 30) == 0)
		printf("%lluG", (unsigned long long)(bytes >> 30));
	else if (bytes % (1ull << 20) == 0)
		printf("%lluM", (unsigned long long)(bytes >> 20));
	else
		printf("%lluK", (unsigned long long)(bytes >> 10));
}

static void print_summary(const struct vmr_topology *t)
{
	const struct vmr_host *primary = vmr_topology_primary(t);

	printf("%s: valid: %zu guest%s, %zu host%s\n", t->file, t->nguests,
	       t->nguests == 1 ? "" : "s", t->nhosts, t->nhosts == 1 ? "" : "s");
	for (size_t i = 0; i < t->nhosts; i++)
		printf("  host %s%s\n", t->hosts[i].name, t->hosts[i].primary ? " (primary)" : "");
	for (size_t i = 0; i < t->nguests; i++) {
		const struct vmr_guest *g = &t->guests[i];
		const char *host = g->host ? g->host : primary ? primary->name : "local";
		_cleanup_free_ char *cpus = g->has_cpuset ? vmr_cpuset_format(&g->cpuset) : NULL;

		printf("  guest %s: host %s, %u vCPU%s", g->name, host, g->vcpus,
		       g->vcpus == 1 ? "" : "s");
		if (cpus)
			printf(" on CPUs %s", cpus);
		printf(", memory ");
		print_memory(g->memory);
		printf(", %zu NIC%s", g->nnics, g->nnics == 1 ? "" : "s");
		for (size_t j = 0; j < g->nnics; j++) {
			char mac[18];

			printf("%s %s=%s(%s)", j ? "," : ":", g->nics[j].name,
			       g->nics[j].att.ops->name, vmr_mac_format(&g->nics[j].mac, mac));
		}
		printf("\n");
	}
}

VERB(validate)
{
	struct validate_opts o = {0};
	struct vmr_topology *t = NULL;
	struct vmr_cli_args a;
	int r;

	r = vmr_cli_parse(&cmd_validate_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	r = vmr_cli_topology(a.v[0], &t);
	if (r)
		return r;
	if (!o.quiet)
		print_summary(t);
	vmr_topology_free(t);
	return VMR_EXIT_OK;
}
