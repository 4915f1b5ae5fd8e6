/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun compose: a Docker Compose context for a topology (docs/compose.md). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "lib/devices/devices.h"
#include "cmd/compose.h"
#include "compose/compose.h"
#include "lib/base/util.h"

static void usage(FILE *f)
{
	fputs("usage: vmrun compose TOPOLOGY -o DIR [--image NAME] [--host-binary | --source "
	      "SRCDIR]\n\n"
	      "Write a Docker Compose context for the topology's guests: DIR/compose.yml,\n"
	      "DIR/compose.sh (up, down, ps, logs, build, upload, ssh GUEST across the\n"
	      "physical hosts), DIR/Dockerfile and DIR/topology.yaml (a copy of TOPOLOGY).\n"
	      "Nothing is written unless the topology is valid for it.\n\n"
	      "  -o, --output DIR   the directory to write (created if missing)\n"
	      "  --image NAME       the container image (default " VMR_COMPOSE_DEFAULT_IMAGE ")\n"
	      "  --host-binary      copy this vmrun into DIR and build the image around it\n"
	      "                     (the host must run Debian 12) instead of from source\n"
	      "  --source SRCDIR    the vmrun source tree `compose.sh build` uses\n"
	      "  -h, --help         show this help\n\n"
	      "The global --state-dir DIR (absolute) is the state directory on the hosts\n"
	      "(default " VMR_COMPOSE_STATE_DIR "), mounted into the containers.\n\n"
	      "exit status: 0 written, 1 runtime failure, 2 bad usage or a topology\n"
	      "compose cannot place (nothing written).  See docs/compose.md.\n",
	      f);
}

int vmr_cli_compose_input(const char *path, struct vmr_topology **ret_topo, char **ret_text,
			  size_t *ret_len, char **ret_dir)
{
	struct vmr_topology *t = NULL;
	struct vmr_diags diags = {0};
	_cleanup_free_ char *text = NULL, *dir = NULL, *real = NULL;
	char *slash;
	size_t len = 0;
	int status, r;

	/* read once: the containers get the very bytes that were checked */
	r = read_file(path, VMR_TOPOLOGY_MAX_BYTES, &text, &len);
	if (r < 0) {
		/* the loader words the failure (too large, unreadable) as for every verb */
		status = vmr_cli_topology(path, &t);
		vmr_topology_free(t);
		return status ? status : VMR_EXIT_FAILURE;
	}
	r = vmr_topology_load_buffer(path, text, len, vmr_device_kinds(), &t, &diags);
	if (r == 0)
		r = compose_topology_check(t, &diags);
	if (r < 0) {
		vmr_diags_print(&diags, stderr);
		vmr_diags_clear(&diags);
		vmr_topology_free(t);
		return VMR_EXIT_USAGE;
	}
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	real = realpath(slash ? dir : ".", NULL);
	if (!real) {
		struct vmr_error *err = NULL;

		vmr_topology_free(t);
		vmr_error_set(&err, errno, "directory of '%s'", path);
		return vmr_cli_fail(err);
	}
	*ret_topo = t;
	*ret_dir = TAKE_PTR(real);
	*ret_text = TAKE_PTR(text);
	*ret_len = len;
	return 0;
}

int vmr_cli_compose_args(const char *verb, int argc, const char *output, const char *image,
			 void (*print_usage)(FILE *f))
{
	if (optind + 1 != argc || !output) {
		fprintf(stderr, "vmrun: error: %s: %s\n", verb,
			optind >= argc	    ? "missing TOPOLOGY"
			: optind + 1 < argc ? "more than one TOPOLOGY"
					    : "missing -o DIR");
		print_usage(stderr);
		return VMR_EXIT_USAGE;
	}
	if (image && !*image) {
		fprintf(stderr, "vmrun: error: %s: --image: empty name\n", verb);
		return VMR_EXIT_USAGE;
	}
	if (vmr_opts.state_dir && vmr_opts.state_dir[0] != '/') {
		fprintf(
		    stderr,
		    "vmrun: error: --state-dir '%s': the hosts' state directory must be absolute\n",
		    vmr_opts.state_dir);
		return VMR_EXIT_USAGE;
	}
	return 0;
}

VERB(compose)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'}, {"image", required_argument, NULL, 'i'},
	    {"host-binary", no_argument, NULL, 'b'},  {"source", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	struct vmr_compose_opts o = {0};
	struct vmr_compose_files files = {0};
	struct vmr_topology *t = NULL;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *text = NULL, *source = NULL, *dir = NULL;
	const char *output = NULL, *base;
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
		case 'b':
			o.host_binary = true;
			break;
		case 's':
			source = realpath(optarg, NULL);
			if (!source) {
				fprintf(stderr, "vmrun: error: --source '%s': %s\n", optarg,
					strerror(errno));
				return VMR_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return VMR_EXIT_OK;
		default:
			usage(stderr);
			return VMR_EXIT_USAGE;
		}
	}
	status = vmr_cli_compose_args("compose", argc, output, o.image, usage);
	if (status)
		return status;
	if (o.host_binary && source) {
		fputs("vmrun: error: compose: --host-binary and --source exclude each other\n",
		      stderr);
		return VMR_EXIT_USAGE;
	}
	o.source = source;
	base = strrchr(argv[optind], '/');
	o.topology_name = base ? base + 1 : argv[optind];

	o.state_dir = vmr_opts.state_dir;
	status = vmr_cli_compose_input(argv[optind], &t, &text, &len, &dir);
	if (status)
		return status;
	o.topology_dir = dir;
	if (compose_context_build(t, &o, text, len, &files, &err) < 0 ||
	    compose_dir_write(output, &files, o.host_binary ? "/proc/self/exe" : NULL, &err) < 0) {
		status = vmr_cli_fail(err);
		goto out;
	}
	printf("wrote %s: compose.yml compose.sh Dockerfile topology.yaml%s (%zu guest%s)\n",
	       output, o.host_binary ? " vmrun" : "", t->nguests, t->nguests == 1 ? "" : "s");
out:
	compose_files_free(&files);
	vmr_topology_free(t);
	return status;
}
