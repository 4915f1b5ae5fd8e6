/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun validate TOPOLOGY [--quiet]: load, check, summarise. */
#include <getopt.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/util.h"

static void validate_usage(FILE *f)
{
	fputs("usage: vmrun validate [--quiet] TOPOLOGY\n\n"
	      "Check a topology file and print a summary of its guests.\n"
	      "Every problem is printed as FILE:LINE:COL: error: MESSAGE.\n\n"
	      "  -q, --quiet   print nothing on success\n"
	      "  -h, --help    show this help\n\n"
	      "exit status: 0 valid, 2 invalid or bad usage, 1 the file cannot be read\n",
	      f);
}

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

int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct vmr_topology *t = NULL;
	bool quiet = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case 'h':
			validate_usage(stdout);
			return VMR_EXIT_OK;
		default:
			validate_usage(stderr);
			return VMR_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "vmrun: error: validate needs exactly one topology file\n");
		validate_usage(stderr);
		return VMR_EXIT_USAGE;
	}
	r = vmr_cli_topology(argv[optind], &t);
	if (r)
		return r;
	if (!quiet)
		print_summary(t);
	vmr_topology_free(t);
	return VMR_EXIT_OK;
}
