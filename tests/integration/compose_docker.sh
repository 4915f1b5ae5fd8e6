#!/usr/bin/env bash
# The real container run of issue 6: two test guests, each in its own
# container with vmrun as PID 1, on macvtaps over a veth pair this test
# creates, started and stopped with the generated compose.sh.
#
#   - dockerd is started in the background when none runs (and stopped at
#     the end); with --bridge=none and no iptables rules, since every
#     container here uses the host network or none;
#   - the base image debian:bookworm-slim is built locally with debootstrap
#     when missing (Docker Hub is unreachable) and kept;
#   - the vmrun image is built from this source tree with the generated
#     Dockerfile (compose.sh build);
#   - network_mode host puts the macvtaps in the host's namespace, so the
#     veth pair is uniquely named (vmrt<pid>a/b), carries no address, and is
#     deleted at the end; no existing interface is touched.
#
# Skipped, with the reason, only where dockerd cannot start or the tools are
# missing.  Needs root.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
BUILD=${BUILD:-build}
VMRUN=${VMRUN:-$top/$BUILD/vmrun}
TESTGUEST=${TESTGUEST:-$top/$BUILD/testguest}
[ -f "$TESTGUEST/vmlinuz" ] || [ ! -f "$top/build/testguest/vmlinuz" ] || TESTGUEST=$top/build/testguest
base_image=debian:bookworm-slim
image=vmrun-test:latest

id=$$
veth_a=vmrt${id}a veth_b=vmrt${id}b
ga=ct${id}a gb=ct${id}b
ip_a=10.199.$((id % 250)).10 ip_b=10.199.$((id % 250)).11
mac_a=52:54:00:c0:$(printf '%02x:%02x' $((id / 256 % 256)) $((id % 256)))
mac_b=52:54:00:c1:$(printf '%02x:%02x' $((id / 256 % 256)) $((id % 256)))
work=$(mktemp -d /tmp/vmrt-compose-e2e.XXXXXX)
ctx=$work/ctx${id}
project=ctx${id}
state=$work/state
started_dockerd=0
dockerd_pid=
upped=0

skip_all() {
	skip "$1" "compose end-to-end run"
	done_testing
	rm -rf "$work"
	exit 0
}

