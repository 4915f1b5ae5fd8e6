/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun: global options and verb dispatch. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "lib/base/util.h"

struct vmr_global_opts vmr_opts;

static const struct vmr_verb verbs[] = {
    {"run", cmd_run, "start a guest and supervise it in the foreground"},
    {"up", cmd_up, "start guests detached and wait until they run pinned"},
    {"down", cmd_down, "stop the guests of a topology gracefully and wait"},
    {"ps", cmd_ps, "list guests: state, pids, uptime, vCPU affinity, NICs"},
    {"stop", cmd_stop, "stop one guest gracefully and wait"},
    {"kill", cmd_kill, "kill one guest's QEMU at once; the host is still restored"},
    {"console", cmd_console, "attach to a guest's serial console (Ctrl-] detaches)"},
    {"qmp", cmd_qmp, "run a QMP command on a guest and print the reply"},
    {"validate", cmd_validate, "check a topology file and summarise it"},
    {"args", cmd_args, "print the QEMU command line of a guest"},
    {"define", cmd_define, "print a topology from 5gdeploy --vm flags"},
    {"image", cmd_image, "prepare guest disks and seeds, import disk images"},
    {"host", cmd_host, "set up (or undo) the host for its guests: vmctrl, SR-IOV VFs"},
    {"devices", cmd_devices, "list NICs, SR-IOV PFs, PCI and USB devices a topology can use"},
    {"compose", cmd_compose, "write a Docker Compose context for a topology"},
    {"kube", cmd_kube, "write Kubernetes manifests for a topology"},
    {"health", cmd_health, "healthcheck: is a guest running (or a host set up)"},
    {"probe", cmd_probe, "tell what this host gives guests: KVM, vhost-net, link kinds, IOMMU"},
};

static void usage(FILE *f)
{
	fputs("usage: vmrun [--config FILE] [--state-dir DIR] VERB [ARGS...]\n"
	      "       vmrun --help | --version | VERB --help\n\n"
	      "A launcher for QEMU/KVM guests without libvirt.\n\nverbs:\n",
	      f);
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
	fputs("\nexit status: 0 success, 1 runtime failure, 2 bad usage or invalid input\n"
	      "documentation: " VMR_DOCDIR " (topology format, each verb)\n",
	      f);
}

static void usage_hint(void)
{
	fputs("vmrun: see 'vmrun --help'\n", stderr);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"state-dir", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	/* getopt names argv[0] in its messages: make it "vmrun" whatever the path */
	argv[0] = (char *)"vmrun";
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
			usage_hint();
			return VMR_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs("vmrun: error: no verb given\n", stderr);
		usage(stderr);
		return VMR_EXIT_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
		if (streq(argv[optind], verbs[i].name)) {
			_cleanup_free_ char *name = xasprintf("vmrun %s", verbs[i].name);
			int v = optind;

			/* getopt's messages then read "vmrun run: unrecognized option" */
			argv[v] = name;
			optind = 0; /* reinitialise getopt: verbs parse from their argv[1] */
			return verbs[i].fn(argc - v, argv + v);
		}
	}
	fprintf(stderr, "vmrun: error: unknown verb '%s'\n", argv[optind]);
	usage_hint();
	return VMR_EXIT_USAGE;
}
