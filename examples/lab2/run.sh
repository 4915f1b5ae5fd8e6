#!/usr/bin/env bash
# `make lab2`: a multi-host lab on one machine.  Starts the two-host bed
# (examples/lab2/bed.sh: two network namespaces, each with its own dockerd
# and sshd), converts 5gdeploy's README lab with `vmrun define`
# (examples/lab2/topology.sh: a on h1, b and c on h2, the test guest under
# TCG), and deploys it with the generated compose.sh from this machine's
# namespace, as from a workstation: build, upload, up, ps, then down.
# With a terminal it waits for Enter before down, so the lab can be looked
# at (the commands are printed).  Everything is removed on every way out.
#
#   LAB2_DIR=/tmp/lab2 examples/lab2/run.sh    the bed there (must not exist)
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
BUILD=${BUILD:-build}
VMRUN=$top/$BUILD/vmrun
BED=${LAB2_DIR:-$(mktemp -u /tmp/vmrlab2.XXXXXX)}
base_cache=${XDG_CACHE_HOME:-$HOME/.cache}/vmrun/lab2/bookworm-minbase.tar
status=1

exec 2>&1
if [ -t 1 ]; then bold=$'\033[1m' reset=$'\033[0m'; else bold="" reset=""; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
say() { printf '    %s\n' "$*"; }

cleanup() {
	step "tearing the bed down"
	if [ -x "$BED/ctx/compose.sh" ] && [ -f "$BED/env" ]; then
		# shellcheck source=/dev/null
		(. "$BED/env" && VMRUN_COMPOSE_HOST=none "$BED/ctx/compose.sh" down -v >/dev/null 2>&1)
	fi
	examples/lab2/bed.sh stop "$BED"
	exit "$status"
}
trap cleanup EXIT
trap 'say "interrupted"; exit' INT TERM

if [ "$(id -u)" -ne 0 ]; then
	say "lab2 needs root (network namespaces, dockerd, sshd)"
	exit
fi
for f in "$VMRUN" "$BUILD/testguest/vmlinuz"; do
	[ -e "$f" ] || {
		say "$f is missing: make all testguest"
		exit
	}
done

step "the bed: hosts h1 (10.213.0.1) and h2 (10.213.0.2) in $BED"
examples/lab2/bed.sh start "$BED" || exit
# shellcheck source=/dev/null
. "$BED/env"
export VMRUN_COMPOSE_HOST=none
say "each host: a network namespace with its own dockerd and sshd; ssh config: $BED/ssh_config"

step "the lab: vmrun define (5gdeploy's README), then vmrun compose"
examples/lab2/topology.sh "$BED/lab.yaml" "$VMRUN" "$BUILD/testguest" || exit
"$VMRUN" compose "$BED/lab.yaml" -o "$BED/ctx" --source "$top" || exit

step "compose.sh build (the workstation's engine)"
if [ ! -s "$base_cache" ]; then
	say "debootstrap of Debian 12 for the base image (once, kept in $base_cache)"
	mkdir -p "$(dirname "$base_cache")"
	if ! debootstrap --variant=minbase bookworm "$BED/rootfs" http://deb.debian.org/debian \
		>"$BED/debootstrap.log" 2>&1 || ! tar -C "$BED/rootfs" -cf "$base_cache.new" . ||
		! mv "$base_cache.new" "$base_cache"; then
		tail -5 "$BED/debootstrap.log"
		exit
	fi
	rm -rf "$BED/rootfs"
fi
docker import "$base_cache" debian:bookworm-slim >/dev/null || exit
"$BED/ctx/compose.sh" build >"$BED/build.log" 2>&1 || {
	tail -20 "$BED/build.log"
	exit
}
say "built vmrun:latest (log: $BED/build.log)"

step "compose.sh upload: the image and the context to both hosts"
"$BED/ctx/compose.sh" upload || exit
step "compose.sh up"
"$BED/ctx/compose.sh" up || exit

step "waiting for the guests"
for _ in $(seq 300); do
	[ "$("$BED/ctx/compose.sh" ps 2>/dev/null | grep -c '(healthy)')" = 5 ] && break
	sleep 2
done
"$BED/ctx/compose.sh" ps
h1=$(cat "$BED/h1/holder.pid")
for _ in $(seq 300); do
	nsenter -t "$h1" -m grep -q 'ping 172.25.160.1 ok' /run/vmrun/a/console.log 2>/dev/null && break
	sleep 1
done
say "a's console (h1):"
nsenter -t "$h1" -m grep 'vmrun-testguest: ping' /run/vmrun/a/console.log | sed 's/^/      /'

if [ -t 0 ] && [ -t 1 ]; then
	step "the lab is up; in another shell:"
	say ". $BED/env; cd $BED/ctx; export VMRUN_COMPOSE_HOST=none"
	say "./compose.sh ps | logs b | down"
	say "docker -H ssh://10.213.0.2 ps          # h2's engine"
	say "nsenter -t $h1 -m -n $VMRUN console a  # a's console on h1 (Ctrl-] quits)"
	read -r -p "    press Enter to take it down " _
fi
step "compose.sh down"
"$BED/ctx/compose.sh" down -v || exit
status=0
