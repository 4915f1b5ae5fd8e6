/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * compose.sh: the user's handle on a multi-host compose context.  It is a
 * tool the user runs, not part of the launch path (containers exec vmrun
 * directly).  The per-topology data goes into bash arrays at the top; the
 * logic below them is the same for every topology.  Must pass shellcheck.
 */
#include <stdio.h>

#include "compose/compose.h"
#include "compose/internal.h"
#include "lib/base/netaddr.h"
#include "lib/base/util.h"

static void add_quoted(struct vmr_buf *b, const char *s)
{
	_cleanup_free_ char *q = compose_sh_quote(s ? s : "");

	vmr_buf_adds(b, q);
}

enum host_field { HOST_DOCKER, HOST_SSH, HOST_SERVICE, HOST_GUESTS };

/* declare -A NAME=([host]='value' ...) with one field of every host */
static void host_map(struct vmr_buf *b, const char *name, const struct vmr_topology *t,
		     const struct vmr_compose_opts *o, const struct vmr_compose_layout *l,
		     enum host_field field)
{
	vmr_buf_addf(b, "declare -A %s=(", name);
	for (size_t i = 0; i < l->nhosts; i++) {
		const struct vmr_compose_host *h = &l->hosts[i];
		struct vmr_buf v = VMR_BUF_INIT;

		switch (field) {
		case HOST_DOCKER:
			vmr_buf_adds(&v, h->docker_host ? h->docker_host : "");
			break;
		case HOST_SSH:
			vmr_buf_adds(&v, h->ssh_target ? h->ssh_target : "");
			break;
		case HOST_SERVICE:
			vmr_buf_adds(&v, h->service);
			break;
		case HOST_GUESTS:
			for (size_t j = 0; j < h->nguests; j++)
				vmr_buf_addf(&v, "%svm_%s", j ? " " : "",
					     t->guests[h->guests[j]].name);
			/* the exporter comes and goes with the guests */
			if (o->exporter) {
				_cleanup_free_ char *ex = compose_exporter_service(h);

				vmr_buf_addf(&v, "%s%s", v.len ? " " : "", ex);
			}
			break;
		}
		vmr_buf_adds(b, i ? " [" : "[");
		add_quoted(b, h->name);
		vmr_buf_adds(b, "]=");
		add_quoted(b, vmr_buf_str(&v));
		vmr_buf_free(&v);
	}
	vmr_buf_adds(b, ")\n");
}

static const char script_usage[] =
    "usage() {\n"
    "\tcat <<'EOF'\n"
    "usage: ./compose.sh COMMAND [ARGS]\n"
    "  build [SRCDIR]        build the vmrun image with ./Dockerfile (here)\n"
    "  upload                ship the image and this directory to the other hosts\n"
    "  up                    start the host services, then the guests\n"
    "  down [-v|--volumes]   stop the guests, then the host services (-v: delete the disk "
    "volumes)\n"
    "  ps                    list the containers on every host\n"
    "  logs [GUEST] [ARGS]   show logs (of one guest, on its host)\n"
    "  ssh GUEST [COMMAND]   ssh to the guest's vmctrl address (user: $VMRUN_SSH_USER, default "
    "root)\n"
    "EOF\n"
    "}\n\n";

