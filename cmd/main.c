/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun: global options and verb dispatch. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "lib/util.h"

struct vmr_global_opts vmr_opts;

static const struct vmr_verb verbs[] = {
	/* verbs are added here, one line each, as cmd/<verb>.c lands */
};

static void usage(FILE *f)
{
	fputs("usage: vmrun [--config FILE] [--state-dir DIR] VERB [ARGS...]\n"
	      "       vmrun --help | --version | VERB --help\n\n"
	      "A launcher for QEMU/KVM guests without libvirt.\n\nverbs:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
	fputs("\nexit status: 0 success, 1 runtime failure, 2 bad usage or invalid input\n"
	      "see docs/ for the topology format and each verb\n", f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* '+': stop at the verb; its own options are parsed by the verb */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			vmr_opts.config = optarg;
			break;
		case 's':
			vmr_opts.state_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return VMR_EXIT_OK;
		case 'V':
			printf("vmrun %s\n", VMR_VERSION);
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
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
		if (streq(argv[optind], verbs[i].name)) {
			int v = optind;

			optind = 0; /* reinitialise getopt: verbs parse from their argv[1] */
			return verbs[i].fn(argc - v, argv + v);
		}
	}
	fprintf(stderr, "vmrun: error: unknown verb '%s'\n", argv[optind]);
	usage(stderr);
	return VMR_EXIT_USAGE;
}
