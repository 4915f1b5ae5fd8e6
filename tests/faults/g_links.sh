#!/usr/bin/env bash
# Fault group "links": the host's links change under a running guest.
# Real QEMU (the test guest, TCG) in a network namespace of our own.
#   - the macvtap's parent is deleted while the guest runs (the kernel
#     deletes the macvtap with it), and then one re-created under the same
#     name: the stop succeeds, undoes nothing it does not own;
#   - the bridge vmrun made is deleted while the guest runs, or replaced
#     by a bridge of someone else's under the same name: that one is never
#     deleted;
#   - two guests share a bridge vmrun made: the reclaim and stop of one
#     leave it to the other;
#   - a link of someone else's holds a journaled name with another MAC
#     after the supervisor was killed: `down` and the next `run` never
#     delete it, `run` refuses to start with one error, and starts once
#     the name is free again.
set -u
cd "$(dirname "$0")/../.." || exit 1
FAULTS_GROUP="links: parent, bridge and foreign links"
# shellcheck source=tests/faults/lib.bash
. tests/faults/lib.bash
faults_need root fault testguest netns macvtap bridge
unset VMRUN_QEMU
faults_baseline

# stop_clean NAME: SIGTERM, then the stop must succeed without an error
stop_clean() {
	kill -TERM "${RUN_PID[$1]}"
	fwait_exit "$1" 30
	[ "$RC" = 0 ] || [ "$RC" = 143 ]
	ok $? "$1: the stop succeeds (exit $RC)"
	is "$(errors "$T/$1.err")" 0 "$1: no error" || sed 's/^/# /' "$T/$1.err"
}

# parent_deleted NAME RECREATE: the macvtap's parent (a veth of its own) is
# deleted while the guest runs; with RECREATE=1 a new veth takes its name
parent_deleted() {
	local name=$1 again=$2 reply fds
	ip -n "$NS" link add pd0 type veth peer name pd1 && ip -n "$NS" link set pd0 up &&
		ip -n "$NS" link set pd1 up
	topo_real "$T/$name.yaml" g '{name: n0, macvtap: pd0, mac: "52:54:00:66:03:01"}'
	fstart "$name" "" "$T/$name.yaml" g
	wait_ready "$name" g 60
	ok $? "$name: the guest runs on a macvtap of pd0" || sed 's/^/# /' "$T/$name.err"
	fds=$(fd_list_settled "${RUN_PID[$name]}")
	ip -n "$NS" link del pd0
	ip -n "$NS" link show vm-525400660301 >/dev/null 2>&1
	ok $((!$?)) "$name: deleting pd0 took the macvtap with it"
	if [ "$again" = 1 ]; then
		ip -n "$NS" link add pd0 type veth peer name pd1 && ip -n "$NS" link set pd0 up
	fi
	reply=$(ctl g '{"status": null}')
	[[ $reply == '{"return":{"guest":"g"'* ]]
	ok $? "$name: the supervisor still answers" || diag "$reply"
	is "$(fd_list_settled "${RUN_PID[$name]}" "$fds")" "$fds" "$name: its fds are as before"
	stop_clean "$name"
	if [ "$again" = 1 ]; then
		ip -n "$NS" link show pd0 >/dev/null 2>&1
		ok $? "$name: the new pd0 is left alone"
		ip -n "$NS" link del pd0
	fi
	faults_clean "$name"
}

# bridge_deleted NAME FOREIGN: the bridge vmrun made is deleted while the
# guest runs; with FOREIGN=1 a bridge of someone else's takes its name
bridge_deleted() {
	local name=$1 foreign=$2 reply fds
	topo_real "$T/$name.yaml" g '{name: n0, bridge: fbr0, mac: "52:54:00:66:03:02"}'
	fstart "$name" "" "$T/$name.yaml" g
	wait_ready "$name" g 60
	ok $? "$name: the guest runs on bridge fbr0" || sed 's/^/# /' "$T/$name.err"
	fds=$(fd_list_settled "${RUN_PID[$name]}")
	ip -n "$NS" link del fbr0
	ok $? "$name: fbr0 deleted under it"
	if [ "$foreign" = 1 ]; then
		ip -n "$NS" link add fbr0 type bridge
		ok $? "$name: a bridge of someone else's named fbr0"
	fi
	reply=$(ctl g '{"status": null}')
	[[ $reply == '{"return":{"guest":"g"'* ]]
	ok $? "$name: the supervisor still answers" || diag "$reply"
	is "$(fd_list_settled "${RUN_PID[$name]}" "$fds")" "$fds" "$name: its fds are as before"
	stop_clean "$name"
	if [ "$foreign" = 1 ]; then
		ip -n "$NS" link show fbr0 >/dev/null 2>&1
		ok $? "$name: the foreign fbr0 is left alone"
		ip -n "$NS" link del fbr0
	fi
	faults_clean "$name"
}

