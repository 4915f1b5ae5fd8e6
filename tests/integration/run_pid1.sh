#!/usr/bin/env bash
# `vmrun run` as PID 1 of a new PID namespace (as in a container): signals
# reach it, orphans are reaped, and killing it takes QEMU along.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash

if ! command -v python3 >/dev/null || ! command -v unshare >/dev/null; then
	skip "python3 or unshare is missing" "PID 1 suite"
	done_testing
	exit
fi
if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
	skip "cannot create a PID namespace here (needs root)" "PID 1 suite"
	done_testing
	exit
fi
export VMRUN_QEMU=$FAKEQEMU
# RUN_PID holds unshare's pid: killing it alone would leave its child, the
# supervisor, running in its namespace
pid1_cleanup() {
	local p c
	for p in "${RUN_PID[@]}"; do
		for c in $(cat "/proc/$p/task/$p/children" 2>/dev/null); do
			kill -KILL "$c" 2>/dev/null
		done
	done
	run_cleanup
}
trap pid1_cleanup EXIT

cat >"$T/p.yaml" <<EOF
version: 1
guests:
  p:
    accel: tcg
    cpuset: "0-1"
    memory: 64M
    stop_timeout: 5
    qemu_args: ["-fake", "report=$T/p.report", "-fake", "orphan=1"]
EOF

# pid1_start NAME: the supervisor as PID 1 of a new PID namespace
pid1_start() {
	: >"$T/$1.out"
	: >"$T/$1.err"
	unshare --pid --fork --mount-proc "$VMRUN" --state-dir "$STATE" run "$T/p.yaml" p \
		>>"$T/$1.out" 2>>"$T/$1.err" &
	RUN_PID[$1]=$!
}

# the supervisor's pid as seen from here: the only child of unshare
host_pid_of_child() {
	local i c
	for ((i = 0; i < 100; i++)); do
		c=$(cat "/proc/$1/task/$1/children" 2>/dev/null)
		[ -n "$c" ] && { echo "${c%% *}"; return; }
		sleep 0.05
	done
}

pid1_start p1
run_wait_ready p1 p 20
ok $? "guest ready with the supervisor as PID 1"
sup=$(host_pid_of_child "${RUN_PID[p1]}")
is "$(head -1 "$STATE/p/lock")" "1" "the supervisor is PID 1 of its namespace"
is "$(json_get "$T/p.report" 'j["ppid"]')" "1" "QEMU is its child"

# the fake QEMU leaves an orphan that exits a second later: the
# supervisor, as the namespace's init, must reap it
run_wait_grep "$T/p.report.orphan" "[0-9]" 10
ok $? "QEMU left an orphan"
sleep 2
zombies=$(ps -o stat= --ppid "$sup" | grep -c '^Z')
is "$zombies" 0 "no zombie among the supervisor's children"
is "$(ps -o pid= --ppid "$sup" | wc -l)" 1 "QEMU is its only child left"

kill -TERM "$sup"
run_wait_exit p1 20
is "$RC" 0 "SIGTERM to PID 1: guest powers off, exit 0"
torn_down p
ok $? "torn down"

# SIGKILL of PID 1: the kernel kills the namespace, QEMU included
pid1_start p2
run_wait_ready p2 p 20
ok $? "guest ready again"
sup=$(host_pid_of_child "${RUN_PID[p2]}")
qemu=$(cat "/proc/$sup/task/$sup/children")
kill -KILL "$sup"
pid_gone "$qemu" 1
ok $? "QEMU gone within 1 s of PID 1's SIGKILL"
run_wait_exit p2 10
pid1_start p3
run_wait_ready p3 p 20
ok $? "the next run reclaims the guest's state and starts"
kill -TERM "$(host_pid_of_child "${RUN_PID[p3]}")"
run_wait_exit p3 20
is "$RC" 0 "and stops cleanly"
torn_down p
ok $? "torn down"

done_testing