cleanup() {
	set +e
	if [ "$upped" = 1 ]; then
		{
			"$ctx/compose.sh" down -v
			docker ps -aq --filter "label=com.docker.compose.project=$project" | xargs -r docker rm -f
			docker volume ls -q --filter "label=com.docker.compose.project=$project" |
				xargs -r docker volume rm
		} >/dev/null 2>&1
	fi
	ip link del "$veth_a" 2>/dev/null
	# images this run left untagged (the previous vmrun-test, the build stage)
	if [ -f "$work/dangling.before" ]; then
		docker images -q --no-trunc -f dangling=true 2>/dev/null | sort |
			comm -13 "$work/dangling.before" - | xargs -r docker rmi >/dev/null 2>&1
	fi
	if [ "$started_dockerd" = 1 ]; then
		# our own dockerd only, by its pid; it stops the containerd it started
		kill "$dockerd_pid" 2>/dev/null
		for _ in $(seq 100); do [ -e "/proc/$dockerd_pid" ] || break; sleep 0.2; done
	fi
	rm -rf "$work"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || skip_all "needs root"
for tool in dockerd docker debootstrap ip; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed (make deps)"
done
[ -x "$VMRUN" ] || skip_all "$VMRUN is not built"

# ---- the docker engine ----
if ! docker info >/dev/null 2>&1; then
	dockerd --bridge=none --iptables=false --ip6tables=false \
		--pidfile "$work/dockerd.pid" >"$work/dockerd.log" 2>&1 &
	dockerd_pid=$!
	started_dockerd=1
	for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
	if ! docker info >/dev/null 2>&1; then
		tail -5 "$work/dockerd.log" | sed 's/^/# /'
		skip_all "dockerd does not start here"
	fi
fi
ok 0 "a docker engine answers"

# ---- images ----
if ! docker image inspect "$base_image" >/dev/null 2>&1; then
	diag "building $base_image with debootstrap (once; the image is kept)"
	root=$work/rootfs
	if debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 &&
		tar -C "$root" -c . | docker import - "$base_image" >/dev/null; then
		ok 0 "base image $base_image built with debootstrap"
	else
		tail -5 "$work/debootstrap.log" | sed 's/^/# /'
		ok 1 "base image $base_image built with debootstrap"
		done_testing
		exit 1
	fi
	rm -rf "$root"
else
	ok 0 "base image $base_image is present"
fi

if [ ! -f "$TESTGUEST/vmlinuz" ] || [ ! -f "$TESTGUEST/initrd.img" ]; then
	make -s BUILD="$BUILD" testguest >"$work/testguest.log" 2>&1
fi
[ -f "$TESTGUEST/vmlinuz" ] && [ -f "$TESTGUEST/initrd.img" ]
ok $? "the test guest is built" || { done_testing; exit 1; }

# ---- the network: a veth pair in the host namespace, no addresses ----
ip link add "$veth_a" type veth peer name "$veth_b" &&
	ip link set "$veth_a" up && ip link set "$veth_b" up
ok $? "veth pair $veth_a/$veth_b created" || { done_testing; exit 1; }

# ---- the compose context ----
cat >"$work/topology.yaml" <<EOF
# compose_docker.sh: two test guests pinging each other over macvtaps
version: 1
defaults:
  accel: tcg
  memory: 256M
  kernel: $TESTGUEST/vmlinuz
  initrd: $TESTGUEST/initrd.img
  stop_timeout: 5
guests:
  $ga:
    cpuset: "0"
    append: console=ttyS0 quiet vmrun.ip=$mac_a,$ip_a/24 vmrun.ping=$ip_b
    nics:
      - {name: eth0, mac: "$mac_a", ip: $ip_a/24, macvtap: $veth_a}
  $gb:
    cpuset: "1"
    append: console=ttyS0 quiet vmrun.ip=$mac_b,$ip_b/24 vmrun.ping=$ip_a
    nics:
      - {name: eth0, mac: "$mac_b", ip: $ip_b/24, macvtap: $veth_b}
EOF
# a private state directory: nothing shared with other runs in /run/vmrun
"$VMRUN" --state-dir "$state" compose "$work/topology.yaml" -o "$ctx" --image "$image" --source "$top" >"$work/compose.log" 2>&1
ok $? "vmrun compose writes the context" || { sed 's/^/# /' "$work/compose.log"; done_testing; exit 1; }

docker images -q --no-trunc -f dangling=true | sort >"$work/dangling.before"
"$ctx/compose.sh" build >"$work/build.log" 2>&1
if ! ok $? "compose.sh build: the vmrun image from this source tree"; then
	tail -20 "$work/build.log" | sed 's/^/# /'
	[ "$started_dockerd" = 1 ] && tail -20 "$work/dockerd.log" | sed 's/^/# dockerd: /'
	done_testing
	exit 1
fi

upped=1
"$ctx/compose.sh" up >"$work/up.log" 2>&1
ok $? "compose.sh up" || tail -20 "$work/up.log" | sed 's/^/# /'

cid() { docker ps -aq --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$1"; }
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$(cid "$1")" 2>/dev/null; }
running() { [ "$(docker inspect -f '{{.State.Running}}' "$(cid "$1")" 2>/dev/null)" = true ]; }

# the healthcheck turns healthy once the guest runs pinned (a bounded wait, not a timing check)
for svc in "vm_$ga" "vm_$gb"; do
	for _ in $(seq 120); do
		[ "$(health "$svc")" = healthy ] || ! running "$svc" && break
		sleep 1
	done
	status=$(health "$svc")
	is "$status" healthy "$svc: healthcheck healthy"
	[ "$status" = healthy ] || docker logs --tail 15 "$(cid "$svc")" 2>&1 | sed 's/^/#   /'
done

for g in "$ga" "$gb"; do
	c=$(cid "vm_$g")
	is "$(docker inspect -f '{{.Path}} {{join .Args " "}}' "$c" 2>/dev/null)" \
		"vmrun run /vmrun/topology.yaml $g" "vm_$g: vmrun is the container's process"
	pid=$(docker inspect -f '{{.State.Pid}}' "$c" 2>/dev/null)
	nspid=$(awk '/^NSpid:/ {print $NF}' "/proc/$pid/status" 2>/dev/null)
	is "$nspid:$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -d' ' -f1-2)" "1:vmrun run" \
		"vm_$g: vmrun is PID 1 in its container"
	docker top "$c" -o pid,ppid,args 2>/dev/null |
		awk -v p="$pid" '$2 == p && $3 ~ /qemu-system-x86_64/ { found = 1 } END { exit !found }'
	ok $? "vm_$g: QEMU runs as vmrun's child in the container"
done

wait_console() { # GUEST PATTERN: the console log (in the host state dir) shows PATTERN
	for _ in $(seq 120); do
		grep -q "$2" "$state/$1/console.log" 2>/dev/null && return 0
		running "vm_$1" || break
		sleep 1
	done
	grep -q "$2" "$state/$1/console.log" 2>/dev/null
}
wait_console "$ga" 'vmrun-testguest: booted'
ok $? "$ga boots inside its container"
wait_console "$gb" 'vmrun-testguest: booted'
ok $? "$gb boots inside its container"
wait_console "$ga" "vmrun-testguest: ping $ip_b ok"
ok $? "$ga pings $gb over the macvtaps"
wait_console "$gb" "vmrun-testguest: ping $ip_a ok"
ok $? "$gb pings $ga"

ifa=vm-$(echo "$mac_a" | tr -d :) ifb=vm-$(echo "$mac_b" | tr -d :)
ip link show "$ifa" >/dev/null 2>&1 && ip link show "$ifb" >/dev/null 2>&1
ok $? "the macvtaps $ifa and $ifb exist while the guests run"

# docker stop: SIGTERM to vmrun -> ACPI power button -> the guest powers off -> exit 0
cb=$(cid "vm_$gb")
docker stop "$cb" >/dev/null 2>&1
is "$(docker inspect -f '{{.State.ExitCode}}' "$cb" 2>/dev/null)" 0 "docker stop vm_$gb: the container exits 0"
grep -q 'vmrun-testguest: powering off' "$state/$gb/console.log" 2>/dev/null
ok $? "docker stop vm_$gb: the guest powered off through ACPI"
ip link show "$ifb" >/dev/null 2>&1
ok $((!$?)) "docker stop vm_$gb: its macvtap is gone"

"$ctx/compose.sh" down -v >"$work/down.log" 2>&1
ok $? "compose.sh down -v" || tail -20 "$work/down.log" | sed 's/^/# /'
upped=0
is "$(docker ps -aq --filter "label=com.docker.compose.project=$project" | wc -l)" 0 \
	"compose.sh down: no container left"
is "$(docker volume ls -q --filter "label=com.docker.compose.project=$project" | wc -l)" 0 \
	"compose.sh down -v: no volume left"
ip link show "$ifa" >/dev/null 2>&1 || ip link show "$ifb" >/dev/null 2>&1
ok $((!$?)) "compose.sh down: no macvtap left"
is "$(find "$state/$ga" "$state/$gb" -type c 2>/dev/null | wc -l)" 0 "compose.sh down: no tap node left"
ip link show "$veth_a" >/dev/null 2>&1
ok $? "the test's own veth pair is untouched until the test removes it"

done_testing
