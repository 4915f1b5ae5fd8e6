#!/usr/bin/env bash
# Multi-host for real (issue 17): 5gdeploy's README lab spread over the two
# hosts of examples/lab2/bed.sh (two network namespaces, each with its own
# dockerd and sshd), deployed with the generated compose.sh from the
# machine's own network namespace as from a workstation, every host over ssh.
#
#   - the topology comes from `vmrun define` (examples/lab2/topology.sh):
#     a on h1 (primary: it holds the ctrlif), b and c on h2, the test guest
#     under TCG;
#   - compose.sh build (the workstation's engine), upload (to both hosts),
#     up: every guest container turns healthy, a pings b and c on n6 (the
#     wire between the namespaces), on vmctrl, and the ctrlif;
#   - `docker -H ssh://H2 stop` of b powers it off through ACPI, exit 0;
#   - compose.sh down: each namespace's links and each engine's containers
#     are as before, the state directories hold nothing live; a second up
#     works and comes down as clean;
#   - an unreachable host (a silent drop) fails up within the ssh timeout
#     with ssh's own error, and nothing starts;
#   - nothing of the machine changes: its links, addresses and routes, and
#     its own dockerd (if one runs) never sees the lab.
#
# Long (an image build, two deployments of three TCG guests): `make
# check-long` or `make check-lab2`, not `make check`.  Skipped, with the reason, when a tool is
# missing or dockerd cannot start here.  LAB2_DIR keeps the bed there.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
BUILD=${BUILD:-build}
VMRUN=${VMRUN:-$top/$BUILD/vmrun}
TESTGUEST=${TESTGUEST:-$top/$BUILD/testguest}
H1=10.213.0.1 H2=10.213.0.2
BED=${LAB2_DIR:-$(mktemp -u /tmp/vmrlab2.XXXXXX)}
CTX=$BED/ctx
image=vmrun-lab2:$$
base_cache=${XDG_CACHE_HOME:-$HOME/.cache}/vmrun/lab2/bookworm-minbase.tar
machine_sock=/var/run/docker.sock

skip_all() {
	skip "$1" "the two-host lab"
	done_testing
	exit 0
}

