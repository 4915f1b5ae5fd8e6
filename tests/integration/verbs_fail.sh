#!/usr/bin/env bash
# `vmrun up` when things go wrong, and guest selection (docs/verbs.md):
# a guest whose QEMU fails makes up stop the guests it started and name the
# failed one with the end of its supervisor.log; --host and the local host
# pick guests by placement; bad names change nothing; the supervisor's ping
# and status.json; ps lists running and stale guests only (a supervisor
# killed with SIGKILL shows as stale) and up brings the guest back; up of a
# guest being stopped waits for its end.  Mostly against
# the fake QEMU (tests/integration/fakeqemu.py); the missing-kernel case uses
# real QEMU and the test guest when they are there.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/verbs_lib.bash
. tests/integration/verbs_lib.bash

if ! command -v python3 >/dev/null; then
	skip "python3 is missing (the fake QEMU is a Python script)" "up failure suite"
	done_testing
	exit
fi

# placement: h1 is primary (x has no host: h1), h2 runs y (broken) and z
cat >"$T/hosts.yaml" <<YAML
version: 1
defaults:
  accel: tcg
  memory: 64M
  stop_timeout: 2
hosts:
  h1: {address: 203.0.113.71, primary: true}
  h2: {address: 203.0.113.72}
guests:
  x:
    cpuset: "0"
  z:
    host: h2
    cpuset: "0"
  y:
    host: h2
    cpuset: "1"
    qemu_args: ["-fake", "startup=exit1"]
YAML

export VMRUN_QEMU=$FAKEQEMU

# --- one guest fails: up stops the others it started and names it
v up --host h2 "$T/hosts.yaml" >"$T/up.out" 2>"$T/up.err"
is "$?" 1 "up with a failing guest exits 1"
grep -q "^vmrun: error: guest 'y' failed: QEMU exited with status 1 before the guest was ready\$" "$T/up.err"
ok_or_show $? "up names the failed guest, with its supervisor's error" "$T/up.out" "$T/up.err"
grep -q "^  | fakeqemu: failing at startup as asked\$" "$T/up.err"
ok $? "and shows QEMU's complaint from its supervisor.log"
grep -q "^  | vmrun: error: guest 'y': QEMU exited with status 1 before the guest was ready\$" "$T/up.err"
ok_or_show $? "and the supervisor's error" "$T/up.out" "$T/up.err"
if grep -q "^vmrun: stopped guest 'z' (started by this command)\$" "$T/up.err"; then
	ok 0 "up says it stopped z"
	[ -z "$(held_pids)" ]
	ok $? "z's supervisor is gone when up returns"
	v ps --json z >"$T/psz.json"
	is "$(json_get "$T/psz.json" 'j[0]["state"]')" exited "ps: z exited cleanly"
else
	# y can fail before z's supervisor even started; then there is nothing to stop
	[ ! -e "$STATE/z/lock" ] || [ "$(json_get <(v ps --json z) 'j[0]["state"]')" != running ]
	ok $? "z is not running"
	skip "y failed before z was started" "z's supervisor is gone"
	skip "y failed before z was started" "ps: z exited cleanly"
fi
[ ! -e "$STATE/x" ]
ok $? "x (placed on h1) was not touched"

# --- names and hosts that do not exist change nothing
v up --host nosuch "$T/hosts.yaml" >/dev/null 2>"$T/e1"
is "$?" 2 "up --host with an unknown host exits 2"
grep -q "host 'nosuch' not found" "$T/e1" && grep -q "hint: hosts: h1, h2" "$T/e1"
ok $? "naming it and listing the hosts"
v up "$T/hosts.yaml" x nosuch >/dev/null 2>"$T/e2"
is "$?" 2 "up with an unknown guest exits 2"
grep -q "guest 'nosuch' not found" "$T/e2"
ok $? "naming it"
[ ! -e "$STATE/x" ]
ok $? "and nothing was started"
if ip -o addr show | grep -q " 203\.0\.113\.7[12]/" || [ "$(hostname -s)" = h1 ] ||
	[ "$(hostname -s)" = h2 ]; then
	skip "this machine has h1's or h2's name or address" "up on none of the hosts exits 2"
	skip "this machine has h1's or h2's name or address" "saying so"
