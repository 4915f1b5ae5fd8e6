#!/usr/bin/env bash
# Fault group "stall": QEMU stopped with SIGSTOP (it answers nothing, not
# even QMP), then SIGTERM to the supervisor, at every step where QEMU
# exists, and QEMU that never greets.  The supervisor's deadlines must fire
# and its teardown complete: exit 143 for a stop, nothing left.
#   running: real QEMU (the test guest) with a macvtap NIC; the ACPI wait
#            (stop_timeout 1), then `quit` (2 s), then SIGKILL;
#   spawned, greeted, pinned: the supervisor waits at a fault point while
#            QEMU is stopped, then resumes its startup and gets SIGTERM;
#   a fake QEMU that never greets: SIGTERM stops the wait at once; without
#            one the startup deadline fails the start (exit 1, one error).
set -u
cd "$(dirname "$0")/../.." || exit 1
FAULTS_GROUP="stall: QEMU stopped with SIGSTOP"
# shellcheck source=tests/faults/lib.bash
. tests/faults/lib.bash
faults_need root fault testguest python3 netns macvtap
unset VMRUN_QEMU

TOPO=$T/g.yaml
topo_real "$TOPO" g '{name: n0, macvtap: p0, mac: "52:54:00:66:02:01"}'
faults_baseline

# stall_running NAME SIGNALS: the guest runs; QEMU stopped, then SIGTERM
# (and SIGNALS more: a second SIGTERM skips the ACPI wait)
stall_running() {
	local name=$1 extra=$2 q
	fstart "$name" "" "$TOPO" g
	wait_ready "$name" g 60
	ok $? "$name: the guest runs" || sed 's/^/# /' "$T/$name.err"
	q=$(children "${RUN_PID[$name]}")
	kill -STOP "$q"
	kill -TERM "${RUN_PID[$name]}"
	if [ "$extra" = 1 ]; then
		run_wait_grep "$T/$name.err" "pressing the ACPI power button" 10
		kill -TERM "${RUN_PID[$name]}"
	fi
	fwait_exit "$name" 60
	is "$RC" 143 "$name: the stop ends with 143"
	grep -q "QEMU did not quit: killing QEMU" "$T/$name.err"
	ok $? "$name: the escalation reached SIGKILL" || sed 's/^/# /' "$T/$name.err"
	is "$(errors "$T/$name.err")" 0 "$name: a stop is not an error"
	faults_clean "$name"
}

# stall_at POINT: QEMU stopped while the supervisor waits at POINT; the
# supervisor resumes, then gets SIGTERM
stall_at() {
	local point=$1 name="stall@$1" q sup i
	fstart "$name" "$point=stop" "$TOPO" g
	fwait_stop "$name" "$point" 60
	ok $? "$name: the supervisor stopped at $point" || sed 's/^/# /' "$T/$name.err"
	sup=${RUN_PID[$name]}
	q=$(children "$sup")
	kill -STOP "$q"
	for ((i = 0; i < 100; i++)); do [ "$(proc_state "$q")" = T ] && break; sleep 0.02; done
	kill -CONT "$sup"
	kill -TERM "$sup"
	fwait_exit "$name" 60
	is "$RC" 143 "$name: SIGTERM stops the start, exit 143"
	is "$(errors "$T/$name.err")" 0 "$name: a stop is not an error" || sed 's/^/# /' "$T/$name.err"
	faults_clean "$name"
}

# never_greets NAME TERM: a fake QEMU that accepts QMP and never greets
never_greets() {
	local name=$1 term=$2
	topo_fake "$T/$name.yaml" g 5 "greeting=never" -- '{name: n0, macvtap: p0, mac: "52:54:00:66:02:02"}'
	VMRUN_QEMU=$FAKEQEMU fstart "$name" "" "$T/$name.yaml" g
	if [ "$term" = 1 ]; then
		# the supervisor has connected and waits: the fake QEMU runs
		run_wait_grep "$STATE/g/status.json" '"qemu_pid": *[1-9]' 20
		kill -TERM "${RUN_PID[$name]}"
		fwait_exit "$name" 30
		is "$RC" 143 "$name: SIGTERM during the wait for the greeting: exit 143"
		is "$(errors "$T/$name.err")" 0 "$name: a stop is not an error" || sed 's/^/# /' "$T/$name.err"
	else
		# the startup deadline (30 s) is the only way out
		fwait_exit "$name" 90
		is "$RC" 1 "$name: no greeting: the start fails, exit 1"
		grep -q "^vmrun: error: .*no greeting within" "$T/$name.err"
		ok $? "$name: the error says no greeting came" || sed 's/^/# /' "$T/$name.err"
		is "$(errors "$T/$name.err")" 1 "$name: exactly one error line"
	fi
	faults_clean "$name"
}
export FAKEQEMU

if [ "$FAULTS_QUICK" = 1 ]; then
	stall_running stall@running 0
	stall_at greeted
	never_greets never-greets+sigterm 1
else
	stall_running stall@running 0
	stall_running stall@running+2xsigterm 1
	for p in spawned greeted pinned; do stall_at "$p"; done
	never_greets never-greets+sigterm 1
	never_greets never-greets 0
fi

done_testing