# foreign_name NAME: after the supervisor was killed, a link of someone
# else's (another MAC, no owner mark) takes the journaled macvtap's name
foreign_name() {
	local name=$1 out before
	topo_real "$T/$name.yaml" g '{name: n0, macvtap: p0, mac: "52:54:00:66:03:03"}'
	fstart "$name" "running=die" "$T/$name.yaml" g
	fwait_exit "$name" 60
	is "$RC" 137 "$name: the supervisor was killed while its guest ran"
	grep -q '"ifname":"vm-525400660303"' "$STATE/g/journal.jsonl"
	ok $? "$name: the journal names its macvtap vm-525400660303"
	ip -n "$NS" link del vm-525400660303 &&
		ip -n "$NS" link add link p0 name vm-525400660303 address 52:54:00:66:03:99 type macvtap
	ok $? "$name: someone else's macvtap (another MAC) now holds that name"
	before=$(ip -n "$NS" -d link show vm-525400660303 | head -2)
	out=$(in_ns "$VMRUN" --state-dir "$STATE" down "$T/$name.yaml" 2>&1)
	ok $? "$name: vmrun down succeeds" || diag "$out"
	is "$(ip -n "$NS" -d link show vm-525400660303 2>/dev/null | head -2)" "$before" \
		"$name: down left the foreign link alone"
	fstart "$name-run" "" "$T/$name.yaml" g
	fwait_exit "$name-run" 60
	is "$RC" 1 "$name: the next run refuses to start"
	grep -q "^vmrun: error: .*interface 'vm-525400660303' exists and is not ours" "$T/$name-run.err"
	ok $? "$name: saying the interface is not ours" || sed 's/^/# /' "$T/$name-run.err"
	is "$(errors "$T/$name-run.err")" 1 "$name: exactly one error line"
	is "$(ip -n "$NS" -d link show vm-525400660303 2>/dev/null | head -2)" "$before" \
		"$name: run left the foreign link alone"
	ip -n "$NS" link del vm-525400660303
	fstart "$name-again" "" "$T/$name.yaml" g
	wait_ready "$name-again" g 60
	ok $? "$name: once the name is free the guest runs" || sed 's/^/# /' "$T/$name-again.err"
	stop_clean "$name-again"
	faults_clean "$name"
}

# shared_bridge NAME: guests x and y on one bridge vmrun makes; x's
# supervisor is killed; its reclaim and its stop must leave the bridge to
# y, and the last one out removes it
shared_bridge() {
	local name=$1
	topo_real "$T/x.yaml" x '{name: n0, bridge: fbr1, mac: "52:54:00:66:03:0a"}'
	topo_real "$T/y.yaml" y '{name: n0, bridge: fbr1, mac: "52:54:00:66:03:0b"}'
	sed -i 's/cpuset: "0"/cpuset: "1"/' "$T/y.yaml"
	fstart "$name-y" "" "$T/y.yaml" y
	wait_ready "$name-y" y 60
	ok $? "$name: guest y runs on bridge fbr1" || sed 's/^/# /' "$T/$name-y.err"
	fstart "$name-x" "running=die" "$T/x.yaml" x
	fwait_exit "$name-x" 60
	is "$RC" 137 "$name: the supervisor of x, on the same bridge, was killed"
	fstart "$name-x2" "" "$T/x.yaml" x
	wait_ready "$name-x2" x 60
	ok $? "$name: x starts again, reclaiming what it left" || sed 's/^/# /' "$T/$name-x2.err"
	stop_clean "$name-x2"
	ip -n "$NS" link show fbr1 >/dev/null 2>&1
	ok $? "$name: fbr1 stays while y uses it"
	[ "$(ip -n "$NS" -o link show master fbr1 | wc -l)" = 1 ]
	ok $? "$name: with y's tap still on it"
	stop_clean "$name-y"
	faults_clean "$name/x" x
	faults_clean "$name/y" y
}

if [ "$FAULTS_QUICK" = 1 ]; then
	parent_deleted parent-deleted 0
	bridge_deleted bridge-deleted 1
	foreign_name foreign-name
else
	parent_deleted parent-deleted 0
	parent_deleted parent-deleted+recreated 1
	bridge_deleted bridge-deleted 0
	bridge_deleted bridge-replaced 1
	foreign_name foreign-name
	shared_bridge shared-bridge
fi

done_testing
