#!/usr/bin/env bash
# Two real guests (the test guest under TCG, docs/testguest.md) started by
# `vmrun run` inside a network namespace this test creates: they ping each
# other over macvtap (both on one veth), then over a bridge vmrun creates,
# then over macvtap with every confinement of docs/security.md on at once
# (QEMU as the default qemu_user in a private mount namespace and its own
# cgroup, in a fake cgroup v2 tree; the supervisor down to CAP_NET_ADMIN and
# CAP_KILL under its filter).  After the supervisors stop, the namespace's
# link list is as before.
# Needs `make testguest`.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash

ns=vmrt-ping-$$
net_cleanup() {
	run_cleanup
	ip netns del "$ns" 2>/dev/null
}
trap net_cleanup EXIT

if [ ! -f "$TESTGUEST/vmlinuz" ] || [ ! -f "$TESTGUEST/initrd.img" ]; then
	skip "no test guest in $TESTGUEST (run make testguest)" "two guests ping each other"
	done_testing
	exit
fi
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	skip "needs root and iproute2 for a network namespace" "two guests ping each other"
	done_testing
	exit
fi
unset VMRUN_QEMU

ip netns add "$ns" &&
	ip -n "$ns" link add v0 type veth peer name v1 &&
	ip -n "$ns" link set v0 up && ip -n "$ns" link set v1 up
ok $? "namespace $ns with a veth pair"
links() { ip -n "$ns" -o link show | sed -E 's/^[0-9]+: ([^:@]+).*/\1/' | sort | tr '\n' ' '; }
base=$(links)

# topology KIND ATTACH: guests a (10.77.0.1) and b (10.77.0.2) pinging each other
topology() {
	cat >"$T/$1.yaml" <<EOF
version: 1
guests:
  a:
    accel: tcg
    memory: 256M
    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
    append: console=ttyS0 quiet vmrun.ip=52:54:00:77:00:01,10.77.0.1/24 vmrun.ping=10.77.0.2,3
    stop_timeout: 20
    nics: [{name: n1, $2, mac: "52:54:00:77:00:01"}]
  b:
    accel: tcg
    memory: 256M
    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
    append: console=ttyS0 quiet vmrun.ip=52:54:00:77:00:02,10.77.0.2/24 vmrun.ping=10.77.0.1,3
    stop_timeout: 20
    nics: [{name: n1, $2, mac: "52:54:00:77:00:02"}]
EOF
}

# start TAG TOPOLOGY GUEST: a supervisor inside the namespace, output in $T/TAG-GUEST.*;
# with the configuration file $CONF when it is set
CONF=
start() {
	: >"$T/$1-$3.out"
	: >"$T/$1-$3.err"
	ip netns exec "$ns" "$VMRUN" ${CONF:+--config "$CONF"} --state-dir "$STATE" run "$T/$2.yaml" "$3" \
		>>"$T/$1-$3.out" 2>>"$T/$1-$3.err" &
	RUN_PID[$1-$3]=$!
}

# wait_line FILE PATTERN SECONDS
wait_line() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

pair() {
	local kind=$1 g r
	start "$kind" "$kind" a
	start "$kind" "$kind" b
	for g in a b; do
		wait_line "$T/$kind-$g.out" "vmrun-testguest: booted" 90
		ok $? "$kind: guest $g boots"
	done
	for g in a b; do
		wait_line "$T/$kind-$g.out" "vmrun-testguest: ping 10.77.0.[12] \(ok\|failed\)" 90
		grep -q "vmrun-testguest: ping 10.77.0.[12] ok" "$T/$kind-$g.out"
		r=$?
		ok $r "$kind: guest $g pings the other"
		[ $r -eq 0 ] || tail -n 5 "$T/$kind-$g.out" "$T/$kind-$g.err" | sed 's/^/# /'
	done
	[ -n "$CONF" ] && confined
	for g in a b; do
		kill -TERM "${RUN_PID[$kind-$g]}"
	done
	for g in a b; do
		run_wait_exit "$kind-$g" 40
		is "$RC" 0 "$kind: supervisor of $g stops cleanly"
	done
	is "$(links)" "$base" "$kind: the link list is as before"
}

topology macvtap "macvtap: v0"
pair macvtap
topology bridge "bridge: vmrtbr0"
pair bridge

