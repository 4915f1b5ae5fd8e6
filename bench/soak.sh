#!/usr/bin/env bash
# Soak: CYCLES rounds of `vmrun up` -> kill -9 (alternating the supervisor and
# QEMU, and which of the two guests) -> `vmrun up` -> `vmrun down`, on two
# test guests (real QEMU, TCG) with a macvtap NIC each, in a network
# namespace of its own.  After every cycle nothing may be left: the
# namespace's links equal its baseline, no journal entry, no supervisor or
# QEMU, every guest "exited".  While the guests run, each supervisor's open
# fds and USS (Private_Clean + Private_Dirty of /proc/PID/smaps_rollup) are
# sampled: both must stay flat across cycles.
#
#   bench/soak.sh [CYCLES]        (default 200; make check-deep runs 50)
#
# Prints one line per failed cycle, then the totals: cycles, failures, the
# largest leftover count found (must be 0), fd and USS ranges.  Exit status
# 0 when every cycle passed and nothing leaked.  Needs root, `make` and
# `make testguest`.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
cycles=${1:-200}
build=${BUILD:-build}
vmrun=${VMRUN:-$top/$build/vmrun}
guest=$top/$build/testguest
[ -f "$guest/vmlinuz" ] || guest=$top/build/testguest
ns=vmrsoak$$
tmp=$(mktemp -d /tmp/vmrt-soak.XXXXXX)
state=$tmp/state

cleanup() {
	ip netns exec "$ns" "$vmrun" --state-dir "$state" down --timeout 0 "$tmp/soak.yaml" >/dev/null 2>&1
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
	echo "soak: needs root (network namespace, macvtap)" >&2
	exit 2
fi
if [ ! -x "$vmrun" ] || [ ! -f "$guest/vmlinuz" ]; then
	echo "soak: build first (make && make testguest)" >&2
	exit 2
fi
if ! why=$("$vmrun" probe macvtap); then
	echo "soak: skipped: ${why#macvtap: no: }" >&2
	exit 77
fi

ip netns add "$ns" || exit 2
ip -n "$ns" link set lo up
ip -n "$ns" link add soak0 type veth peer name soak1
ip -n "$ns" link set soak0 up
ip -n "$ns" link set soak1 up
links() { ip -n "$ns" -o link show | sed 's/^[0-9]*: //; s/[:@].*//' | sort; }
baseline=$(links)

cat >"$tmp/soak.yaml" <<YAML
version: 1
defaults:
  accel: tcg
  memory: 128M
  stop_timeout: 1
  kernel: $guest/vmlinuz
  initrd: $guest/initrd.img
  append: console=ttyS0 quiet
guests:
  a:
    cpuset: "0"
    nics: [{name: n0, macvtap: soak0, mac: "52:54:00:50:00:0a"}]
  b:
    cpuset: "1"
    nics: [{name: n0, macvtap: soak1, mac: "52:54:00:50:00:0b"}]
YAML

v() { ip netns exec "$ns" "$vmrun" --state-dir "$state" "$@"; }
supervisor_pid() { sed -n 1p "$state/$1/lock" 2>/dev/null; }
qemu_pid() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["qemu_pid"] or "")' \
	"$state/$1/status.json" 2>/dev/null; }
uss_kib() {
	awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null
}
nfds() { find "/proc/$1/fd" -mindepth 1 2>/dev/null | wc -l; }