/* Everything below the data: the same for every topology. */
static const char script_body[] =
    "die() {\n"
    "\techo \"compose.sh: error: $*\" >&2\n"
    "\texit 1\n"
    "}\n"
    "\n"
    "# docker compose (v2 plugin) when present, else docker-compose (1.29 in Debian 12),\n"
    "# which refuses compose.yml's annotations (for 5gdeploy): it reads compose.v1.yml\n"
    "compose_cmd=()\n"
    "compose_file=compose.yml\n"
    "detect_compose() {\n"
    "\t[ ${#compose_cmd[@]} -eq 0 ] || return 0\n"
    "\tif docker compose version >/dev/null 2>&1; then\n"
    "\t\tcompose_cmd=(docker compose)\n"
    "\telif command -v docker-compose >/dev/null 2>&1; then\n"
    "\t\tcompose_cmd=(docker-compose)\n"
    "\t\tcompose_file=compose.v1.yml\n"
    "\telse\n"
    "\t\tdie \"neither 'docker compose' nor 'docker-compose' is installed\"\n"
    "\tfi\n"
    "}\n"
    "\n"
    "# on HOST ARGS...: run compose with ARGS against HOST's docker engine\n"
    "on() {\n"
    "\tlocal h=$1 uri\n"
    "\tshift\n"
    "\tdetect_compose\n"
    "\turi=${docker_host[$h]}\n"
    "\tif [ -z \"$uri\" ]; then\n"
    "\t\t\"${compose_cmd[@]}\" -f \"$here/$compose_file\" \"$@\"\n"
    "\telif [ \"${compose_cmd[0]}\" = docker ]; then\n"
    "\t\tdocker -H \"$uri\" compose -f \"$here/$compose_file\" \"$@\"\n"
    "\telse\n"
    "\t\tdocker-compose -H \"$uri\" -f \"$here/$compose_file\" \"$@\"\n"
    "\tfi\n"
    "}\n"
    "\n"
    "# docker_on HOST ARGS...: plain docker against HOST's engine\n"
    "docker_on() {\n"
    "\tlocal uri=${docker_host[$1]}\n"
    "\tshift\n"
    "\tif [ -z \"$uri\" ]; then docker \"$@\"; else docker -H \"$uri\" \"$@\"; fi\n"
    "}\n"
    "\n"
    "check_images() {\n"
    "\tlocal h\n"
    "\tfor h in \"${hosts[@]}\"; do\n"
    "\t\tdocker_on \"$h\" image inspect \"$image\" >/dev/null 2>&1 ||\n"
    "\t\t\tdie \"image '$image' is missing on host '$h': run ./compose.sh build (and upload)\"\n"
    "\tdone\n"
    "}\n"
    "\n"
    "cmd_build() {\n"
    "\tlocal ctx\n"
    "\tif [ \"$host_binary\" = 1 ]; then\n"
    "\t\tctx=$here\n"
    "\telse\n"
    "\t\tctx=${1:-$source_dir}\n"
    "\t\t[ -n \"$ctx\" ] || die \"build: give the vmrun source tree: ./compose.sh build SRCDIR\"\n"
    "\t\t[ -f \"$ctx/cmd/main.c\" ] || die \"build: '$ctx' is not the vmrun source tree\"\n"
    "\tfi\n"
    "\t# host network: apt in the build needs none of dockerd's bridge or NAT;\n"
    "\t# --force-rm: a failed step leaves no container behind\n"
    "\tdocker build --network host --force-rm -t \"$image\" -f \"$here/Dockerfile\" \"$ctx\"\n"
    "}\n"
    "\n"
    "cmd_upload() {\n"
    "\tlocal h id rid dir\n"
    "\tid=$(docker image inspect -f '{{.Id}}' \"$image\") ||\n"
    "\t\tdie \"image '$image' is missing here: run ./compose.sh build first\"\n"
    "\tdir=$(printf '%q' \"$here\")\n"
    "\tfor h in \"${hosts[@]}\"; do\n"
    "\t\t[ -n \"${docker_host[$h]}\" ] || continue\n"
    "\t\trid=$(docker_on \"$h\" image inspect -f '{{.Id}}' \"$image\" 2>/dev/null || true)\n"
    "\t\tif [ \"$rid\" != \"$id\" ]; then\n"
    "\t\t\techo \"compose.sh: shipping image '$image' to host '$h'\" >&2\n"
    "\t\t\tdocker save \"$image\" | docker_on \"$h\" load\n"
    "\t\tfi\n"
    "\t\t# bind mounts are resolved on each host: the context must be at the same path there\n"
    "\t\techo \"compose.sh: copying $here to host '$h'\" >&2\n"
    "\t\t# $dir is quoted for the remote shell by printf %q\n"
    "\t\t# shellcheck disable=SC2029\n"
    "\t\ttar -C \"$here\" -cf - compose.yml compose.v1.yml compose.sh topology.yaml |\n"
    "\t\t\tssh \"${ssh_target[$h]}\" \"mkdir -p $dir && tar -C $dir -xf -\"\n"
    "\tdone\n"
    "}\n"
    "\n"
    "cmd_up() {\n"
    "\tlocal h\n"
    "\tlocal -a svcs\n"
    "\tcheck_images\n"
    "\tfor h in \"${hosts[@]}\"; do\n"
    "\t\ton \"$h\" up -d \"${host_service[$h]}\"\n"
    "\tdone\n"
    "\t# each guest waits for its host service to be healthy and its prep job to finish\n"
    "\tfor h in \"${hosts[@]}\"; do\n"
    "\t\t[ -n \"${guests[$h]}\" ] || continue\n"
    "\t\tread -ra svcs <<<\"${guests[$h]}\"\n"
    "\t\ton \"$h\" up -d \"${svcs[@]}\"\n"
    "\tdone\n"
    "}\n"
    "\n"
    "cmd_down() {\n"
    "\tlocal h i arg\n"
    "\tlocal -a svcs opts=(--remove-orphans)\n"
    "\tfor arg in \"$@\"; do\n"
    "\t\tcase $arg in\n"
    "\t\t-v | --volumes) opts+=(--volumes) ;;\n"
    "\t\t*) die \"down: unknown option '$arg'\" ;;\n"
    "\t\tesac\n"
    "\tdone\n"
    "\t# every guest stops before any host service undoes the ctrlif or the VFs\n"
    "\tfor ((i = ${#hosts[@]} - 1; i >= 0; i--)); do\n"
    "\t\th=${hosts[$i]}\n"
    "\t\t[ -n \"${guests[$h]}\" ] || continue\n"
    "\t\tread -ra svcs <<<\"${guests[$h]}\"\n"
    "\t\ton \"$h\" stop \"${svcs[@]}\"\n"
    "\tdone\n"
    "\tfor ((i = ${#hosts[@]} - 1; i >= 0; i--)); do\n"
    "\t\ton \"${hosts[$i]}\" down \"${opts[@]}\"\n"
    "\tdone\n"
    "}\n"
    "\n"
    "cmd_ps() {\n"
    "\tlocal h\n"
    "\tfor h in \"${hosts[@]}\"; do\n"
    "\t\techo \"== host $h\"\n"
    "\t\ton \"$h\" ps \"$@\"\n"
    "\tdone\n"
    "}\n"
    "\n"
    "cmd_logs() {\n"
    "\tlocal h g\n"
    "\tif [ $# -gt 0 ] && [ -n \"${guest_host[$1]:-}\" ]; then\n"
    "\t\tg=$1\n"
    "\t\tshift\n"
    "\t\ton \"${guest_host[$g]}\" logs \"$@\" \"vm_$g\"\n"
    "\t\treturn\n"
    "\tfi\n"
    "\tfor h in \"${hosts[@]}\"; do\n"
    "\t\ton \"$h\" logs \"$@\"\n"
    "\tdone\n"
    "}\n"
    "\n"
    "cmd_ssh() {\n"
    "\tlocal g\n"
    "\t[ $# -ge 1 ] || die \"usage: ./compose.sh ssh GUEST [COMMAND...]\"\n"
    "\tg=$1\n"
    "\tshift\n"
    "\t[ -n \"${guest_host[$g]:-}\" ] || die \"unknown guest '$g'\"\n"
    "\t[ -n \"${guest_ssh[$g]:-}\" ] || die \"guest '$g' has no IPv4 address to ssh to\"\n"
    "\texec ssh \"${VMRUN_SSH_USER:-root}@${guest_ssh[$g]}\" \"$@\"\n"
    "}\n"
    "\n"
    "case ${1:-} in\n"
    "build | upload | up | down | ps | logs | ssh)\n"
    "\tcmd=$1\n"
    "\tshift\n"
    "\t\"cmd_$cmd\" \"$@\"\n"
    "\t;;\n"
    "-h | --help | help) usage ;;\n"
    "*)\n"
    "\tusage >&2\n"
    "\texit 2\n"
    "\t;;\n"
    "esac\n";