# confined: while both guests of the pair run, what docs/security.md promises
status_of() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }
confined() {
	local g q s
	for g in a b; do
		q=$(json_get "$STATE/$g/status.json" 'j["qemu_pid"]' 2>/dev/null)
		s=$(json_get "$STATE/$g/status.json" 'j["supervisor_pid"]' 2>/dev/null)
		if [ -z "$q" ] || [ ! -r "/proc/$q/status" ] || [ -z "$s" ] || [ ! -r "/proc/$s/status" ]; then
			ok 1 "secure: guest $g's QEMU and supervisor are found"
			continue
		fi
		[ "$(status_of "$q" Uid | awk '{ print $1 }')" != 0 ]
		ok $? "secure: $g's QEMU is not root"
		is "$(status_of "$q" CapEff) $(status_of "$q" CapPrm) $(status_of "$q" CapBnd) $(status_of "$q" NoNewPrivs) $(status_of "$q" Seccomp)" \
			"0000000000000000 0000000000000000 0000000000000000 1 2" "secure: $g's QEMU has no capability, NoNewPrivs, its filter"
		awk '$5 == "/dev" { for (i = 7; i <= NF; i++) if ($i == "-") print $(i + 1) }' "/proc/$q/mountinfo" | grep -qx tmpfs
		ok $? "secure: $g's QEMU sees a private tmpfs /dev"
		is "$(cat "$CG/vmrun/$g/cgroup.procs" 2>/dev/null)" 0 "secure: $g's QEMU joined its cgroup leaf"
		is "$(status_of "$s" CapEff) $(status_of "$s" CapBnd) $(status_of "$s" Seccomp)" \
			"0000000000001020 0000000000001020 2" "secure: $g's supervisor keeps CAP_NET_ADMIN and CAP_KILL, under its filter"
	done
}
CG=$T/cgroup
mkdir -p "$CG" &&
	echo "cpuset cpu io memory hugetlb pids" >"$CG/cgroup.controllers" &&
	echo "cpuset memory pids" >"$CG/cgroup.subtree_control" &&
	printf '[vmrun]\nprivate_mounts = true\ncgroup = true\ncgroup_root = %s\n' "$CG" >"$T/secure.conf"
ok $? "secure: a configuration with private mounts and a (fake v2) cgroup"
topology secure "macvtap: v0"
CONF=$T/secure.conf
pair secure
CONF=
ok "$([ ! -e "$CG/vmrun" ] && echo 0 || echo 1)" "secure: no cgroup directory left"

# a supervisor killed with SIGKILL leaves its macvtap; the next start reclaims it
topology macvtap "macvtap: v0"
start kill macvtap a
wait_line "$T/kill-a.out" "vmrun-testguest: booted" 90
r=$?
ok $r "kill: guest a boots"
[ $r -eq 0 ] || tail -n 5 "$T/kill-a.out" "$T/kill-a.err" | sed 's/^/# /'
kill -KILL "${RUN_PID[kill-a]}"
run_wait_exit kill-a 10
ip -n "$ns" link show vm-525400770001 >/dev/null 2>&1
ok $? "kill: after SIGKILL its macvtap is left behind"
start kill2 macvtap a
wait_line "$T/kill2-a.out" "vmrun-testguest: booted" 90
r=$?
ok $r "kill: a new supervisor reclaims the leftover and boots the guest"
[ $r -eq 0 ] || tail -n 5 "$T/kill2-a.out" "$T/kill2-a.err" | sed 's/^/# /'
grep -q "undid 1 host change" "$T/kill2-a.err"
ok $? "kill: it said it undid the previous run's change"
kill -TERM "${RUN_PID[kill2-a]}"
run_wait_exit kill2-a 40
is "$RC" 0 "kill: the new supervisor stops cleanly"
is "$(links)" "$base" "kill: the link list is as before"

# a foreign interface holding a guest's name is never touched
ip -n "$ns" link add link v0 name vm-525400770002 address 52:54:00:77:00:02 type macvtap
before=$(ip -n "$ns" -d link show vm-525400770002 | head -2)
ip netns exec "$ns" "$VMRUN" --state-dir "$STATE" run "$T/macvtap.yaml" b >"$T/foreign.out" 2>&1
is "$?" 1 "foreign: the supervisor refuses to start"
grep -q "interface 'vm-525400770002' exists and is not ours" "$T/foreign.out"
ok $? "foreign: saying the interface is not ours"
is "$(ip -n "$ns" -d link show vm-525400770002 | head -2)" "$before" "foreign: the interface is untouched"
ip -n "$ns" link del vm-525400770002

done_testing
