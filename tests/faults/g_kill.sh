#!/usr/bin/env bash
# Fault group "kill": SIGKILL of QEMU, and of the supervisor (or its _exit
# without cleanup), at every startup step, through the fault points of the
# `make faults` build (lib/fault.h).  Real QEMU (the test guest, TCG) with a
# macvtap NIC and a bridge NIC in a network namespace of our own: three
# journal entries.
#
#   kill the supervisor at POINT (VMRUN_FAULT=POINT=die): QEMU dies with
#   it; then the next `vmrun run`, `vmrun up` or `vmrun down` of the guest
#   must undo what it left (the journal replayed, the links gone) and the
#   guest must run again with the fds of a clean start.  `down` must also
#   clear what the dead supervisor left besides the journal (ready, the
#   sockets) and record in status.json that the guest exited.
#   kill QEMU at POINT (VMRUN_FAULT=POINT=stop, kill -9 QEMU, SIGCONT):
#   the supervisor tears down and exits 1 with one error (137 once the
#   guest ran).
#   SIGTERM at POINT: the start stops before the guest runs, exit 143.
set -u
cd "$(dirname "$0")/../.." || exit 1
FAULTS_GROUP="kill: SIGKILL of QEMU and of the supervisor at every startup step"
# shellcheck source=tests/faults/lib.bash
. tests/faults/lib.bash
faults_need root fault testguest python3 netns macvtap bridge
unset VMRUN_QEMU

TOPO=$T/g.yaml
topo_real "$TOPO" g '{name: n0, macvtap: p0, mac: "52:54:00:66:00:01"}' \
	'{name: n1, bridge: fbr0, mac: "52:54:00:66:00:02"}'
faults_baseline

# a clean start and stop first: the fds a supervisor holds while its guest
# runs, started here and by `vmrun up` (whose supervisors inherit nothing)
fstart clean "" "$TOPO" g
wait_ready clean g 60
ok $? "clean: the guest runs (fault build, no fault asked)" || sed 's/^/# /' "$T/clean.err"
BASE_FDS=$(fd_list_settled "${RUN_PID[clean]}")
diag "a running supervisor's fds: $BASE_FDS"
is "$(wc -l <"$STATE/g/journal.jsonl")" 3 "clean: three journal entries while it runs (macvtap, bridge, tap)"
kill -TERM "${RUN_PID[clean]}"
fwait_exit clean 30
[ "$RC" = 0 ] || [ "$RC" = 143 ]
ok $? "clean: stops with 0 or 143 (got $RC)"
faults_clean clean
out=$(in_ns "$VMRUN" --state-dir "$STATE" up "$TOPO" 2>&1)
ok $? "clean-up: vmrun up starts the guest" || diag "$out"
BASE_FDS_UP=$(fd_list_settled "$(head -1 "$STATE/g/lock")")
diag "the fds of a supervisor vmrun up started: $BASE_FDS_UP"
out=$(in_ns "$VMRUN" --state-dir "$STATE" down "$TOPO" 2>&1)
ok $? "clean-up: vmrun down stops it" || diag "$out"
faults_clean clean-up

# runtime_files: the files of a running supervisor present in the guest's directory
runtime_files() {
	local f out=""
	for f in ready qmp.sock serial.sock console.sock control.sock; do
		[ -e "$STATE/g/$f" ] && out+="$f "
	done
	echo "${out% }"
}

# status_state: the "state" of the guest's status.json
status_state() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("state"))' \
		"$STATE/g/status.json" 2>/dev/null
}

# recover NAME HOW LEFT: after a supervisor died, HOW (run, up or down)
# must undo LEFT journal entries and leave a guest that runs (run, up)
recover() {
	local name=$1 how=$2 left=$3 out pid stale ps_out
	case $how in
	run)
		fstart "$name" "" "$TOPO" g
		wait_ready "$name" g 60
		ok $? "$name: the next vmrun run starts the guest" || sed 's/^/# /' "$T/$name.err"
		if [ "$left" -gt 0 ]; then
			grep -q "undid $left host change" "$T/$name.err"
			ok $? "$name: it undid the $left journal entries left" || sed 's/^/# /' "$T/$name.err"
		fi
		is "$(fd_list_settled "${RUN_PID[$name]}" "$BASE_FDS")" "$BASE_FDS" "$name: its fds are those of a clean start"
		kill -TERM "${RUN_PID[$name]}"
		fwait_exit "$name" 30
		[ "$RC" = 0 ] || [ "$RC" = 143 ]
		ok $? "$name: stops with 0 or 143 (got $RC)"
		is "$(errors "$T/$name.err")" 0 "$name: no error"
		;;
	up)
		out=$(in_ns "$VMRUN" --state-dir "$STATE" up "$TOPO" 2>&1)
		ok $? "$name: vmrun up starts the guest" || diag "$out"
		pid=$(head -1 "$STATE/g/lock")
		is "$(fd_list_settled "$pid" "$BASE_FDS_UP")" "$BASE_FDS_UP" "$name: its fds are those of a clean start"
		if [ "$left" -gt 0 ]; then
			grep -q "undid $left host change" "$STATE/g/supervisor.log"
			ok $? "$name: its supervisor undid the $left journal entries left"
		fi
		out=$(in_ns "$VMRUN" --state-dir "$STATE" down "$TOPO" 2>&1)
		ok $? "$name: vmrun down stops it" || diag "$out"
		;;
	down)
		stale=$(runtime_files)
		out=$(in_ns "$VMRUN" --state-dir "$STATE" down "$TOPO" 2>&1)
		ok $? "$name: vmrun down of the dead guest succeeds" || diag "$out"
		if [ "$left" -gt 0 ]; then
			[[ $out == *"undid $left host change"* ]]
			ok $? "$name: down says it undid the $left entries" || diag "$out"
		fi
		# what the dead supervisor left besides the journal: down clears
		# it as the next start does (lib/runtime/reclaim.c), and records
		# in status.json that the guest exited, or it still looks stale
		if [ -n "$stale" ]; then
			is "$(runtime_files)" "" "$name: down removes the dead supervisor's $stale"
			ps_out=$(in_ns "$VMRUN" --state-dir "$STATE" ps 2>/dev/null | tail -n +2)
			is "$ps_out" "" "$name: after down, ps no longer lists the guest as stale"
		fi
		if [ -e "$STATE/g/status.json" ]; then
			is "$(status_state)" exited "$name: after down, status.json says the guest exited"
		fi
		;;
	esac
	faults_clean "$name"
}

