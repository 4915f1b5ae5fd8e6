/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun compose: a Docker Compose context for a topology (docs/compose.md). */
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "lib/devices/devices.h"
#include "cmd/compose.h"
#include "compose/compose.h"
#include "lib/base/util.h"
#include "lib/runtime/exporter.h"

struct compose_cli_opts {
	struct vmr_compose_opts c;
	const char *output;
};

static const struct vmr_cli_opt compose_options[] = {
    {"output", 'o', "DIR", "the directory to write (created if missing)",
     VMR_CLI_STRING(struct compose_cli_opts, output), .flags = VMR_CLI_REQUIRED},
    {"image", 0, "NAME", "the container image (default " VMR_COMPOSE_DEFAULT_IMAGE ")",
     VMR_CLI_STRING(struct compose_cli_opts, c.image)},
    {"host-binary", 0, NULL,
     "copy this vmrun into DIR and build the image\n"
     "around it (the host must run Debian 12) instead\nof from source",
     VMR_CLI_FLAG(struct compose_cli_opts, c.host_binary)},
    {"source", 0, "SRCDIR", "the vmrun source tree `compose.sh build` uses",
     VMR_CLI_STRING(struct compose_cli_opts, c.source)},
    {"exporter", 0, "ADDR:PORT",
     "add an exporter_HOST service per host: `vmrun\nexporter` listening there "
     "(Prometheus metrics\non /metrics)",
     VMR_CLI_STRING(struct compose_cli_opts, c.exporter)},
    {0},
};

const struct vmr_cli_cmd cmd_compose_cli = {
    .name = "compose",
    .summary = "write a Docker Compose context for a topology",
    .synopsis = "TOPOLOGY -o DIR [--image NAME] [--exporter ADDR:PORT]\n"
		" [--host-binary | --source SRCDIR]",
    .description = "Write a Docker Compose context for the topology's guests: DIR/compose.yml\n"
		   "(with the annotations 5gdeploy's netdef-compose --use-vm reads),\n"
		   "DIR/compose.v1.yml (the same without them, for docker-compose 1.29),\n"
		   "DIR/compose.sh (up, down, ps, logs, build, upload, ssh GUEST across the\n"
		   "physical hosts), DIR/Dockerfile and DIR/topology.yaml (a copy of TOPOLOGY).\n"
		   "Nothing is written unless the topology is valid for it.",
    .opts = compose_options,
    .arg_names = "TOPOLOGY",
    .min_args = 1,
    .max_args = 1,
    .footer = "The global --state-dir DIR (absolute) is the state directory on the hosts\n"
	      "(default " VMR_COMPOSE_STATE_DIR "), mounted into the containers.",
    .exit_status = "0 written, 1 runtime failure, 2 bad usage or a topology\n"
		   "compose cannot place (nothing written).  See docs/compose.md.",
    .run = cmd_compose,
};

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

int vmr_cli_compose_check(const struct vmr_cli_cmd *cmd, const char *image)
{
	if (image && !*image)
		return vmr_cli_usage_error(cmd, "--image: empty name");
	if (vmr_opts.state_dir && vmr_opts.state_dir[0] != '/')
		return vmr_cli_usage_error(
		    cmd, "--state-dir '%s': the hosts' state directory must be absolute",
		    vmr_opts.state_dir);
	return 0;
}

VERB(compose)
{
	struct compose_cli_opts o = {0};
	struct vmr_compose_files files = {0};
	struct vmr_topology *t = NULL;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *text = NULL, *source = NULL, *dir = NULL;
	struct vmr_cli_args a;
	const char *base;
	size_t len = 0;
	int status;

	status = vmr_cli_parse(&cmd_compose_cli, argc, argv, &o, &a);
	if (status != VMR_CLI_RUN)
		return status;
	status = vmr_cli_compose_check(&cmd_compose_cli, o.c.image);
	if (status)
		return status;
	if (o.c.exporter) {
		struct sockaddr_storage sa;
		socklen_t salen;

		if (vmr_exporter_parse_listen(o.c.exporter, &sa, &salen, &err) < 0)
			return vmr_cli_fail(err);
	}
	if (o.c.host_binary && o.c.source)
		return vmr_cli_usage_error(&cmd_compose_cli,
					   "--host-binary and --source exclude each other");
	if (o.c.source) {
		source = realpath(o.c.source, NULL);
		if (!source)
			return vmr_cli_usage_error(&cmd_compose_cli, "--source '%s': %s",
						   o.c.source, strerror(errno));
	}
	o.c.source = source;
	base = strrchr(a.v[0], '/');
	o.c.topology_name = base ? base + 1 : a.v[0];

	o.c.state_dir = vmr_opts.state_dir;
	status = vmr_cli_compose_input(a.v[0], &t, &text, &len, &dir);
	if (status)
		return status;
	o.c.topology_dir = dir;
	if (compose_context_build(t, &o.c, text, len, &files, &err) < 0 ||
	    compose_dir_write(o.output, &files, o.c.host_binary ? "/proc/self/exe" : NULL, &err) <
		0) {
		status = vmr_cli_fail(err);
		goto out;
	}
	printf("wrote %s: compose.yml compose.v1.yml compose.sh Dockerfile topology.yaml%s (%zu "
	       "guest%s)\n",
	       o.output, o.c.host_binary ? " vmrun" : "", t->nguests, t->nguests == 1 ? "" : "s");
out:
	compose_files_free(&files);
	vmr_topology_free(t);
	return status;
}
