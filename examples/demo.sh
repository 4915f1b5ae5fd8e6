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
T0=$EPOCHREALTIME
declare -A SUP=()
status=1

# one stream, so the headings, consoles and messages stay in order when
# the output is redirected
exec 2>&1
if [ -t 1 ]; then
	bold=$'\033[1m' dim=$'\033[2m' reset=$'\033[0m'
else
	bold="" dim="" reset=""
fi
# step TEXT: a heading; say TEXT: a line under it
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
say() { printf '    %s\n' "$*"; }
# elapsed [SINCE]: seconds since SINCE (default: the start), one decimal
elapsed() {
	local since=${1:-$T0} now=$EPOCHREALTIME
	local ms=$(((${now//[.,]/} - ${since//[.,]/}) / 1000))
	printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100))
}

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
	say "the demo needs root (network namespace, macvtap)"
	exit
fi
for f in "$VMRUN" "$BUILD/testguest/vmlinuz" "$BUILD/testguest/initrd.img"; do
	if [ ! -e "$f" ]; then
		say "missing $f: run 'make all testguest' (make demo does)"
		exit
	fi
done

printf '%svmrun demo: two guests on one link, a pings b, both stop cleanly%s\n' "$bold" "$reset"
say "topology: examples/demo.yaml (test guest kernel, TCG, one macvtap NIC each)"

step "Network: namespace $NS, veth pair vmrdemo0 <-> vmrdemo1"
say "nothing outside this namespace is touched"
ip netns add "$NS" || exit
ip -n "$NS" link set lo up
ip -n "$NS" link add vmrdemo0 type veth peer name vmrdemo1
ip -n "$NS" link set vmrdemo0 up
ip -n "$NS" link set vmrdemo1 up

# start GUEST: one supervisor, its lines prefixed with the guest name
start() {
	local g=$1
	# stderr first: its sed must write to our stdout, not into stdout's sed
	ip netns exec "$NS" "$VMRUN" --state-dir "$STATE" run "$TOPO" "$g" \
		2> >(sed -u "s/^/  [$g] /") > >(sed -u "s/^/  [$g] /") &
	SUP[$g]=$!
}

step "Start: one supervisor per guest (vmrun run examples/demo.yaml a|b)"
say "each makes its macvtap and cloud-init seed, starts QEMU paused, pins the vCPU, continues"
say "console lines follow, prefixed with the guest's name"
t_start=$EPOCHREALTIME
start b
start a
for g in a b; do
	for ((i = 0; i < 1200; i++)); do
		[ -e "$STATE/$g/ready" ] && grep -q '"state": "running"' "$STATE/$g/status.json" 2>/dev/null && break
		if ! kill -0 "${SUP[$g]}" 2>/dev/null; then
			wait "${SUP[$g]}"
			say "the supervisor of $g exited with status $? before the guest ran"
			unset "SUP[$g]"
			exit
		fi
		sleep 0.1
	done
done
t_ready=$(elapsed "$t_start")

step "Running: both guests pinned (after $t_ready)"
for g in a b; do
	python3 - "$STATE/$g/status.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
pins = ", ".join("vCPU %d on CPU %d" % (v["index"], v["cpu"]) for v in s["vcpus"])
nics = ", ".join("%s %s via %s" % (n["name"], n["mac"], n["ifname"]) for n in s["nics"])
print("    %s: qemu pid %d, %s; %s" % (s["guest"], s["qemu_pid"], pins, nics))
EOF
done

step "Boot and ping: a (10.199.0.10) pings b (10.199.0.11)"
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
t_ping=$(elapsed "$t_start")

step "Stop: SIGTERM to both supervisors (ACPI power button, then teardown)"
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

step "Result"
left=$(ip -n "$NS" -br link show type macvtap | wc -l)
journal=$(cat "$STATE"/a/journal.jsonl "$STATE"/b/journal.jsonl 2>/dev/null | wc -l)
if [ "$result" = ok ]; then
	say "ping:       a reached b over macvtap (after $t_ping)"
else
	say "ping:       $result (see the console lines above)"
fi
say "exit:       ${rcs[*]} (0: the guest powered itself off on the power button)"
say "host:       $left macvtap interfaces and $journal undo journal entries left"
if [ "$result" = ok ] && [ "${rcs[*]}" = "a=0 b=0" ] && [ "$left" -eq 0 ] && [ "$journal" -eq 0 ]; then
	status=0
	say "${bold}demo passed${reset} in $(elapsed)"
else
	say "${bold}demo FAILED${reset} after $(elapsed)"
fi
say "${dim}removing the namespace and $STATE${reset}"