# die POINT HOW [ACTION]: the supervisor SIGKILLs itself at POINT (ACTION
# exit: _exit(99) without any cleanup); HOW recovers
die() {
	local point=$1 how=$2 action=${3:-die} name left want=137 what="died of SIGKILL"
	name="$action@$point+$how"
	[ "$action" = exit ] && want=99 what="exited 99 without cleaning up"
	fstart "$name" "$point=$action" "$TOPO" g
	if [ "$point" = teardown ]; then
		wait_ready "$name" g 60
		ok $? "$name: the guest runs" || sed 's/^/# /' "$T/$name.err"
		kill -TERM "${RUN_PID[$name]}"
	fi
	fwait_exit "$name" 60
	is "$RC" "$want" "$name: the supervisor $what at ${point%%:*}"
	wait_no_procs 10
	ok $? "$name: QEMU died with it"
	left=0
	[ -f "$STATE/g/journal.jsonl" ] && left=$(wc -l <"$STATE/g/journal.jsonl")
	diag "$name: left $left journal entries, links: $(links)"
	recover "$name" "$how" "$left"
}

# kill_qemu POINT: QEMU SIGKILLed while the supervisor waits at POINT
kill_qemu() {
	local point=$1 name="kill-qemu@$1" q sup i want=1
	fstart "$name" "$point=stop" "$TOPO" g
	fwait_stop "$name" "$point" 60
	ok $? "$name: the supervisor stopped at $point" || sed 's/^/# /' "$T/$name.err"
	sup=${RUN_PID[$name]}
	q=$(children "$sup")
	[ -n "$q" ]
	ok $? "$name: QEMU is its child (pid $q)"
	[ -n "$q" ] && kill -KILL "$q"
	# it stays a zombie until the supervisor, still stopped, reaps it
	for ((i = 0; i < 100; i++)); do [ "$(proc_state "$q")" = Z ] && break; sleep 0.02; done
	kill -CONT "$sup"
	fwait_exit "$name" 60
	[ "$point" = running ] && want=137
	is "$RC" "$want" "$name: the supervisor exits $want"
	if [ "$point" = running ]; then
		grep -q "QEMU killed by SIGKILL, exit status 137" "$T/$name.err"
		ok $? "$name: it says QEMU was killed"
		is "$(errors "$T/$name.err")" 0 "$name: no error (the guest ran; 137 tells)"
	else
		grep -q "^vmrun: error: guest 'g': QEMU killed by SIGKILL before the guest was ready$" "$T/$name.err"
		ok $? "$name: the error says QEMU was killed before the guest was ready" || sed 's/^/# /' "$T/$name.err"
		is "$(errors "$T/$name.err")" 1 "$name: exactly one error line"
	fi
	faults_clean "$name"
}

# term POINT: SIGTERM to the supervisor while it waits at POINT
term() {
	local point=$1 name="sigterm@$1" sup
	fstart "$name" "$point=stop" "$TOPO" g
	fwait_stop "$name" "$point" 60
	ok $? "$name: the supervisor stopped at $point" || sed 's/^/# /' "$T/$name.err"
	sup=${RUN_PID[$name]}
	kill -TERM "$sup"
	kill -CONT "$sup"
	fwait_exit "$name" 60
	is "$RC" 143 "$name: the start stops, exit 143"
	is "$(errors "$T/$name.err")" 0 "$name: a stop is not an error"
	faults_clean "$name"
}

if [ "$FAULTS_QUICK" = 1 ]; then
	die journal-record:2 run
	die pinned down
	die host-setup up
	die teardown run
	kill_qemu spawned
	kill_qemu running
else
	i=0
	for p in journal-record:1 journal-record:2 journal-record:3 reclaimed host-setup spawned \
		greeted pinned running teardown; do
		# every point recovered by run and by down; up for a third of them
		die "$p" run
		die "$p" down
		[ $((i % 3)) = 0 ] && die "$p" up
		i=$((i + 1))
	done
	# _exit() instead of SIGKILL: QEMU still goes (PDEATHSIG), the rest stays
	die host-setup down exit
	die running run exit
	for p in spawned greeted pinned running; do kill_qemu "$p"; done
	for p in reclaimed host-setup spawned greeted pinned; do term "$p"; done
fi

done_testing