else
	v up "$T/hosts.yaml" >/dev/null 2>"$T/e3"
	is "$?" 2 "up without --host on a machine that is none of the hosts exits 2"
	grep -q "this machine is none of the hosts" "$T/e3"
	ok $? "saying so"
fi

# --- this machine found by its address (127.0.0.1 is on lo)
cat >"$T/local.yaml" <<YAML
version: 1
defaults: {accel: tcg, memory: 64M, stop_timeout: 2}
hosts:
  far: {address: 203.0.113.71, primary: true}
  here: {address: 127.0.0.1}
guests:
  p: {cpuset: "0"}
  q: {cpuset: "1", host: here}
YAML
v up "$T/local.yaml" >"$T/up2.out" 2>"$T/up2.err"
is "$?" 0 "up finds this machine by its address"
grep -q "^guest 'q' is running" "$T/up2.out" && ! grep -q "guest 'p'" "$T/up2.out"
ok $? "and starts only the guest placed on it"
grep -q "^vmrun: guest 'q' running (qemu pid [0-9]*, vCPUs pinned to CPU 1)\$" "$STATE/q/supervisor.log"
ok_or_show $? "the ready line names the CPU" "$STATE/q/supervisor.log"

# ctl SOCKET LINE...: send each request line on one connection, print the replies
ctl() {
	python3 - "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
for req in sys.argv[2:]:
    f.write(req + "\n")
    f.flush()
    print(f.readline().strip())
PY
}
is "$(ctl "$STATE/q/control.sock" '{"ping": null}')" '{"return":{"ready":true}}' \
	"ping: a running guest is ready"
is "$(json_get "$STATE/q/status.json" 'j["stop_timeout"]')" 2 "status.json has the stop_timeout"
v ps --json q >"$T/psq.json"
is "$(json_get "$T/psq.json" 'type(j[0]["uptime"]).__name__')" int "ps --json: uptime in whole seconds"

# --- a supervisor killed with SIGKILL: ps says stale, up brings the guest back
v ps --json q >"$T/ps1.json"
sup=$(json_get "$T/ps1.json" 'j[0]["supervisor_pid"]')
qemu=$(json_get "$T/ps1.json" 'j[0]["qemu_pid"]')
kill -KILL "$sup"
gone "$qemu" 5
ok $? "QEMU dies with its supervisor"
v ps >"$T/ps2.txt" 2>"$T/ps2.err"
grep -Eq "^q +stale +- +- +- +- +- +-\$" "$T/ps2.txt"
ok_or_show $? "ps shows the guest as stale, without pids" "$T/ps2.txt"
grep -q "^vmrun: stale: .* reclaims what it left\$" "$T/ps2.err"
ok_or_show $? "saying the next start reclaims it" "$T/ps2.err"
v up --host here "$T/local.yaml" >"$T/up3.out" 2>&1
is "$?" 0 "up starts it again"
v ps --json q >"$T/ps3.json"
is "$(json_get "$T/ps3.json" 'j[0]["state"]')" running "ps: running again"
[ "$(json_get "$T/ps3.json" 'j[0]["supervisor_pid"]')" != "$sup" ]
ok $? "under a new supervisor"
v down "$T/local.yaml" >"$T/down.out" 2>&1
is "$?" 0 "down"
grep -q "^guest 'q' stopped" "$T/down.out"
ok $? "down stopped q"
[ -z "$(held_pids)" ]
ok $? "no supervisor is left"
is "$(v ps --json | tr -d ' \n')" "[]" "ps lists no stopped guest"
is "$(json_get <(v ps --json --all) '[g["guest"] + ":" + g["state"] for g in j if g["guest"] == "q"]')" \
	"['q:exited']" "ps --all does"
is "$(v ps | wc -l)" 1 "the table has only its header"

# --- a stop in progress: ping says not ready; up waits for the end, not its
# timeout, then starts the guest again; stop reports how the old one ended
cat >"$T/deaf.yaml" <<YAML
version: 1
guests:
  d: {accel: tcg, memory: 64M, cpuset: "0", stop_timeout: 600, qemu_args: ["-fake", "acpi=ignore"]}
YAML
v up "$T/deaf.yaml" >"$T/up6.out" 2>&1
is "$?" 0 "up of a guest that ignores the power button"
is "$(ctl "$STATE/d/control.sock" '{"stop": {"timeout": 600}}' '{"ping": null}' | tr '\n' ' ')" \
	'{"return":{}} {"return":{"ready":false}} ' "ping: a guest being stopped is not ready"
