# shellcheck shell=bash
# Helpers for the `vmrun run` suites (tests/integration/run_*.sh): source it
# after tests/lib/tap.sh.  Each suite gets its own state directory under a
# temporary directory that is removed, with every supervisor the suite
# started, on any exit.
# shellcheck disable=SC2034 # FAKEQEMU, TESTGUEST and RC are for the suites
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VMRUN=${VMRUN:-$top/${BUILD:-build}/vmrun}
FAKEQEMU=$top/tests/integration/fakeqemu.py
TESTGUEST=$top/${BUILD:-build}/testguest
# the guest image does not depend on how vmrun was built (make asan)
[ -d "$TESTGUEST" ] || TESTGUEST=$top/build/testguest
T=$(mktemp -d /tmp/vmrt-run.XXXXXX)
STATE=$T/state
declare -A RUN_PID=()

run_cleanup() {
	local p
	# this script's own shell only (a subshell signalled before bash resets
	# its traps runs the parent's EXIT trap: tests/faults/lib.bash)
	[ "$BASHPID" = "$$" ] || return 0
	for p in "${RUN_PID[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	# QEMUs die with their supervisor (PDEATHSIG); reap what is ours
	wait 2>/dev/null
	rm -rf "$T"
}
trap run_cleanup EXIT

# run_stage FILE...: copy each FILE into $T/stage, which every user can
# enter and read, and print the copies' paths, one a line.  What QEMU opens
# after dropping to qemu_user (its program, kernel, initrd) goes there: the
# checkout may sit in a directory only its owner can enter (a mktemp -d or
# /root clone).  Copies keep their execute bits; 1 if a copy failed.
run_stage() {
	local f
	chmod a+x "$T" && mkdir -p "$T/stage" && chmod 0755 "$T/stage" || return 1
	for f; do
		# already staged (the fake QEMU is, by this file): the same copy
		[ "$f" -ef "$T/stage/${f##*/}" ] ||
			cp -- "$f" "$T/stage/" || return 1
		chmod a+rX "$T/stage/${f##*/}" || return 1
		echo "$T/stage/${f##*/}"
	done
}

# QEMU runs as the default qemu_user (vmrun, or nobody where there is none):
# the fake QEMU is a staged copy that user can run, and $T is writable to it
# (sticky, like /tmp) for what it writes there (-fake report=, cmdlog=)
FAKEQEMU=$(run_stage "$FAKEQEMU") && chmod 1777 "$T" ||
	echo "# run_lib: cannot stage the fake QEMU in $T" >&2
# shellcheck source=tests/lib/qemuuser.sh
. "$top/tests/lib/qemuuser.sh"
TESTGUEST=$(qemuuser_testguest "$T") || echo "# run_lib: cannot stage the test guest in $T" >&2

# run_start NAME TOPOLOGY GUEST [ARGS...]: start a supervisor in the background;
# its stdout and stderr go to $T/NAME.out and $T/NAME.err.
run_start() {
	local name=$1 topo=$2 guest=$3
	shift 3
	# emptied here, not only by the background redirection, which may run
	# after run_wait_ready has already read a previous run's lines
	: >"$T/$name.out"
	: >"$T/$name.err"
	"$VMRUN" --state-dir "$STATE" run "$@" "$topo" "$guest" >>"$T/$name.out" 2>>"$T/$name.err" &
	RUN_PID[$name]=$!
}

# run_wait_ready NAME GUEST SECONDS: 0 once this supervisor said the guest runs
# and STATE/GUEST/ready exists (a ready file alone may be a dead run's), 1 if
# the supervisor exited or the time ran out.
run_wait_ready() {
	local name=$1 guest=$2 i
	for ((i = 0; i < $3 * 20; i++)); do
		if [ -e "$STATE/$guest/ready" ] &&
			grep -q "^vmrun: guest '$guest' running (qemu pid" "$T/$name.err"; then
			return 0
		fi
		kill -0 "${RUN_PID[$name]}" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# run_wait_exit NAME SECONDS: wait for supervisor NAME; its exit status goes
# to RC (255 + a diagnostic if it was still running, then it is killed).
run_wait_exit() {
	local name=$1 pid=${RUN_PID[$1]} i
	for ((i = 0; i < $2 * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		diag "supervisor $name still running after $2 s: killing it"
		kill -KILL "$pid"
	fi
	wait "$pid"
	RC=$?
	unset "RUN_PID[$name]"
}

# run_wait_file_grep FILE PATTERN SECONDS: 0 once FILE has a line matching PATTERN.
run_wait_grep() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# json_get FILE EXPR: evaluate a Python expression on the JSON in FILE (as j).
json_get() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ctl GUEST JSON: one control-socket request; prints the reply line.
ctl() {
	python3 - "$STATE/$1/control.sock" "$2" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while b"\n" not in buf:
    d = s.recv(65536)
    if not d:
        break
    buf += d
print(buf.decode().strip())
EOF
}

# qemu_pid GUEST: QEMU's pid from status.json.
qemu_pid() {
	json_get "$STATE/$1/status.json" 'j["qemu_pid"]'
}

# thread_cpus PID TID: the Cpus_allowed_list of one thread.
thread_cpus() {
	awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$1/task/$2/status"
}

# pid_gone PID SECONDS: 0 once process PID has died.  A zombie counts as
# dead: who reaps it (init, or the container's) is not under test here.
pid_gone() {
	local i st
	for ((i = 0; i < $2 * 100; i++)); do
		st=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 0
		[ -z "$st" ] || [ "$st" = Z ] && return 0
		sleep 0.01
	done
	return 1
}

# torn_down GUEST: 0 when no socket, ready file or journal entry is left.
torn_down() {
	local d=$STATE/$1 f
	for f in ready qmp.sock serial.sock console.sock control.sock; do
		[ -e "$d/$f" ] && { diag "left behind: $d/$f"; return 1; }
	done
	[ -s "$d/journal.jsonl" ] && { diag "journal not empty"; return 1; }
	return 0
}

# one_error FILE: 0 when FILE (a supervisor's stderr) holds exactly one
# error line: a failure is reported once, not once per layer.
one_error() {
	local n
	n=$(grep -c '^vmrun: error:' "$1")
	[ "$n" -eq 1 ] || { diag "$n error lines in $1"; return 1; }
}
