#!/usr/bin/env bash
# `vmrun run` with a host change to undo: a macvtap NIC on a veth inside a
# network namespace of our own.  The supervisor is killed with SIGKILL, so
# the macvtap stays behind with its journal entry; the next run must undo
# it before starting, and a clean stop must leave the namespace as it was.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash

if [ ! -f "$TESTGUEST/vmlinuz" ] || [ ! -f "$TESTGUEST/initrd.img" ]; then
	skip "no test guest in $TESTGUEST (run make testguest)" "macvtap supervisor suite"
	done_testing
	exit
fi
ns=vmrt-run-$$
if ! ip netns add "$ns" 2>/dev/null; then
	skip "cannot create a network namespace (needs root and iproute2)" "macvtap supervisor suite"
	done_testing
	exit
fi
net_cleanup() {
	run_cleanup
	ip netns del "$ns" 2>/dev/null
}
trap net_cleanup EXIT
unset VMRUN_QEMU
ip -n "$ns" link add vmrt0 type veth peer name vmrt1
ip -n "$ns" link set vmrt0 up
ip -n "$ns" link set vmrt1 up
baseline=$(ip -n "$ns" -br link | sort)

# ntopo FILE [EXTRA-LINE]: the guest n with one macvtap NIC on vmrt0
ntopo() {
	cat >"$1" <<EOF
version: 1
guests:
  n:
    accel: tcg
    cpuset: "0"
    memory: 256M
    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
    append: console=ttyS0 quiet
    stop_timeout: 10
    nics:
      - name: eth0
        mac: "52:54:00:7e:57:01"
        macvtap: vmrt0
${2:-}
EOF
}
ntopo "$T/n.yaml"

# run_ns_start NAME: a supervisor inside the namespace
run_ns_start() {
	: >"$T/$1.out"
	: >"$T/$1.err"
	ip netns exec "$ns" "$VMRUN" --state-dir "$STATE" run "$T/n.yaml" n \
		>>"$T/$1.out" 2>>"$T/$1.err" &
	RUN_PID[$1]=$!
}

# first with the fake QEMU: the tap fds of the NIC are passed, and nothing else
ntopo "$T/f.yaml" "    qemu_args: [\"-fake\", \"report=$T/f.report\"]"
: >"$T/f.err"
VMRUN_QEMU=$FAKEQEMU ip netns exec "$ns" "$VMRUN" --state-dir "$STATE" run "$T/f.yaml" n \
	>/dev/null 2>>"$T/f.err" &
RUN_PID[f]=$!
run_wait_ready f n 20
r=$?
ok $r "fake guest with a macvtap NIC ready"
[ $r -ne 0 ] && sed 's/^/# /' "$T/f.err"
if [ -s "$T/f.report" ]; then
	# fds the argv names: the chardevs' fd=N, the netdevs' JSON fd, fds, vhostfd(s)
	want=$(json_get "$T/f.report" 'sorted(set([0, 1, 2] + [int(n) for a in j["argv"] if a.startswith("socket,") for kv in a.split(",") if kv.startswith("fd=") for n in [kv[3:]]] + [int(n) for a in j["argv"] if a.startswith("{\"type\"") for k, v in json.loads(a).items() if k in ("fd", "fds", "vhostfd", "vhostfds") for n in v.split(":")]))')
	is "$(json_get "$T/f.report" 'j["fds"]')" "$want" \
		"QEMU holds exactly fds 0-2 and the fds its argv names (tap, vhost, QMP, console)"
	is "$(json_get "$T/f.report" 'len([a for a in j["argv"] if a.startswith("{\"type\":\"tap\"") and "\"fd\"" in a])')" 1 \
		"the NIC is a tap netdev on a passed fd"
else
	ok 1 "QEMU holds exactly fds 0-2 and the fds its argv names (no report from the fake QEMU)"
	ok 1 "the NIC is a tap netdev on a passed fd (no report)"
fi
kill -TERM "${RUN_PID[f]}"
run_wait_exit f 20
is "$RC" 0 "fake guest stopped"
torn_down n
ok $? "its macvtap undone"
is "$(ip -n "$ns" -br link | sort)" "$baseline" "namespace links as before"

# the same with vhost-net (a device root of our own, whose vhost-net is a
# plain file QEMU only has to hold): one more fd per queue, and the QMP and
# console sockets move up; the macvtap's tap node, missing from that root,
# is made in the state directory and removed once open
mkdir -p "$T/vdev"
: >"$T/vdev/vhost-net"
rm -f "$T/f.report"
: >"$T/v.err"
VMRUN_DEV_ROOT=$T/vdev VMRUN_QEMU=$FAKEQEMU ip netns exec "$ns" "$VMRUN" --state-dir "$STATE" \
	run "$T/f.yaml" n >/dev/null 2>>"$T/v.err" &