failures=0 worst=0
fd_min=999999 fd_max=0 uss_min=999999999 uss_max=0
uss_samples=()
fd_first=
# fd_targets PID: what its fds point to, one line (socket:[N] -> socket)
fd_targets() {
	local f
	for f in /proc/"$1"/fd/*; do
		printf '%s=%s ' "${f##*/}" "$(readlink "$f" 2>/dev/null | sed -E 's/:\[[0-9]+\]$//')"
	done
}
sample() { # sample CYCLE PID
	local f u
	local k n
	f=$(nfds "$2") u=$(uss_kib "$2")
	[ -n "$f" ] && [ "$f" -gt 0 ] && [ -n "$u" ] || return
	# a control connection `up` just closed stays open until the
	# supervisor's loop reads its end: the count is the least of five
	# readings over half a second (a leaked fd is in every one)
	for ((k = 0; k < 4; k++)); do
		sleep 0.1
		n=$(nfds "$2")
		[ -n "$n" ] && [ "$n" -gt 0 ] && ((n < f)) && f=$n
	done
	# a count other than the first sample's: say which fds, once per count
	if [ -z "$fd_first" ]; then
		fd_first=$f
		echo "soak: cycle $1: a supervisor's fds: $(fd_targets "$2")"
	elif [ "$f" != "$fd_first" ] && ((f < fd_min || f > fd_max)); then
		echo "soak: cycle $1: a supervisor with $f fds: $(fd_targets "$2")"
	fi
	uss_samples+=("$u")
	((f < fd_min)) && fd_min=$f
	((f > fd_max)) && fd_max=$f
	((u < uss_min)) && uss_min=$u
	((u > uss_max)) && uss_max=$u
}
fail() { # fail CYCLE WHAT
	failures=$((failures + 1))
	echo "cycle $1: $2"
}

start=$(date +%s)
for ((i = 1; i <= cycles; i++)); do
	if ! v up "$tmp/soak.yaml" >"$tmp/up1.log" 2>&1; then
		fail "$i" "first up failed: $(tail -1 "$tmp/up1.log")"
	fi
	# alternate: the supervisor or QEMU, of a or of b
	victim=a
	((i % 4 >= 2)) && victim=b
	if ((i % 2)); then
		pid=$(supervisor_pid "$victim") what="supervisor"
	else
		pid=$(qemu_pid "$victim") what="QEMU"
	fi
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	if ! v up "$tmp/soak.yaml" >"$tmp/up2.log" 2>&1; then
		fail "$i" "up after kill -9 of $victim's $what failed: $(grep error "$tmp/up2.log" | head -1)"
	fi
	for g in a b; do
		p=$(supervisor_pid "$g")
		[ -n "$p" ] && [ -d "/proc/$p" ] && sample "$i" "$p"
		[ -n "${SOAK_DEBUG:-}" ] && echo "cycle $i $g pid $p fds $(nfds "$p") uss $(uss_kib "$p") $(cat $state/$g/status.json 2>/dev/null | grep -o "\"state\": \"[a-z]*\"")"
	done
	if ! v down --timeout 0 "$tmp/soak.yaml" >"$tmp/down.log" 2>&1; then
		fail "$i" "down failed: $(grep error "$tmp/down.log" | head -1)"
	fi
	# what is left: links, journal entries, processes
	left=0
	extra=$(comm -13 <(echo "$baseline") <(links))
	[ -n "$extra" ] && left=$((left + $(wc -l <<<"$extra")))
	for g in a b; do
		[ -s "$state/$g/journal.jsonl" ] && left=$((left + $(wc -l <"$state/$g/journal.jsonl")))
	done
	procs=$(pgrep -f "$state" | wc -l)
	left=$((left + procs))
	if ((left > 0)); then
		fail "$i" "$left left over: links [${extra//$'\n'/ }], $procs processes"
		((left > worst)) && worst=$left
		# clean up for the next cycle, so one failure is counted once
		v down --timeout 0 "$tmp/soak.yaml" >/dev/null 2>&1
	fi
done
secs=$(($(date +%s) - start))
((fd_min == 999999)) && fd_min=0
((uss_min == 999999999)) && uss_min=0
# USS of a new supervisor varies with what its startup met (a replay, a
# ping): flat means no trend, the last quarter's mean within 64 KiB of the first's
n=${#uss_samples[@]} q=$(( ${#uss_samples[@]} / 4 )) first=0 last=0
((q == 0)) && q=1
if ((n > 0)); then
	for ((k = 0; k < q && k < n; k++)); do first=$((first + uss_samples[k])); done
	for ((k = n - q; k < n; k++)); do ((k >= 0)) && last=$((last + uss_samples[k])); done
	first=$((first / q)) last=$((last / q))
fi
echo "soak: $cycles cycles in $secs s, $failures failed, largest leftover $worst"
echo "soak: supervisor fds $fd_min..$fd_max, USS $uss_min..$uss_max KiB (mean of the first quarter $first, of the last $last)"
[ "$failures" -eq 0 ] && [ "$worst" -eq 0 ] && [ "$fd_min" -eq "$fd_max" ] &&
	[ $((last - first)) -le 64 ]
