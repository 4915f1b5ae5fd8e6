#!/usr/bin/env bash
# `make demo`: boot the two guests of examples/demo.yaml under their own
# supervisors, show their consoles, let a ping b over macvtap, stop both
# gracefully.  Everything happens inside a network namespace this script
# creates (a veth pair vmrdemo0 <-> vmrdemo1 as the macvtap parents), so no
# interface of the host is touched; the namespace, the supervisors and the
# state directory are removed on every way out.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
VMRUN=$PWD/$BUILD/vmrun
TOPO=$PWD/examples/demo.yaml
NS=vmrdemo-$$
STATE=$(mktemp -d /tmp/vmrdemo.XXXXXX)
declare -A SUP=()
status=1

if [ -t 2 ]; then
	say() { printf '\033[1mdemo: %s\033[0m\n' "$*" >&2; }
else
	say() { printf 'demo: %s\n' "$*" >&2; }
fi

cleanup() {
	local g
	for g in "${!SUP[@]}"; do
		kill -TERM "${SUP[$g]}" 2>/dev/null
	done
	for g in "${!SUP[@]}"; do
		# a second TERM skips the ACPI wait; KILL if even that hangs
		timeout 15 tail --pid="${SUP[$g]}" -f /dev/null 2>/dev/null ||
			kill -KILL "${SUP[$g]}" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$STATE"
	exit "$status"
}
trap cleanup EXIT
trap 'say "interrupted"; exit' INT TERM

if [ "$(id -u)" -ne 0 ]; then
	say "needs root (network namespace, macvtap)"
	exit
fi
for f in "$VMRUN" "$BUILD/testguest/vmlinuz" "$BUILD/testguest/initrd.img"; do
	if [ ! -e "$f" ]; then
		say "missing $f: run 'make all testguest' (make demo does)"
		exit
	fi
done

say "network namespace $NS with a veth pair vmrdemo0 <-> vmrdemo1"
ip netns add "$NS" || exit
ip -n "$NS" link set lo up
ip -n "$NS" link add vmrdemo0 type veth peer name vmrdemo1
ip -n "$NS" link set vmrdemo0 up
ip -n "$NS" link set vmrdemo1 up

# start GUEST: one supervisor, console lines prefixed with the guest name
start() {
	local g=$1
	ip netns exec "$NS" "$VMRUN" --state-dir "$STATE" run "$TOPO" "$g" \
		> >(sed -u "s/^/[$g] /") 2> >(sed -u "s/^/[$g] /" >&2) &
	SUP[$g]=$!
}

say "starting guests b and a (vmrun run examples/demo.yaml GUEST)"
start b
start a
for g in a b; do
	for ((i = 0; i < 1200; i++)); do
		[ -e "$STATE/$g/ready" ] && grep -q '"state": "running"' "$STATE/$g/status.json" 2>/dev/null && break
		if ! kill -0 "${SUP[$g]}" 2>/dev/null; then
			wait "${SUP[$g]}"
			say "supervisor of $g exited with status $? before the guest ran"
			unset "SUP[$g]"
			exit
		fi
		sleep 0.1
	done
done

say "both guests run; their state:"
for g in a b; do
	python3 - "$STATE/$g/status.json" <<'EOF' >&2
import json, sys
s = json.load(open(sys.argv[1]))
pins = ", ".join("vCPU %d thread %d -> CPU %d" % (v["index"], v["thread"], v["cpu"]) for v in s["vcpus"])
nics = ", ".join("%s %s on %s" % (n["name"], n["mac"], n["ifname"]) for n in s["nics"])
print("  %s: qemu pid %d, %s; %s" % (s["guest"], s["qemu_pid"], pins, nics))
EOF
done
ip -n "$NS" -br link show type macvtap | sed 's/^/  /' >&2

say "waiting for a to ping b (10.199.0.10 -> 10.199.0.11)"
result=timeout
for ((i = 0; i < 1200; i++)); do
	if grep -q "vmrun-testguest: ping 10.199.0.11 ok" "$STATE/a/console.log" 2>/dev/null; then
		result=ok
		break
	fi
	if grep -q "vmrun-testguest: ping 10.199.0.11 failed" "$STATE/a/console.log" 2>/dev/null; then
		result=failed
		break
	fi
	sleep 0.1
done
say "ping: $result"

say "stopping both guests (SIGTERM: ACPI power button, then teardown)"
rcs=()
for g in a b; do
	kill -TERM "${SUP[$g]}"
done
for g in a b; do
	wait "${SUP[$g]}"
	rc=$?
	unset "SUP[$g]"
	rcs+=("$g=$rc")
done
say "supervisors exited: ${rcs[*]} (0: the guest powered off)"
left=$(ip -n "$NS" -br link show type macvtap | wc -l)
say "macvtap interfaces left in $NS: $left"
if [ "$result" = ok ] && [ "${rcs[*]}" = "a=0 b=0" ] && [ "$left" -eq 0 ]; then
	say "demo done"
	status=0
fi
