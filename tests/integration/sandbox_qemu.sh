#!/usr/bin/env bash
# The real QEMU under vmrun's privilege drop (lib/caps.h) with its own
# -sandbox, as vmrun starts it: /proc/PID/status shows the drop and QEMU's
# seccomp filter, QMP still works, and root can still pin QEMU's threads.
# Also the pitfall that makes vmrun drop privileges itself: QEMU's -runas
# together with elevateprivileges=deny kills QEMU.
# The drop is applied by `build/tests/lib_caps exec` (the unit test's
# helper mode), which then execs QEMU.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
BUILD=${BUILD:-build}
HELPER=$BUILD/tests/lib_caps
QEMU=${VMRUN_QEMU:-/usr/bin/qemu-system-x86_64}
SANDBOX=on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny
USER_NAME=nobody

why=""
[ "$(id -u)" -eq 0 ] || why="needs root (the drop changes uid)"
[ -n "$why" ] || [ -x "$HELPER" ] || why="$HELPER is not built (make unit)"
[ -n "$why" ] || [ -x "$QEMU" ] || why="no QEMU at $QEMU"
[ -n "$why" ] || command -v python3 >/dev/null || why="python3 is missing (QMP client)"
[ -n "$why" ] || id "$USER_NAME" >/dev/null 2>&1 || why="no user '$USER_NAME'"
if [ -n "$why" ]; then
	skip "$why" "QEMU under the privilege drop"
	done_testing
	exit
fi

T=$(mktemp -d /tmp/vmrt-sandbox.XXXXXX)
chmod a+x "$T" # the dropped QEMU must reach its own directory
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# status_field PID KEY: the value of "KEY:" in /proc/PID/status, blanks squeezed
status_field() {
	awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status"
}

# qmp SOCKET COMMAND: negotiate, run COMMAND, print its reply as JSON
qmp() {
	python3 - "$1" "$2" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(sys.argv[1])
f = s.makefile("rwb")
def reply():
    while True:
        line = f.readline()
        if not line:
            sys.exit("monitor closed")
        m = json.loads(line)
        if "event" not in m:
            return m
if "QMP" not in reply():
    sys.exit("no greeting")
for cmd in ("qmp_capabilities", sys.argv[2]):
    f.write(json.dumps({"execute": cmd}).encode() + b"\n")
    f.flush()
    r = reply()
print(json.dumps(r, sort_keys=True))
EOF
}

# wait_socket PATH PID: 0 once PATH is a socket, 1 if PID exited first
wait_socket() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ -S "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# start NAME USER|-: QEMU through the drop, QMP socket in $T/NAME/qmp.sock
start() {
	local dir=$T/$1
	mkdir -p "$dir"
	[ "$2" = - ] || chown "$2" "$dir"
	"$HELPER" exec "$2" -- "$QEMU" -machine none -accel tcg -nodefaults -display none -S \
		-qmp "unix:$dir/qmp.sock,server=on,wait=off" -sandbox "$SANDBOX" 2>"$dir/err" &
	PID=$!
	PIDS+=("$PID")
	wait_socket "$dir/qmp.sock" "$PID"
}

# stop NAME PID: quit over QMP and wait; sets STATUS to QEMU's exit status
stop() {
	qmp "$T/$1/qmp.sock" quit >/dev/null
	wait "$2"
	STATUS=$?
}

zero=0000000000000000

# --- as a user: nothing left --------------------------------------------------
uid=$(id -u "$USER_NAME")
gid=$(id -g "$USER_NAME")
start user "$USER_NAME"
ok $? "QEMU started as '$USER_NAME' through the drop"
[ -s "$T/user/err" ] && diag "$(cat "$T/user/err")"
is "$(status_field "$PID" Uid)" "$uid $uid $uid $uid" "QEMU's real, effective, saved and fs uid are $uid"
is "$(status_field "$PID" Gid)" "$gid $gid $gid $gid" "QEMU's gids are $gid"
for k in CapInh CapPrm CapEff CapBnd CapAmb; do
	is "$(status_field "$PID" "$k")" "$zero" "QEMU as a user: $k empty"
done
is "$(status_field "$PID" NoNewPrivs)" 1 "QEMU as a user: NoNewPrivs 1"
is "$(status_field "$PID" Seccomp)" 2 "QEMU as a user loaded its -sandbox filter: Seccomp 2"
is "$(qmp "$T/user/qmp.sock" query-status)" \
	'{"return": {"running": false, "singlestep": false, "status": "prelaunch"}}' \
	"QMP works under the drop and -sandbox"
# resourcecontrol=deny binds QEMU only: the supervisor (root) still pins it
python3 -c 'import os, sys; os.sched_setaffinity(int(sys.argv[1]), {0})' "$PID"
ok $? "root pins the thread of QEMU running as '$USER_NAME'"
is "$(status_field "$PID" Cpus_allowed_list)" 0 "and the pin holds"
stop user "$PID"
is "$STATUS" 0 "QEMU as a user quits cleanly over QMP"

# --- as root: the small bounding set --------------------------------------------
own=$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)
want=$(printf '%016x' $((0x$own & (1 << 14))))
start root -
ok $? "QEMU started as root through the drop"
is "$(status_field "$PID" Uid)" "0 0 0 0" "QEMU as root: uid 0"
is "$(status_field "$PID" CapBnd)" "$want" "QEMU as root: bounding set is CAP_IPC_LOCK only"
is "$(status_field "$PID" CapEff)" "$want" "QEMU as root: effective set is CAP_IPC_LOCK only"
is "$(status_field "$PID" NoNewPrivs)" 1 "QEMU as root: NoNewPrivs 1"
is "$(status_field "$PID" Seccomp)" 2 "QEMU as root: Seccomp 2"
is "$(qmp "$T/root/qmp.sock" query-status | python3 -c 'import json,sys; print(json.load(sys.stdin)["return"]["status"])')" \
	prelaunch "QMP works as root under the drop"
stop root "$PID"
is "$STATUS" 0 "QEMU as root quits cleanly over QMP"

# --- why vmrun never passes -runas --------------------------------------------
# QEMU loads its filter before it changes uid, so elevateprivileges=deny kills
# it on setgid: 128 + SIGSYS.  timeout only guards against a hang.
# (in a command substitution, so the shell's "Bad system call" line goes nowhere)
rc=$({
	timeout 60 "$QEMU" -machine none -accel tcg -nodefaults -display none -S \
		-runas "$USER_NAME" -sandbox "$SANDBOX"
	echo $?
} 2>/dev/null)
is "$rc" 159 "QEMU's own -runas under elevateprivileges=deny dies of SIGSYS"

done_testing