v up --timeout 60 "$T/deaf.yaml" >"$T/up7.out" 2>"$T/up7.err" &
uppid=$!
wait_grep "$T/up7.out" "is already running" 10
v stop --timeout 1 d >"$T/stop.out" 2>&1
is "$?" 0 "stop --timeout 1 shortens the stop in progress"
grep -q "^guest 'd' stopped: stopped without a guest poweroff (exit status 143)\$" "$T/stop.out"
ok_or_show $? "it escalated" "$T/stop.out"
wait "$uppid"
is "$?" 0 "the up waiting meanwhile starts d again once the old supervisor is gone"
grep -q "^guest 'd' is running (supervisor pid [0-9]*," "$T/up7.out"
ok_or_show $? "saying so" "$T/up7.out" "$T/up7.err"
old=$(json_get "$STATE/d/status.json.1" 'j["supervisor_pid"]' 2>/dev/null)
new=$(json_get "$STATE/d/status.json" 'j["supervisor_pid"]')
[ -n "$old" ] && [ -n "$new" ] && [ "$old" != "$new" ]
ok $? "a new supervisor (was $old, now $new)"
v kill d >/dev/null 2>&1
is "$?" 0 "kill the new d"

# --- a guest never ready (a fake QEMU that never greets): up --timeout gives
# up, names it and stops it; the supervisor, still waiting for the greeting,
# takes the SIGTERM and kills its QEMU.
cat >"$T/hang-qemu" <<'SH'
#!/bin/sh
exec sleep 120
SH
chmod +x "$T/hang-qemu"
cat >"$T/hang.yaml" <<YAML
version: 1
guests:
  h: {accel: tcg, memory: 64M, cpuset: "0"}
YAML
VMRUN_QEMU=$T/hang-qemu v up --timeout 1 "$T/hang.yaml" >"$T/up5.out" 2>"$T/up5.err"
is "$?" 1 "a guest never ready: up --timeout exits 1"
grep -q "^vmrun: error: guest 'h' not running with its vCPUs pinned after 1 s\$" "$T/up5.err"
ok_or_show $? "naming the guest and the timeout" "$T/up5.err"
grep -q "^vmrun: stopped guest 'h' (started by this command)\$" "$T/up5.err"
ok $? "saying it stopped it"
[ -z "$(held_pids)" ]
ok $? "its supervisor is gone"
hq=$(json_get "$STATE/h/status.json" 'j["qemu_pid"]' 2>/dev/null)
[ -n "$hq" ] && gone "$hq" 5
ok $? "and its QEMU (the fake one that never answers)"

# --- real QEMU: a missing kernel file
unset VMRUN_QEMU
if [ ! -f "$TESTGUEST/vmlinuz" ] || [ ! -f "$TESTGUEST/initrd.img" ]; then
	for w in "exits 1" "names the guest" "with QEMU's message" "the good guest stopped"; do
		skip "no test guest in $TESTGUEST (run make testguest)" "missing kernel: $w"
	done
	done_testing
	exit
fi
cat >"$T/kernel.yaml" <<YAML
version: 1
defaults:
  accel: tcg
  memory: 256M
  kernel: $TESTGUEST/vmlinuz
  initrd: $TESTGUEST/initrd.img
  append: console=ttyS0 quiet
guests:
  good: {cpuset: "0"}
  bad: {cpuset: "1", kernel: $T/no-such-vmlinuz}
YAML
v up "$T/kernel.yaml" >"$T/up4.out" 2>"$T/up4.err"
is "$?" 1 "missing kernel: exits 1"
grep -q "^vmrun: error: guest 'bad' failed" "$T/up4.err"
ok $? "missing kernel: names the guest"
grep -q "^  | vmrun: error: guest 'bad': kernel '$T/no-such-vmlinuz': No such file or directory" "$T/up4.err"
ok_or_show $? "missing kernel: with the supervisor's message" "$T/up4.err"
# this run's own QEMU, not any on the machine (another run may have a "good" too)
gq=$(json_get "$STATE/good/status.json" 'j["qemu_pid"]' 2>/dev/null)
[ -z "$(held_pids)" ] && { [ -z "$gq" ] || [ "$gq" = None ] || gone "$gq" 5; }
ok $? "missing kernel: the good guest stopped"

done_testing
