#!/usr/bin/env bash
# A macvtap's parent (and vmctrl's, for `vmrun host up`) is brought up, as
# 5gdeploy's `ip link set $HOSTIF up` does, and put back down on undo only
# when vmrun raised it: inside a network namespace of our own, with the fake
# QEMU (no guest boots).  Cases: parent down (raised, marked with the
# altname vmrun-up<ifindex>, down again after the stop); parent already up
# (left up, never marked); two guests on one parent (it stays up until the
# last one stops, whichever raised it); a supervisor killed with SIGKILL
# (the next `vmrun down` puts it down); the ctrlif's parent with `host up`
# and `host down`, both ways.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash

ns=vmrt-par-$$
if ! ip netns add "$ns" 2>/dev/null; then
	skip "cannot create a network namespace (needs root and iproute2)" "macvtap parent up and down"
	done_testing
	exit
fi
par_cleanup() {
	run_cleanup
	ip netns del "$ns" 2>/dev/null
}
trap par_cleanup EXIT
if ! ip -n "$ns" link add p0 type veth peer name p1 2>/dev/null ||
	! ip -n "$ns" link property add dev p0 altname vmrt-probe 2>/dev/null; then
	skip "no veth or no alternative interface names (Linux 5.5+) here" "macvtap parent up and down"
	done_testing
	exit
fi
ip -n "$ns" link property del dev p0 altname vmrt-probe
ip -n "$ns" link add q0 type veth peer name q1
unset VMRUN_QEMU
export VMRUN_QEMU=$FAKEQEMU
export NS=$ns

# is_up IFNAME: 0 when the link's admin state is up (IFF_UP)
is_up() { ip -n "$ns" -o link show dev "$1" | grep -q '[<,]UP[,>]'; }
marked() { ip -n "$ns" -o link show dev "$1" | grep -q "altname vmrun-up"; }
state() { # IFNAME -> "up" or "down", and "+mark" when vmrun's mark is on it
	local s=down
	is_up "$1" && s=up
	marked "$1" && s="$s+mark"
	echo "$s"
}

# topo FILE GUEST... : guests each with one macvtap NIC on p0
topo() {
	local f=$1 g i=1
	shift
	echo "version: 1" >"$f"
	echo "guests:" >>"$f"
	for g; do
		cat >>"$f" <<EOF
  $g:
    accel: tcg
    memory: 64M
    kernel: /dev/null
    stop_timeout: 5
    qemu_args: ["-fake", "report=$T/$g.report"]
    nics:
      - {name: n1, mac: "52:54:00:7e:5a:0$i", macvtap: p0}
EOF
		i=$((i + 1))
	done
}

start() { # NAME TOPOLOGY GUEST
	: >"$T/$1.out"
	: >"$T/$1.err"
	ip netns exec "$ns" "$VMRUN" --state-dir "$STATE" run "$2" "$3" >>"$T/$1.out" 2>>"$T/$1.err" &
	RUN_PID[$1]=$!
}
stop() { # NAME
	kill -TERM "${RUN_PID[$1]}"
	run_wait_exit "$1" 20
}

topo "$T/a.yaml" a
topo "$T/ab.yaml" a b

# ---- the parent is down: vmrun raises it, and puts it down again ----
is "$(state p0)" "down" "p0 starts down"
start a "$T/a.yaml" a
run_wait_ready a a 20
r=$?
ok $r "guest a with a macvtap on p0 (down) runs"
[ $r -ne 0 ] && sed 's/^/# /' "$T/a.err"
is "$(state p0)" "up+mark" "p0 raised and marked vmrun-up<ifindex> while a runs"
grep -q '"net.parent"' "$STATE/a/journal.jsonl"
ok $? "the raise is in a's journal (net.parent)"
ip -n "$ns" -o link show | grep -q 'vm-5254007e5a01@p0'
ok $? "a's macvtap sits on p0"
stop a
is "$RC" 0 "a stops"
is "$(state p0)" "down" "p0 down again and unmarked after a stops"

# ---- the parent is up: left as found ----
ip -n "$ns" link set p0 up
start a "$T/a.yaml" a
run_wait_ready a a 20
ok $? "guest a runs on p0 (up)"
is "$(state p0)" "up" "p0 up, not marked: vmrun did not raise it"
stop a
is "$(state p0)" "up" "p0 still up after a stops"
ip -n "$ns" link set p0 down

# ---- two guests: the parent stays up until the last stops ----
start a "$T/ab.yaml" a
run_wait_ready a a 20
ok $? "guest a raises p0"
start b "$T/ab.yaml" b
run_wait_ready b b 20
ok $? "guest b joins p0 (up, marked by vmrun)"
stop a
is "$(state p0)" "up+mark" "a (which raised it) stops: p0 stays up for b"
stop b
is "$(state p0)" "down" "b (the last) stops: p0 down, unmarked"

# ---- killed supervisor: the next `vmrun down` undoes the raise ----
start a "$T/a.yaml" a
run_wait_ready a a 20
ok $? "guest a raises p0 again"
kill -KILL "${RUN_PID[a]}"
wait "${RUN_PID[a]}" 2>/dev/null
unset 'RUN_PID[a]'
is "$(state p0)" "up+mark" "supervisor killed: p0 left up and marked"
ip netns exec "$ns" "$VMRUN" --state-dir "$STATE" down "$T/a.yaml" >"$T/down.out" 2>&1
ok $? "vmrun down reclaims the dead run"
is "$(state p0)" "down" "p0 down again after the reclaim"

# ---- vmrun host up: the ctrlif's parent ----
cat >"$T/h.yaml" <<EOF
version: 1
ctrlif: {parent: q0, address: 10.79.0.1/24}
guests: {}
EOF
host() { ip netns exec "$ns" "$VMRUN" --state-dir "$STATE" host "$@" "$T/h.yaml" >"$T/host.out" 2>&1; }
is "$(state q0)" "down" "q0 starts down"
host up
ok $? "host up with the ctrlif on q0 (down)"
sed 's/^/# /' "$T/host.out" | head -5
is "$(state q0)" "up+mark" "q0 raised and marked"
ip -n "$ns" -o link show | grep -q 'vmctrl@q0'
ok $? "vmctrl sits on q0"
host down
ok $? "host down"
is "$(state q0)" "down" "q0 down again after host down"
ip -n "$ns" link set q0 up
host up
ok $? "host up with q0 already up"
is "$(state q0)" "up" "q0 up, not marked"
host down
is "$(state q0)" "up" "q0 left up after host down"
ip -n "$ns" -o link show | grep -q vmctrl
is $? 1 "vmctrl gone"

done_testing
