/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun kube: Kubernetes manifests for a topology (docs/compose.md). */
#include <stdio.h>

#include "cmd/cmd.h"
#include "cmd/compose.h"
#include "compose/compose.h"
#include "lib/base/util.h"

struct kube_opts {
	struct vmr_compose_opts c;
	const char *output;
};

static const struct vmr_cli_opt kube_options[] = {
    {"output", 'o', "DIR", "the directory to write (created if missing)",
     VMR_CLI_STRING(struct kube_opts, output), .flags = VMR_CLI_REQUIRED},
    {"image", 0, "NAME", "the container image (default " VMR_COMPOSE_DEFAULT_IMAGE ")",
     VMR_CLI_STRING(struct kube_opts, c.image)},
    {0},
};

const struct vmr_cli_cmd cmd_kube_cli = {
    .name = "kube",
    .summary = "write Kubernetes manifests for a topology",
    .synopsis = "TOPOLOGY -o DIR [--image NAME]",
    .description = "Write Kubernetes manifests for the topology's guests into DIR:\n"
		   "topology-configmap.yaml, host-HOST.yaml (a DaemonSet running the host\n"
		   "setup on that node) and pod-GUEST.yaml per guest.  Apply them with\n"
		   "kubectl apply -f DIR.  Nothing is written unless the topology is valid.",
    .opts = kube_options,
    .arg_names = "TOPOLOGY",
    .min_args = 1,
    .max_args = 1,
    .footer = "The global --state-dir DIR (absolute) is the state directory on the nodes\n"
	      "(default " VMR_COMPOSE_STATE_DIR ").",
    .exit_status = "0 written, 1 runtime failure, 2 bad usage or a topology\n"
		   "kube cannot place (nothing written).  See docs/compose.md.",
    .run = cmd_kube,
};

VERB(kube)
{
	struct kube_opts o = {0};
	struct vmr_compose_files files = {0};
	struct vmr_topology *t = NULL;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *text = NULL, *dir = NULL;
	struct vmr_cli_args a;
	size_t len = 0;
	int status;

	status = vmr_cli_parse(&cmd_kube_cli, argc, argv, &o, &a);
	if (status != VMR_CLI_RUN)
		return status;
	status = vmr_cli_compose_check(&cmd_kube_cli, o.c.image);
	if (status)
		return status;
	o.c.state_dir = vmr_opts.state_dir;
	status = vmr_cli_compose_input(a.v[0], &t, &text, &len, &dir);
	if (status)
		return status;
	o.c.topology_dir = dir;
	if (compose_kube_build(t, &o.c, text, len, &files, &err) < 0 ||
	    compose_dir_write(o.output, &files, NULL, &err) < 0) {
		status = vmr_cli_fail(err);
		goto out;
	}
	printf("wrote %s: %zu manifests\n", o.output, files.n);
out:
	compose_files_free(&files);
	vmr_topology_free(t);
	return status;
}
