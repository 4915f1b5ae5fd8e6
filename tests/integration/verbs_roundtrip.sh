#!/usr/bin/env bash
# The verbs around the supervisor with real QEMU under TCG and the test guest
# (docs/testguest.md, docs/verbs.md): up (detached supervisors inside a
# network namespace this test creates), ps and ps --json, qmp, console through
# a pipe and on a terminal, up again (idempotent), down; then kill and stop of
# single guests.  Needs `make testguest`, root and iproute2.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/verbs_lib.bash
. tests/integration/verbs_lib.bash

need_testguest "up/ps/qmp/console/down round trip"
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	skip "needs root and iproute2 for a network namespace" "up/ps/qmp/console/down round trip"
	done_testing
	exit
fi
unset VMRUN_QEMU

NS=vmrt-verbs-$$
ip netns add "$NS" &&
	ip -n "$NS" link add v0 type veth peer name v1 &&
	ip -n "$NS" link set v0 up && ip -n "$NS" link set v1 up
ok $? "namespace $NS with a veth pair"
links() { ip -n "$NS" -o link show | sed -E 's/^[0-9]+: ([^:@]+).*/\1/' | sort | tr '\n' ' '; }
base=$(links)

cat >"$T/lab.yaml" <<YAML
version: 1
defaults:
  accel: tcg
  memory: 256M
  kernel: $TESTGUEST/vmlinuz
  initrd: $TESTGUEST/initrd.img
  append: console=ttyS0 quiet
  stop_timeout: 20
guests:
  a:
    cpuset: "0"
    nics: [{name: n1, macvtap: v0, mac: "52:54:00:78:00:01"}]
  b:
    cpuset: "1"
YAML

# --- up: both guests running and pinned when it returns; one at a time
ip netns exec "$NS" "$VMRUN" --state-dir "$STATE" up "$T/lab.yaml" --parallel 1 >"$T/up.out" \
	2>"$T/up.err"
rc=$?
is "$rc" 0 "up returns 0"
[ "$rc" -eq 0 ] || show "$T/up.out" "$T/up.err" "$STATE/a/supervisor.log" "$STATE/b/supervisor.log"
for g in a b; do
	grep -q "^guest '$g' is running (supervisor pid [0-9]*" "$T/up.out"
	ok $? "up says guest $g is running"
	[ -e "$STATE/$g/ready" ]
	ok $? "guest $g is ready when up returns"
done
grep -q "^vmrun: guest 'a' running (qemu pid [0-9]*, vCPUs pinned to CPU 0)\$" "$STATE/a/supervisor.log"
ok_or_show $? "supervisor.log has the supervisor's messages" "$STATE/a/supervisor.log"
sup_a=$(sed -n "s/^guest 'a' is running (supervisor pid \([0-9]*\),.*/\1/p" "$T/up.out")
is "$(ps -o sid= -p "${sup_a:-0}" | tr -d ' ')" "$sup_a" "the supervisor leads its own session"
[ "$(ps -o ppid= -p "${sup_a:-0}" | tr -d ' ')" != "$$" ]
ok $? "the supervisor outlives up (not a child of this shell)"

# --- ps --json, parsed with python3
v ps --json >"$T/ps.json"
is "$?" 0 "ps --json returns 0"
is "$(json_get "$T/ps.json" '" ".join(g["guest"] + ":" + g["state"] for g in j)')" \
	"a:running b:running" "ps --json: both guests running (QEMU's state from QMP)"
is "$(json_get "$T/ps.json" '[g["live"] and g["supervisor_alive"] for g in j]')" "[True, True]" \
	"ps --json: both supervisors answered"
