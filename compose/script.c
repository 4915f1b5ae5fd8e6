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
    "Other hosts are reached with docker -H ssh://ADDRESS, one shared ssh connection each.\n"
    "  VMRUN_COMPOSE_HOST=HOST|none  the host this runs on (default: the primary); none: every\n"
    "                        host over ssh, from a machine outside the lab\n"
    "  VMRUN_SSH_TIMEOUT=S   ssh connect timeout in seconds (10)\n"
    "  VMRUN_SSH_MUX=0       one ssh connection per docker call instead\n"
    "  VMRUN_COMPOSE_JOBS=1  one host after the other instead of all at once\n"
    "EOF\n"
    "}\n\n";

/* Everything below the data: the same for every topology. */
static const char script_body[] =
    "die() {\n"
    "\techo \"compose.sh: error: $*\" >&2\n"
    "\texit 1\n"
    "}\n"
    "say() { echo \"compose.sh: $*\" >&2; }\n"
    "\n"
    "# Compose's project name, given explicitly so that every engine and both\n"
    "# Compose versions agree (their default: the directory's name, normalised)\n"
    "project=${COMPOSE_PROJECT_NAME:-$(basename \"$here\")}\n"
    "project=${project,,}\n"
    "project=${project//[^a-z0-9_-]/}\n"
    "while [[ $project == [-_]* ]]; do project=${project:1}; done\n"
    "[ -n \"$project\" ] || die \"no Compose project name: set COMPOSE_PROJECT_NAME\"\n"
    "\n"
    "# The host this runs on uses plain `docker` (DOCKER_HOST, the docker\n"
    "# context); the others `docker -H ssh://ADDRESS`.  VMRUN_COMPOSE_HOST names\n"
    "# another host, or `none` on a machine outside the lab.\n"
    "this_host=${VMRUN_COMPOSE_HOST:-$default_host}\n"
    "check_this_host() {\n"
    "\tlocal h\n"
    "\tif [ -z \"${host_service[$this_host]+x}\" ] && [ \"$this_host\" != none ]; then\n"
    "\t\tdie \"VMRUN_COMPOSE_HOST: '$this_host' is not a host of this lab (${hosts[*]}, or "
    "none)\"\n"
    "\tfi\n"
    "\tfor h in \"${hosts[@]}\"; do\n"
    "\t\t[ \"$h\" = \"$this_host\" ] || [ -n \"${docker_host[$h]}\" ] ||\n"
    "\t\t\tdie \"host '$h' is the machine that runs compose.sh (no host is primary): "
    "VMRUN_COMPOSE_HOST must not be set\"\n"
    "\tdone\n"
    "}\n"
    "remote() { [ \"$1\" != \"$this_host\" ]; }\n"
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
    "# engine HOST: docker's -H for HOST: the socket connect forwarded to its\n"
    "# engine, else ssh://ADDRESS (one ssh and `docker system dial-stdio` a call)\n"
    "engine() {\n"
    "\tlocal i\n"
    "\tfor i in \"${!hosts[@]}\"; do\n"
    "\t\tif [ \"${hosts[$i]}\" = \"$1\" ] && [ -n \"$work\" ] && [ -f \"$work/ssh/$i.engine\" ]; "
    "then\n"
    "\t\t\tcat \"$work/ssh/$i.engine\"\n"
    "\t\t\treturn\n"
    "\t\tfi\n"
    "\tdone\n"
    "\techo \"${docker_host[$1]}\"\n"
    "}\n"
    "\n"
    "# on HOST ARGS...: run compose with ARGS against HOST's docker engine\n"
    "on() {\n"
    "\tlocal h=$1\n"
    "\tshift\n"
    "\tdetect_compose\n"
    "\tif ! remote \"$h\"; then\n"
    "\t\t\"${compose_cmd[@]}\" -p \"$project\" -f \"$here/$compose_file\" \"$@\"\n"
    "\telif [ \"${compose_cmd[0]}\" = docker ]; then\n"
    "\t\tdocker -H \"$(engine \"$h\")\" compose -p \"$project\" -f \"$here/$compose_file\" \"$@\"\n"
    "\telse\n"
    "\t\tdocker-compose -H \"$(engine \"$h\")\" -p \"$project\" -f \"$here/$compose_file\" \"$@\"\n"
    "\tfi\n"
    "}\n"
    "\n"
    "# docker_on HOST ARGS...: plain docker against HOST's engine\n"
    "docker_on() {\n"
    "\tlocal h=$1\n"
    "\tshift\n"
    "\tif remote \"$h\"; then docker -H \"$(engine \"$h\")\" \"$@\"; else docker \"$@\"; fi\n"
    "}\n"
    "\n"
    "# A directory of our own: the ssh that docker, docker-compose and this\n"
    "# script run (first on PATH), its connections' sockets, the hosts' output.\n"
    "work=\n"
    "cleanup() {\n"
    "\tlocal h\n"
    "\t[ -n \"$work\" ] || return 0\n"
    "\tif [ -n \"$(find \"$work/ssh\" -type s 2>/dev/null)\" ]; then\n"
    "\t\tfor h in \"${hosts[@]}\"; do\n"
    "\t\t\t[ -n \"${ssh_target[$h]}\" ] || continue\n"
    "\t\t\t\"$real_ssh\" -o \"ControlPath=$work/ssh/%C\" -O exit \"${ssh_target[$h]}\" >/dev/null "
    "2>&1 || true\n"
    "\t\tdone\n"
    "\tfi\n"
    "\trm -rf \"$work\"\n"
    "}\n"
    "real_ssh=\n"
    "# One ssh connection per host, opened once and shared by every docker call\n"
    "# (ControlMaster; VMRUN_SSH_MUX=0 turns it off), and a connect timeout\n"
    "# (VMRUN_SSH_TIMEOUT, default 10 s) so that an unreachable host fails fast.\n"
    "setup_work() {\n"
    "\tlocal timeout=${VMRUN_SSH_TIMEOUT:-10}\n"
    "\t[ -z \"$work\" ] || return 0\n"
    "\t[[ $timeout =~ ^[1-9][0-9]*$ ]] || die \"VMRUN_SSH_TIMEOUT: '$timeout' is not a number of "
    "seconds\"\n"
    "\twork=$(mktemp -d /tmp/vmrun-compose.XXXXXX) || die \"cannot create a temporary directory\"\n"
    "\ttrap cleanup EXIT\n"
    "\tmkdir \"$work/ssh\" \"$work/out\"\n"
    "\treal_ssh=$(command -v ssh) || die \"ssh is not installed\"\n"
    "\t{\n"
    "\t\techo '#!/usr/bin/env bash'\n"
    "\t\tprintf 'exec %q -o ConnectTimeout=%s -o ServerAliveInterval=10 -o ServerAliveCountMax=3' "
    "\\\n"
    "\t\t\t\"$real_ssh\" \"$timeout\"\n"
    "\t\tif [ \"${VMRUN_SSH_MUX:-1}\" != 0 ]; then\n"
    "\t\t\tprintf ' -o ControlMaster=auto -o %q -o ControlPersist=60' "
    "\"ControlPath=$work/ssh/%C\"\n"
    "\t\tfi\n"
    "\t\techo ' \"$@\"'\n"
    "\t} >\"$work/ssh/ssh\"\n"
    "\tchmod 0755 \"$work/ssh/ssh\"\n"
    "\tPATH=$work/ssh:$PATH\n"
    "\texport PATH\n"
    "}\n"
    "\n"
    "# each WHAT FUNC HOST...: FUNC HOST for every HOST, all at once\n"
    "# (VMRUN_COMPOSE_JOBS=1: one after the other), their output on stderr with\n"
    "# each line prefixed by the host.  When one fails, the first in host order\n"
    "# stops compose.sh with its last line; nothing after this step starts.\n"
    "each() {\n"
    "\tlocal what=$1 fn=$2 h i rc line t0=$EPOCHREALTIME\n"
    "\tlocal -a pids=() hs\n"
    "\tshift 2\n"
    "\ths=(\"$@\")\n"
    "\tsetup_work\n"
    "\tfor i in \"${!hs[@]}\"; do\n"
    "\t\th=${hs[$i]}\n"
    "\t\tsay \"host '$h': $what\"\n"
    "\t\t{\n"
    "\t\t\tif \"$fn\" \"$h\" </dev/null 2>&1; then rc=0; else rc=$?; fi\n"
    "\t\t\techo \"$rc\" >\"$work/out/$i.rc\"\n"
    "\t\t} | while IFS= read -r line; do\n"
    "\t\t\tprintf '%s\\n' \"$line\" >>\"$work/out/$i.log\"\n"
    "\t\t\tprintf '%s: %s\\n' \"$h\" \"$line\" >&2\n"
    "\t\tdone &\n"
    "\t\tpids+=($!)\n"
    "\t\tif [ \"${VMRUN_COMPOSE_JOBS:-0}\" = 1 ]; then\n"
    "\t\t\twait \"${pids[$i]}\"\n"
    "\t\t\t[ \"$(cat \"$work/out/$i.rc\")\" = 0 ] || break\n"
    "\t\tfi\n"
    "\tdone\n"
    "\twait \"${pids[@]}\" || true\n"
    "\tfor i in \"${!pids[@]}\"; do\n"
    "\t\th=${hs[$i]}\n"
    "\t\trc=$(cat \"$work/out/$i.rc\")\n"
    "\t\tif [ \"$rc\" != 0 ]; then\n"
    "\t\t\tline=$(grep -v '^[[:space:]]*$' \"$work/out/$i.log\" 2>/dev/null | tail -1 || true)\n"
    "\t\t\tdie \"host '$h': $what failed (exit status $rc)${line:+: $line}\"\n"
    "\t\tfi\n"
    "\t\trm -f \"$work/out/$i.rc\" \"$work/out/$i.log\"\n"
    "\tdone\n"
    "\tsay \"$what: done on ${#hs[@]} host(s) in $(elapsed \"$t0\")\"\n"
    "}\n"
    "\n"
    "# elapsed SINCE: seconds since SINCE ($EPOCHREALTIME), one decimal\n"
    "elapsed() {\n"
    "\tlocal ms=$(((${EPOCHREALTIME//[.,]/} - ${1//[.,]/}) / 1000))\n"
    "\tprintf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100))\n"
    "}\n"
    "\n"
    "remote_hosts() {\n"
    "\tlocal h\n"
    "\tfor h in \"${hosts[@]}\"; do remote \"$h\" && echo \"$h\"; done\n"
    "\treturn 0\n"
    "}\n"
    "\n"
    "# reach HOST: ssh to HOST (ssh's own error when that fails), leaving the\n"
    "# connection open for everything after; through it, a socket here is\n"
    "# forwarded to the engine that `docker` on HOST uses, so every docker call is\n"
    "# one more channel of that connection: no new ssh, no remote shell or docker\n"
    "# process, no ssh session (sshd's MaxSessions), and docker-compose 1.29\n"
    "# needs no paramiko.  Without a shared connection, or when HOST's engine is\n"
    "# not a unix socket, docker calls go to ssh://ADDRESS.\n"
    "reach() {\n"
    "\tlocal h=$1 i out rc sock\n"
    "\tremote \"$h\" || return 0\n"
    "\tfor i in \"${!hosts[@]}\"; do [ \"${hosts[$i]}\" != \"$h\" ] || break; done\n"
    "\t[ ! -f \"$work/ssh/$i.engine\" ] || return 0\n"
    "\tout=$(ssh \"${ssh_target[$h]}\" \"docker context inspect --format "
    "'{{.Endpoints.docker.Host}}'\" 2>&1) && rc=0 || rc=$?\n"
    "\tif [ \"$rc\" = 255 ]; then\n"
    "\t\tout=${out%$'\\n'}\n"
    "\t\techo \"ssh ${ssh_target[$h]}: ${out//$'\\n'/; }\"\n"
    "\t\treturn 1\n"
    "\tfi\n"
    "\tout=${out##*$'\\n'}\n"
    "\tif [ \"${VMRUN_SSH_MUX:-1}\" = 0 ] || [ \"$rc\" != 0 ] || [[ $out != unix:///* ]]; then\n"
    "\t\treturn 0\n"
    "\tfi\n"
    "\tsock=$work/ssh/$i.sock\n"
    "\tif ssh -O forward -L \"$sock:${out#unix://}\" \"${ssh_target[$h]}\" >/dev/null 2>&1; then\n"
    "\t\techo \"unix://$sock\" >\"$work/ssh/$i.engine\"\n"
    "\tfi\n"
    "}\n"
    "\n"
    "# ready HOST: the host answers, and its engine has the image\n"
    "ready() {\n"
    "\tlocal h=$1 err\n"
    "\treach \"$h\" || return 1\n"
    "\tif ! err=$(docker_on \"$h\" image inspect -f '{{.Id}}' \"$image\" 2>&1 >/dev/null); then\n"
    "\t\tcase $err in\n"
    "\t\t*\"No such image\"* | *\"no such image\"*)\n"
    "\t\t\techo \"image '$image' is missing on host '$h': run ./compose.sh build (and upload)\"\n"
    "\t\t\t;;\n"
    "\t\t*) echo \"docker: ${err:-failed}\" ;;\n"
    "\t\tesac\n"
    "\t\treturn 1\n"
    "\tfi\n"
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
    "# ship HOST: the image (when its id differs) and this directory to HOST\n"
    "ship() {\n"
    "\tlocal h=$1 rid dir\n"
    "\treach \"$h\" || return 1\n"
    "\trid=$(docker_on \"$h\" image inspect -f '{{.Id}}' \"$image\" 2>/dev/null || true)\n"
    "\tif [ \"$rid\" != \"$image_id\" ]; then\n"
    "\t\techo \"shipping image '$image'\"\n"
    "\t\tdocker save \"$image\" | docker_on \"$h\" load || return 1\n"
    "\tfi\n"
    "\t# bind mounts are resolved on each host: the context must be at the same path there\n"
    "\techo \"copying $here\"\n"
    "\tdir=$(printf '%q' \"$here\")\n"
    "\t# $dir is quoted for the remote shell by printf %q\n"
    "\t# shellcheck disable=SC2029\n"
    "\ttar -C \"$here\" -cf - compose.yml compose.v1.yml compose.sh topology.yaml |\n"
    "\t\tssh \"${ssh_target[$h]}\" \"mkdir -p $dir && tar -C $dir -xf -\"\n"
    "}\n"
    "\n"
    "image_id=\n"
    "cmd_upload() {\n"
    "\tlocal -a targets\n"
    "\t[ $# -eq 0 ] || die \"upload: takes no arguments\"\n"
    "\timage_id=$(docker image inspect -f '{{.Id}}' \"$image\") ||\n"
    "\t\tdie \"image '$image' is missing here: run ./compose.sh build first\"\n"
    "\tmapfile -t targets < <(remote_hosts)\n"
    "\t[ ${#targets[@]} -gt 0 ] || return 0\n"
    "\teach \"upload\" ship \"${targets[@]}\"\n"
    "}\n"
    "\n"
    "up_host() { on \"$1\" up -d \"${host_service[$1]}\"; }\n"
    "up_guests() {\n"
    "\tlocal -a svcs\n"
    "\tread -ra svcs <<<\"${guests[$1]}\"\n"
    "\ton \"$1\" up -d \"${svcs[@]}\"\n"
    "}\n"
    "stop_guests() {\n"
    "\tlocal -a svcs\n"
    "\treach \"$1\" || return 1\n"
    "\tread -ra svcs <<<\"${guests[$1]}\"\n"
    "\ton \"$1\" stop \"${svcs[@]}\"\n"
    "}\n"
    "down_host() { reach \"$1\" && on \"$1\" down \"${down_opts[@]}\"; }\n"
    "\n"
    "with_guests() {\n"
    "\tlocal h\n"
    "\tfor h in \"${hosts[@]}\"; do [ -z \"${guests[$h]}\" ] || echo \"$h\"; done\n"
    "}\n"
    "\n"
    "cmd_up() {\n"
    "\tlocal -a gh\n"
    "\t[ $# -eq 0 ] || die \"up: takes no arguments\"\n"
    "\tdetect_compose\n"
    "\teach \"checking ssh and the image\" ready \"${hosts[@]}\"\n"
    "\teach \"starting its host service\" up_host \"${hosts[@]}\"\n"
    "\t# each guest waits for its host service to be healthy and its prep job to finish\n"
    "\tmapfile -t gh < <(with_guests)\n"
    "\t[ ${#gh[@]} -eq 0 ] || each \"starting its guests\" up_guests \"${gh[@]}\"\n"
    "}\n"
    "\n"
    "down_opts=(--remove-orphans)\n"
    "cmd_down() {\n"
    "\tlocal arg\n"
    "\tlocal -a gh\n"
    "\tfor arg in \"$@\"; do\n"
    "\t\tcase $arg in\n"
    "\t\t-v | --volumes) down_opts+=(--volumes) ;;\n"
    "\t\t*) die \"down: unknown option '$arg'\" ;;\n"
    "\t\tesac\n"
    "\tdone\n"
    "\tdetect_compose\n"
    "\t# every guest stops before any host service undoes the ctrlif or the VFs\n"
    "\tmapfile -t gh < <(with_guests)\n"
    "\t[ ${#gh[@]} -eq 0 ] || each \"stopping its guests\" stop_guests \"${gh[@]}\"\n"
    "\teach \"removing its containers\" down_host \"${hosts[@]}\"\n"
    "}\n"
    "\n"
    "# list HOST: the project's containers on HOST, \"SERVICE<tab>STATUS\" lines\n"
    "list() {\n"
    "\treach \"$1\" || return 1\n"
    "\tdocker_on \"$1\" ps -a --filter \"label=com.docker.compose.project=$project\" \\\n"
    "\t\t--format '{{.Label \"com.docker.compose.service\"}}\t{{.Status}}'\n"
    "}\n"
    "\n"
    "# ps: one table of every host's service and guests, whatever their state\n"
    "cmd_ps() {\n"
    "\tlocal h i s st rc=0 w=4 t0=$EPOCHREALTIME\n"
    "\tlocal -a pids=() rows=() svcs\n"
    "\t[ $# -eq 0 ] || die \"ps: takes no arguments\"\n"
    "\tsetup_work\n"
    "\tfor i in \"${!hosts[@]}\"; do\n"
    "\t\tlist \"${hosts[$i]}\" >\"$work/out/$i.ps\" 2>&1 </dev/null &\n"
    "\t\tpids+=($!)\n"
    "\tdone\n"
    "\tfor i in \"${!hosts[@]}\"; do\n"
    "\t\th=${hosts[$i]}\n"
    "\t\t[ ${#h} -le \"$w\" ] || w=${#h}\n"
    "\t\tif ! wait \"${pids[$i]}\"; then\n"
    "\t\t\trows+=(\"$h\" \"-\" \"unreachable: $(tail -1 \"$work/out/$i.ps\")\")\n"
    "\t\t\trc=1\n"
    "\t\t\tcontinue\n"
    "\t\tfi\n"
    "\t\tread -ra svcs <<<\"${host_service[$h]} ${guests[$h]}\"\n"
    "\t\tfor s in \"${svcs[@]}\"; do\n"
    "\t\t\tst=$(awk -F '\\t' -v s=\"$s\" '$1 == s { print $2; exit }' \"$work/out/$i.ps\")\n"
    "\t\t\trows+=(\"$h\" \"$s\" \"${st:-not created}\")\n"
    "\t\tdone\n"
    "\tdone\n"
    "\tprintf '%-*s  %-20s  %s\\n' \"$w\" HOST SERVICE STATUS\n"
    "\tfor ((i = 0; i < ${#rows[@]}; i += 3)); do\n"
    "\t\tprintf '%-*s  %-20s  %s\\n' \"$w\" \"${rows[$i]}\" \"${rows[$((i + 1))]}\" \"${rows[$((i "
    "+ 2))]}\"\n"
    "\tdone\n"
    "\tsay \"ps: ${#hosts[@]} host(s) in $(elapsed \"$t0\")\"\n"
    "\treturn $rc\n"
    "}\n"
    "\n"
    "cmd_logs() {\n"
    "\tlocal h g\n"
    "\tdetect_compose\n"
    "\tif [ $# -gt 0 ] && [ -n \"${guest_host[$1]:-}\" ]; then\n"
    "\t\tg=$1\n"
    "\t\tshift\n"
    "\t\tsetup_work\n"
    "\t\treach \"${guest_host[$g]}\" || die \"host '${guest_host[$g]}': cannot reach it\"\n"
    "\t\ton \"${guest_host[$g]}\" logs \"$@\" \"vm_$g\"\n"
    "\t\treturn\n"
    "\tfi\n"
    "\tsetup_work\n"
    "\tfor h in \"${hosts[@]}\"; do\n"
    "\t\treach \"$h\" || die \"host '$h': cannot reach it\"\n"
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
    "\tcase $cmd in build | ssh) ;; *) check_this_host ;; esac\n"
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

	vmr_buf_adds(
	    out, "# physical hosts, the one compose.sh runs on by default (default_host) first;\n"
		 "# docker_host is empty for the implicit local machine\nhosts=(");
	for (size_t i = 0; i < l.nhosts; i++) {
		if (i)
			vmr_buf_addc(out, ' ');
		add_quoted(out, l.hosts[i].name);
	}
	vmr_buf_adds(out, ")\ndefault_host=");
	add_quoted(out, l.nhosts && l.hosts[0].local ? l.hosts[0].name : "none");
	vmr_buf_adds(out, "\n");
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