int compose_script_build(const struct vmr_topology *t, const struct vmr_compose_opts *o,
			 struct vmr_buf *out, struct vmr_error **err)
{
	struct vmr_compose_layout l;

	compose_layout_build(t, &l);

	vmr_buf_adds(out, "#!/usr/bin/env bash\n");
	vmr_buf_addf(out, "# Generated by vmrun compose%s%s; do not edit.\n",
		     o->topology_name ? " from " : "", o->topology_name ? o->topology_name : "");
	vmr_buf_adds(
	    out, "# Runs docker [-H ssh://HOST] compose on every physical host of the topology\n"
		 "# (the first one locally); ./compose.sh --help lists the commands.\n"
		 "set -euo pipefail\n"
		 "here=$(cd \"$(dirname \"${BASH_SOURCE[0]}\")\" && pwd)\n\n");
	vmr_buf_adds(out, "image=");
	add_quoted(out, o->image ? o->image : VMR_COMPOSE_DEFAULT_IMAGE);
	vmr_buf_adds(out, "\nsource_dir=");
	add_quoted(out, o->source);
	vmr_buf_addf(out, "\nhost_binary=%d\n\n", o->host_binary ? 1 : 0);

	vmr_buf_adds(out,
		     "# physical hosts, the local one first; docker_host is empty for it\nhosts=(");
	for (size_t i = 0; i < l.nhosts; i++) {
		if (i)
			vmr_buf_addc(out, ' ');
		add_quoted(out, l.hosts[i].name);
	}
	vmr_buf_adds(out, ")\n");
	host_map(out, "docker_host", t, o, &l, HOST_DOCKER);
	host_map(out, "ssh_target", t, o, &l, HOST_SSH);
	host_map(out, "host_service", t, o, &l, HOST_SERVICE);
	host_map(out, "guests", t, o, &l, HOST_GUESTS);

	vmr_buf_adds(out, "# per guest: its host and the address `ssh` connects to\n"
			  "declare -A guest_host=(");
	for (size_t i = 0; i < t->nguests; i++) {
		vmr_buf_adds(out, i ? " [" : "[");
		add_quoted(out, t->guests[i].name);
		vmr_buf_adds(out, "]=");
		add_quoted(out, l.hosts[l.guest_host[i]].name);
	}
	vmr_buf_adds(out, ")\ndeclare -A guest_ssh=(");
	for (size_t i = 0, k = 0; i < t->nguests; i++) {
		const struct vmr_nic *nic = compose_guest_ssh_nic(&t->guests[i]);
		char ip[64], *slash;

		if (!nic)
			continue;
		vmr_cidr_format(&nic->ip, ip);
		if ((slash = strchr(ip, '/')))
			*slash = '\0';
		vmr_buf_adds(out, k++ ? " [" : "[");
		add_quoted(out, t->guests[i].name);
		vmr_buf_adds(out, "]=");
		add_quoted(out, ip);
	}
	vmr_buf_adds(out, ")\n\n");
	vmr_buf_adds(out, script_usage);
	vmr_buf_adds(out, script_body);

	compose_layout_free(&l);
	return 0;
}