cleanup() {
	examples/lab2/bed.sh stop "$BED" >/dev/null 2>&1
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || skip_all "needs root"
for tool in dockerd docker docker-compose sshd socat nsenter unshare debootstrap python3; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || skip_all "$tool is not installed (make deps)"
done
python3 -c 'import yaml' 2>/dev/null || skip_all "python3 has no yaml module (make deps)"
[ -x "$VMRUN" ] || skip_all "$VMRUN is not built"
[ -f "$TESTGUEST/vmlinuz" ] || skip_all "the test guest is not built (make testguest)"

machine_state() { # what the lab could leave in the machine's network namespace
	{
		ip -br link
		ip -br addr
		ip route show table all
	} | grep -i -e '10\.213\.' -e '172\.25\.16' -e ' 02:00:00:00:0' -e ' 52:de:ac:19:' -e 'vmctrl' || true
}
machine_before=$(machine_state)
machine_docker=
[ -S "$machine_sock" ] && docker -H "unix://$machine_sock" info >/dev/null 2>&1 && machine_docker=1

examples/lab2/bed.sh start "$BED" >"$BED.start.log" 2>&1
if ! ok $? "the bed: two hosts, each a network namespace with its own dockerd and sshd"; then
	sed 's/^/# /' "$BED.start.log"
	rm -f "$BED.start.log"
	skip_all "the bed does not start here"
fi
rm -f "$BED.start.log"
# shellcheck source=/dev/null
. "$BED/env"
# shellcheck source=/dev/null
. "$BED/bed.env"
export VMRUN_COMPOSE_HOST=none

sock() { echo "unix://$BED/h$1/docker.sock"; }
holder() { cat "$BED/h$1/holder.pid"; }
links() { ip -n "${NS[$(($1 - 1))]}" -br link | awk '{print $1, $3}' | sort; }
containers() { docker -H "$(sock "$1")" ps -aq | sort; }
# live state in host N's state directory: supervisors (vmrun ps), ready
# files, sockets, device nodes, unfinished journals
live() {
	nsenter -t "$(holder "$1")" -m -n "$VMRUN" ps 2>/dev/null | tail -n +2
	nsenter -t "$(holder "$1")" -m find /run/vmrun \( -name ready -o -type s -o -type c -o \
		\( -name journal.jsonl -size +0 \) \) 2>/dev/null | sort
}
baseline() { local n; for n in 1 2; do links "$n"; containers "$n"; live "$n"; done; }

is "$(docker -H "ssh://$H1" info -f '{{.DockerRootDir}}' 2>&1)" "$BED/h1/data" \
	"docker -H ssh://$H1 reaches h1's own engine (dial-stdio through its sshd)"
is "$(docker -H "ssh://$H2" info -f '{{.DockerRootDir}}' 2>&1)" "$BED/h2/data" \
	"docker -H ssh://$H2 reaches h2's own engine"

examples/lab2/topology.sh "$BED/lab.yaml" "$VMRUN" "$TESTGUEST" >"$BED/define.log" 2>&1
ok $? "the README lab from vmrun define, on the bed's hosts, under TCG" || sed 's/^/# /' "$BED/define.log"
grep -q '^  cpu: max$' "$BED/lab.yaml"
ok $? "define --accel tcg writes the TCG model max"
"$VMRUN" compose "$BED/lab.yaml" -o "$CTX" --image "$image" --source "$top" >/dev/null 2>"$BED/compose.err"
ok $? "vmrun compose writes the context" || sed 's/^/# /' "$BED/compose.err"

# ---- the image: built on the workstation's engine, shipped to both hosts ----
if [ ! -s "$base_cache" ]; then
	diag "debootstrap of bookworm (once, kept in $base_cache)"
	mkdir -p "$(dirname "$base_cache")"
	if debootstrap --variant=minbase bookworm "$BED/rootfs" http://deb.debian.org/debian >"$BED/debootstrap.log" 2>&1 &&
		tar -C "$BED/rootfs" -cf "$base_cache.new" . && mv "$base_cache.new" "$base_cache"; then
		:
	else
		tail -5 "$BED/debootstrap.log" | sed 's/^/# /'
	fi
	rm -rf "$BED/rootfs"
fi
docker import "$base_cache" debian:bookworm-slim >/dev/null 2>&1
ok $? "base image debian:bookworm-slim on the workstation's engine" || {
	done_testing
	exit 1
}
"$CTX/compose.sh" build >"$BED/build.log" 2>&1
ok $? "compose.sh build: the image from this source tree" || {
	tail -20 "$BED/build.log" | sed 's/^/# /'
	done_testing
	exit 1
}
"$CTX/compose.sh" upload >"$BED/upload.log" 2>&1
ok $? "compose.sh upload: the image loaded on both hosts" || tail -20 "$BED/upload.log" | sed 's/^/# /'
is "$(docker -H "ssh://$H2" image inspect -f '{{.Id}}' "$image" 2>&1)" "$(docker image inspect -f '{{.Id}}' "$image")" \
	"h2 has the workstation's image"

base=$(baseline)

# ---- up ----
# health HOST SERVICE: the health of the project's SERVICE container on host N
cid() { docker -H "$(sock "$1")" ps -aq --filter "label=com.docker.compose.project=ctx" --filter "label=com.docker.compose.service=$2"; }
health() { docker -H "$(sock "$1")" inspect -f '{{.State.Health.Status}}' "$(cid "$1" "$2")" 2>/dev/null; }
running() { [ "$(docker -H "$(sock "$1")" inspect -f '{{.State.Running}}' "$(cid "$1" "$2")" 2>/dev/null)" = true ]; }
console() { nsenter -t "$(holder "$1")" -m cat "/run/vmrun/$2/console.log" 2>/dev/null; }
wait_healthy() { # N SERVICE
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(health "$1" "$2")" = healthy ] && return 0
		running "$1" "$2" || [ "$i" -lt 30 ] || return 1
		sleep 1
	done
	return 1
}
wait_console() { # N GUEST PATTERN [FAILED]: the console shows PATTERN (not FAILED)
	local i
	for ((i = 0; i < 900; i++)); do
		console "$1" "$2" | grep -q "$3" && return 0
		[ -n "${4:-}" ] && console "$1" "$2" | grep -q "$4" && return 1
		running "$1" "vm_$2" || [ "$i" -lt 30 ] || return 1
		sleep 1
	done
	return 1
}

deploy() { # ROUND
	local r=$1 g n
	"$CTX/compose.sh" up >"$BED/up$r.log" 2>&1
	ok $? "round $r: compose.sh up, from the machine's namespace, every host over ssh" ||
		tail -20 "$BED/up$r.log" | sed 's/^/# /'
	grep '^compose.sh: .*done on' "$BED/up$r.log" | sed 's/^/# /'
	grep -q "^compose.sh: host '$H2': starting its guests" "$BED/up$r.log"
	ok $? "round $r: up says which host it works on"
	for g in a:1 b:2 c:2; do
		n=${g#*:} g=${g%:*}
		wait_healthy "$n" "vm_$g"
		is "$(health "$n" "vm_$g")" healthy "round $r: vm_$g on h$n is healthy"
	done
	is "$(health 1 "host_${H1//./_}")" healthy "round $r: h1's host service (the ctrlif) is healthy"
	ip -n "${NS[0]}" link show vmctrl >/dev/null 2>&1
	ok $? "round $r: vmrun host up made the ctrlif vmctrl on h1"
	"$CTX/compose.sh" ps >"$BED/ps$r.out" 2>"$BED/ps$r.err"
	ok $? "round $r: compose.sh ps"
	is "$(grep -c ' Up .*(healthy)$' "$BED/ps$r.out")" 5 \
		"round $r: ps shows both host services and every guest on every host, healthy" ||
		sed 's/^/# /' "$BED/ps$r.out"
	for ip in 172.25.162.4 172.25.162.5; do
		wait_console 1 a "vmrun-testguest: ping $ip ok" "vmrun-testguest: ping $ip failed"
		ok $? "round $r: a (h1) pings $ip on n6, across the wire to h2"
	done
	for ip in 172.25.160.4 172.25.160.5 172.25.160.1; do
		wait_console 1 a "vmrun-testguest: ping $ip ok" "vmrun-testguest: ping $ip failed"
		ok $? "round $r: a pings $ip on vmctrl"
	done
}

deploy 1
cb=$(cid 2 vm_b)
docker -H "ssh://$H2" stop "$cb" >/dev/null 2>"$BED/stop.err"
ok $? "docker -H ssh://$H2 stop vm_b" || sed 's/^/# /' "$BED/stop.err"
is "$(docker -H "ssh://$H2" inspect -f '{{.State.ExitCode}}' "$cb" 2>&1)" 0 "vm_b exited 0"
console 2 b | grep -q 'vmrun-testguest: powering off'
ok $? "b powered off through ACPI"
docker -H "ssh://$H2" logs "$cb" 2>&1 | grep -q "pressing the ACPI power button"
ok $? "vmrun in vm_b pressed the power button on SIGTERM"
ip -n "${NS[1]}" -br link | grep -q 'vm-52deac19a004'
ok $((!$?)) "b's macvtaps are gone"

down() { # ROUND
	local r=$1
	"$CTX/compose.sh" down >"$BED/down$r.log" 2>&1
	ok $? "round $r: compose.sh down" || tail -20 "$BED/down$r.log" | sed 's/^/# /'
	grep '^compose.sh: .*done on' "$BED/down$r.log" | sed 's/^/# /'
	is "$(baseline)" "$base" \
		"round $r: down: each namespace's links, each engine's containers and the live state as before"
}
down 1
deploy 2
down 2

# ---- an unreachable host: packets to it are dropped without an answer ----
ip -n "${NS[1]}" neigh add 10.213.0.9 lladdr 02:00:00:00:00:99 dev ctl0 nud permanent
printf 'Host 10.213.0.9\n  ProxyCommand nsenter --net=/run/netns/%s socat - TCP:%%h:%%p,connect-timeout=60\n' \
	"${NS[1]}" | cat - "$BED/ssh_config" >"$BED/ssh_config.new" && mv "$BED/ssh_config.new" "$BED/ssh_config"
sed "s/address: $H2/address: 10.213.0.9/" "$BED/lab.yaml" >"$BED/lost.yaml"
"$VMRUN" compose "$BED/lost.yaml" -o "$BED/lost" --image "$image" >/dev/null 2>&1
t0=$(date +%s)
VMRUN_SSH_TIMEOUT=5 "$BED/lost/compose.sh" up >"$BED/lost.log" 2>&1
rc=$? t=$(($(date +%s) - t0))
is "$rc" 1 "a host that drops packets: up fails"
ok $((t >= 30)) "and fails fast: in $t s with VMRUN_SSH_TIMEOUT=5, not after TCP's 63 s"
last=$(tail -1 "$BED/lost.log")
[[ $last == "compose.sh: error: host '$H2': "*"ssh 10.213.0.9: "*"timed out"* ]]
ok $? "the error names the host and is ssh's own" || diag "$last"
is "$(baseline)" "$base" "nothing started anywhere"

# ---- the bed goes, and with it everything ----
examples/lab2/bed.sh stop "$BED"
ok $? "the bed is torn down"
for ns in "${NS[@]}"; do [ ! -e "/run/netns/$ns" ] || echo "$ns"; done | grep -q .
ok $((!$?)) "its namespaces are gone"
is "$(machine_state)" "$machine_before" "the machine's namespace has no link, address or route of the lab"
if [ -n "$machine_docker" ]; then
	docker -H "unix://$machine_sock" image inspect "$image" >/dev/null 2>&1 ||
		[ -n "$(docker -H "unix://$machine_sock" ps -aq --filter label=com.docker.compose.project=ctx --filter "label=vmrun.host=$H1")" ]
	ok $((!$?)) "the machine's own dockerd never saw the lab"
else
	skip "no dockerd of the machine runs" "the machine's own dockerd never saw the lab"
fi
done_testing
