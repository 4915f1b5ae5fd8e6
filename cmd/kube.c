/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun kube: Kubernetes manifests for a topology (docs/compose.md). */
#include <getopt.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "cmd/compose.h"
#include "compose/compose.h"
#include "lib/base/util.h"

static void usage(FILE *f)
{
	fputs("usage: vmrun kube TOPOLOGY -o DIR [--image NAME]\n\n"
	      "Write Kubernetes manifests for the topology's guests into DIR:\n"
	      "topology-configmap.yaml, host-HOST.yaml (a DaemonSet running the host\n"
	      "setup on that node) and pod-GUEST.yaml per guest.  Apply them with\n"
	      "kubectl apply -f DIR.  Nothing is written unless the topology is valid.\n\n"
	      "  -o, --output DIR   the directory to write (created if missing)\n"
	      "  --image NAME       the container image (default " VMR_COMPOSE_DEFAULT_IMAGE ")\n"
	      "  -h, --help         show this help\n\n"
	      "The global --state-dir DIR (absolute) is the state directory on the nodes\n"
	      "(default " VMR_COMPOSE_STATE_DIR ").\n\n"
	      "exit status: 0 written, 1 runtime failure, 2 bad usage or a topology\n"
	      "kube cannot place (nothing written).  See docs/compose.md.\n",
	      f);
}

VERB(kube)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"image", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct vmr_compose_opts o = {0};
	struct vmr_compose_files files = {0};
	struct vmr_topology *t = NULL;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *text = NULL, *dir = NULL;
	const char *output = NULL;
	size_t len = 0;
	int c, status = VMR_EXIT_OK;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'i':
			o.image = optarg;
			break;
		case 'h':
			usage(stdout);
			return VMR_EXIT_OK;
		default:
			usage(stderr);
			return VMR_EXIT_USAGE;
		}
	}
	status = vmr_cli_compose_args("kube", argc, output, o.image, usage);
	if (status)
		return status;
	o.state_dir = vmr_opts.state_dir;
	status = vmr_cli_compose_input(argv[optind], &t, &text, &len, &dir);
	if (status)
		return status;
	o.topology_dir = dir;
	if (compose_kube_build(t, &o, text, len, &files, &err) < 0 ||
	    compose_dir_write(output, &files, NULL, &err) < 0) {
		status = vmr_cli_fail(err);
		goto out;
	}
	printf("wrote %s: %zu manifests\n", output, files.n);
out:
	compose_files_free(&files);
	vmr_topology_free(t);
	return status;
}