is "$(json_get "$T/ps.json" 'j[0]["supervisor_pid"]')" "$sup_a" "ps --json: a's supervisor pid"
qa=$(json_get "$T/ps.json" 'j[0]["qemu_pid"]')
qb=$(json_get "$T/ps.json" 'j[1]["qemu_pid"]')
# with --parallel 1, b's supervisor started once a ran pinned: after a's QEMU
sup_b=$(sed -n "s/^guest 'b' is running (supervisor pid \([0-9]*\),.*/\1/p" "$T/up.out")
started() { awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
[ "$(started "${sup_b:-0}")" -ge "$(started "${qa:-0}")" ] && [ "$(started "${qa:-0}")" -gt 0 ]
ok $? "up --parallel 1: b's supervisor started after a's QEMU"
is "$(sed -n "s/^guest '\([ab]\)' is running.*/\1/p" "$T/up.out" | tr -d '\n')" "ab" \
	"up: the guests reported in the topology's order"
alive "$qa" && alive "$qb"
ok $? "ps --json: the QEMU pids are live processes"
is "$(cat "/proc/$qa/comm")" "qemu-system-x86" "ps --json: a's QEMU pid is QEMU"
for i in 0 1; do
	q=$(json_get "$T/ps.json" "j[$i]['qemu_pid']")
	tid=$(json_get "$T/ps.json" "j[$i]['vcpus'][0]['thread']")
	is "$(json_get "$T/ps.json" "j[$i]['vcpus'][0]['affinity']")" "$i" \
		"ps --json: guest $i's vCPU 0 affinity is its cpuset"
	is "$(thread_cpus "$q" "$tid")" "$i" "ps --json: that is the thread's real affinity"
done
is "$(json_get "$T/ps.json" 'j[0]["nics"][0]["name"] + "=" + j[0]["nics"][0]["ifname"]')" \
	"n1=vm-525400780001" "ps --json: a's NIC with its host interface"
ip -n "$NS" link show vm-525400780001 >/dev/null 2>&1
ok $? "that host interface exists in the namespace"
is "$(json_get "$T/ps.json" '[g["uptime"] >= 0 for g in j]')" "[True, True]" "ps --json: uptimes"

v ps >"$T/ps.txt"
is "$?" 0 "ps returns 0"
grep -Eq "^a +running +$sup_a +$qa +[0-9]+(s|[dhm][0-9]{2}[hms]) +0 +0:[0-9]+@0 +n1=vm-525400780001\$" "$T/ps.txt"
ok_or_show $? "ps table: a's line" "$T/ps.txt"

# --- qmp
v qmp a query-status >"$T/qs.json"
is "$?" 0 "qmp query-status returns 0"
is "$(json_get "$T/qs.json" 'j["status"]')" "running" "qmp prints the reply's return value"
v qmp -c a qom-get '{"path": "/machine", "property": "type"}' >"$T/qom.out"
grep -Eqx '"pc-q35-[0-9.]+-machine"' "$T/qom.out"
ok $? "qmp with JSON arguments (the machine type, q35)"
v qmp a no-such-command >/dev/null 2>"$T/qmp.err"
is "$?" 1 "a QMP error exits 1"
grep -q "CommandNotFound" "$T/qmp.err" && grep -q "^vmrun: error: guest 'a': " "$T/qmp.err"
ok $? "the QMP error class and description are printed"
v qmp a query-status '[1]' >/dev/null 2>&1
is "$?" 2 "arguments that are not a JSON object exit 2"
v qmp nosuch query-status >/dev/null 2>"$T/qmp2.err"
is "$?" 1 "qmp to a guest that does not run exits 1"
grep -q "guest 'nosuch' is not running" "$T/qmp2.err"
ok $? "saying it is not running"

# --- console through pipes: output flows after the end of the input
wait_grep "$STATE/a/console.log" "vmrun-testguest: booted" 90
ok $? "guest a booted"
probe="vmrun-console-probe-$$"
printf '%s\n' "$probe" | v console a --timeout 3 >"$T/con.out" 2>"$T/con.err"
is "$?" 0 "console --timeout exits 0"
grep -q "^$probe" "$T/con.out"
ok_or_show $? "console: the line sent reaches the guest's terminal, whose echo comes back" "$T/con.out" "$T/con.err"

# --- console on a terminal: raw mode, Ctrl-] detaches, terminal restored
python3 - "$VMRUN" "$STATE" >"$T/tty.out" 2>&1 <<'PY'
import os, pty, select, subprocess, sys, termios, time
vmrun, state = sys.argv[1], sys.argv[2]
m, s = pty.openpty()
before = termios.tcgetattr(s)
p = subprocess.Popen([vmrun, "--state-dir", state, "console", "a"], stdin=s, stdout=s,
                     stderr=s, start_new_session=True)
def read_until(pat, t):
    buf, end = b"", time.time() + t
    while pat not in buf and time.time() < end:
        if select.select([m], [], [], 0.2)[0]:
            buf += os.read(m, 4096)
    return buf
got = read_until(b"Ctrl-] detaches", 10)
print("banner", b"Ctrl-] detaches" in got)
during = termios.tcgetattr(s)
print("raw", during[3] & (termios.ICANON | termios.ECHO) == 0)
os.write(m, b"tty-probe-1\r")
print("echo", b"tty-probe-1" in read_until(b"tty-probe-1", 10))
os.write(m, b"\x1d")
try:
    rc = p.wait(10)
except subprocess.TimeoutExpired:
    p.kill()
    rc = "timeout"
print("rc", rc)
print("restored", termios.tcgetattr(s) == before)
PY
for k in "banner True" "raw True" "echo True" "rc 0" "restored True"; do
	grep -qx "$k" "$T/tty.out"
	ok $? "console on a terminal: ${k% *}"
done

# --- up again: nothing to do
v up "$T/lab.yaml" >"$T/up2.out" 2>&1
is "$?" 0 "up of running guests returns 0"
is "$(grep -c "is already running" "$T/up2.out")" 2 "saying both are already running"
v ps --json >"$T/ps2.json"
is "$(json_get "$T/ps2.json" 'j[0]["supervisor_pid"]')" "$sup_a" "the same supervisor runs a"

# --- a console client with its input closed sees the guest power off
wait_grep "$STATE/b/console.log" "vmrun-testguest: booted" 90
v console b </dev/null >"$T/conb.out" 2>"$T/conb.err" &
conpid=$!
sleep 0.5

# --- down: graceful (the test guest powers off on the ACPI button)
v down "$T/lab.yaml" -j 1 >"$T/down.out" 2>"$T/down.err"
rc=$?
is "$rc" 0 "down -j 1 returns 0"
[ "$rc" -eq 0 ] || show "$T/down.out" "$T/down.err"
for g in a b; do
	grep -q "^guest '$g' stopped: the guest powered off (exit status 0)\$" "$T/down.out"
	ok $? "down: guest $g powered off"
done
for p in "$sup_a" "$qa" "$qb"; do
	gone "$p" 5
	ok $? "down: process $p is gone"
done
is "$(links)" "$base" "down: the namespace's link list is as before"
v ps --json >"$T/ps3.json"
is "$(json_get "$T/ps3.json" 'len(j)')" 0 "ps --json after down: no guest listed"
v ps --json --all >"$T/ps3.json"
is "$(json_get "$T/ps3.json" '[g["state"] for g in j]')" "['exited', 'exited']" \
	"ps --json --all after down: both exited"
is "$(json_get "$T/ps3.json" '[g["nics"] for g in j]')" "[[], []]" \
	"ps --json --all: no NICs (their host interfaces are gone)"
wait "$conpid"
is "$?" 0 "console with closed input ends with the guest's side"
grep -q "vmrun-testguest: powering off" "$T/conb.out"
ok $? "and it saw the guest power off"
grep -q "the console of guest 'b' closed" "$T/conb.err"
ok $? "saying the console closed"
v down "$T/lab.yaml" >/dev/null 2>&1
is "$?" 0 "down with nothing running returns 0"

# --- kill and stop of single guests
v up "$T/lab.yaml" b >"$T/up3.out" 2>&1
is "$?" 0 "up of one named guest"
[ ! -e "$STATE/a/ready" ]
ok $? "only that guest started"
qb=$(json_get "$STATE/b/status.json" 'j["qemu_pid"]')
v kill b >"$T/kill.out" 2>&1
is "$?" 0 "kill returns 0"
gone "$qb" 5
ok $? "kill: QEMU is gone"
is "$(json_get "$STATE/b/status.json" 'j["exit_status"]')" 137 "kill: the supervisor recorded 137"
v stop b >"$T/stop.out" 2>&1
is "$?" 0 "stop of a guest that is not running returns 0"
grep -q "guest 'b' is not running" "$T/stop.out"
ok $? "saying so"

cat >"$T/deaf.yaml" <<YAML
version: 1
guests:
  c:
    accel: tcg
    cpuset: "1"
    memory: 256M
    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
    append: console=ttyS0 quiet vmrun.noacpi=1
    stop_timeout: 600
YAML
v up "$T/deaf.yaml" >"$T/up4.out" 2>&1
is "$?" 0 "up of a guest that ignores the power button"
wait_grep "$STATE/c/console.log" "vmrun-testguest: booted" 90
v stop --timeout 1 c >"$T/stop2.out" 2>&1
is "$?" 0 "stop --timeout 1 returns 0"
grep -q "^guest 'c' stopped: stopped without a guest poweroff (exit status 143)\$" "$T/stop2.out"
# without --timeout honoured, stop would wait for 600 s and give up after 633
ok_or_show $? "stop --timeout: escalated after 1 s instead of the guest's 600" "$T/stop2.out" "$STATE/c/supervisor.log"

done_testing