RUN_PID[v]=$!
run_wait_ready v n 20
r=$?
ok $r "fake guest with vhost-net ready"
[ $r -ne 0 ] && sed 's/^/# /' "$T/v.err"
is "$(json_get "$T/f.report" '[a for a in j["argv"] if a.startswith("{\"type\":\"tap\"")]')" \
	"['{\"type\":\"tap\",\"id\":\"net-eth0\",\"fd\":\"3\",\"vhost\":true,\"vhostfd\":\"4\"}']" \
	"tap fd 3, vhost-net fd 4"
is "$(json_get "$T/f.report" '[a.split(",")[2] for a in j["argv"] if a.startswith("socket,id=")]')" \
	"['fd=5', 'fd=6']" "QMP and console sockets on fds 5 and 6"
is "$(json_get "$T/f.report" 'j["fds"]')" "[0, 1, 2, 3, 4, 5, 6]" "QEMU holds exactly fds 0-6"
[ -z "$(ls -A "$STATE/n/dev" 2>/dev/null)" ]
ok $? "no tap node left in the state directory"
kill -TERM "${RUN_PID[v]}"
run_wait_exit v 20
is "$RC" 0 "fake guest with vhost-net stopped"
torn_down n
ok $? "its macvtap undone"
is "$(ip -n "$ns" -br link | sort)" "$baseline" "namespace links as before"

# startup failures after the macvtap was made: the journal undoes it
# (a fake QEMU that exits before the greeting; a missing parent for the
# 2nd of 3 NICs, after the 1st was created)
ntopo "$T/x.yaml" "    qemu_args: [\"-fake\", \"startup=exit1\"]"
VMRUN_QEMU=$FAKEQEMU ip netns exec "$ns" "$VMRUN" --state-dir "$STATE" run "$T/x.yaml" n \
	>/dev/null 2>"$T/x.err"
is "$?" 1 "QEMU exiting at startup: exit 1"
grep -q "^vmrun: error: guest 'n': QEMU exited with status 1 before the guest was ready$" "$T/x.err" &&
	one_error "$T/x.err"
ok $? "one error naming QEMU's exit"
torn_down n
ok $? "journal empty, sockets gone"
is "$(ip -n "$ns" -br link | sort)" "$baseline" "namespace links as before"

cat >"$T/p.yaml" <<EOF
version: 1
guests:
  n:
    accel: tcg
    memory: 64M
    nics:
      - name: eth0
        mac: "52:54:00:7e:57:01"
        macvtap: vmrt0
      - name: eth1
        mac: "52:54:00:7e:57:02"
        macvtap: nosuch0
      - name: eth2
        mac: "52:54:00:7e:57:03"
        macvtap: vmrt1
EOF
VMRUN_QEMU=$FAKEQEMU ip netns exec "$ns" "$VMRUN" --state-dir "$STATE" run "$T/p.yaml" n \
	>/dev/null 2>"$T/p.err"
r=$?
[ "$r" -ne 0 ] && grep -q "^vmrun: error: .*'nosuch0'" "$T/p.err" && one_error "$T/p.err"
ok $? "missing parent of the 2nd NIC: fails ($r) with one error naming it"
torn_down n
ok $? "journal empty, sockets gone"
is "$(ip -n "$ns" -br link | sort)" "$baseline" "namespace links as before (the 1st NIC's macvtap undone)"

run_ns_start n1
run_wait_ready n1 n 60
r=$?
ok $r "guest with a macvtap NIC ready"
[ $r -ne 0 ] && sed 's/^/# /' "$T/n1.err"
ip -n "$ns" -br link show vm-5254007e5701 >/dev/null 2>&1
ok $? "macvtap vm-5254007e5701 created"
is "$(json_get "$STATE/n/status.json" 'j["nics"][0]["ifname"]')" "vm-5254007e5701" \
	"status.json names the host interface"
grep -q '"type":"net.link"' "$STATE/n/journal.jsonl"
ok $? "the link is in the undo journal"

q=$(qemu_pid n)
kill -KILL "${RUN_PID[n1]}"
run_wait_exit n1 10
pid_gone "$q" 1
ok $? "QEMU gone within 1 s of the supervisor's SIGKILL"
ip -n "$ns" -br link show vm-5254007e5701 >/dev/null 2>&1
ok $? "the macvtap is left behind, journaled"

run_ns_start n2
run_wait_ready n2 n 60
r=$?
ok $r "the next run starts"
[ $r -ne 0 ] && sed 's/^/# /' "$T/n2.err"
grep -q "^vmrun: guest 'n': undid 1 host change left by a previous run$" "$T/n2.err"
ok $? "it undid the dead run's change first"
is "$(grep -c '"type":"net.link"' "$STATE/n/journal.jsonl")" 1 "one journal entry: its own link"
run_wait_grep "$T/n2.out" "vmrun-testguest: booted" 60
ok $? "guest booted"
grep -q "vmrun-testguest: nic eth0 52:54:00:7e:57:01" "$T/n2.out"
ok $? "the guest sees its NIC"
kill -TERM "${RUN_PID[n2]}"
run_wait_exit n2 40
is "$RC" 0 "graceful stop, exit 0"
torn_down n
ok $? "journal empty, sockets gone"
is "$(ip -n "$ns" -br link | sort)" "$baseline" "namespace links as before the first run"

done_testing
