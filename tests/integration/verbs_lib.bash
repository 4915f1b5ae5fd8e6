# shellcheck shell=bash
# Helpers for the verb suites (tests/integration/verbs_*.sh): source it after
# tests/lib/tap.sh.  Each suite gets a state directory under a temporary
# directory; on any exit every supervisor still running there is killed
# through `vmrun kill` (SIGKILL if that fails) and the directory removed.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VMRUN=${VMRUN:-$top/${BUILD:-build}/vmrun}
# shellcheck disable=SC2034 # for the suites that source this
FAKEQEMU=$top/tests/integration/fakeqemu.py
TESTGUEST=$top/${BUILD:-build}/testguest
T=$(mktemp -d /tmp/vmrt-verbs.XXXXXX)
# QEMU runs as the default qemu_user (vmrun, or nobody): it opens the bases
# and kernels the suites make here by name, through this directory
chmod a+x "$T"
# shellcheck source=tests/lib/qemuuser.sh
. "$top/tests/lib/qemuuser.sh"
TESTGUEST=$(qemuuser_testguest "$T") || echo "# verbs_lib: cannot stage the test guest in $T" >&2
STATE=$T/state
NS=""

v() { "$VMRUN" --state-dir "$STATE" "$@"; }

# supervisor pids holding a lock in $STATE (flock -n fails on a held lock)
held_pids() {
	local l
	for l in "$STATE"/*/lock; do
		[ -f "$l" ] || continue
		flock -n -s "$l" true 2>/dev/null || cat "$l"
	done
}

verbs_cleanup() {
	local d p
	for d in "$STATE"/*/; do
		[ -d "$d" ] || continue
		d=${d%/}
		timeout 40 "$VMRUN" --state-dir "$STATE" kill "${d##*/}" >/dev/null 2>&1
	done
	for p in $(held_pids); do
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap verbs_cleanup EXIT

need_testguest() { # need_testguest WHAT: skip the suite without the test guest
	if [ ! -f "$TESTGUEST/vmlinuz" ] || [ ! -f "$TESTGUEST/initrd.img" ]; then
		skip "no test guest in $TESTGUEST (run make testguest)" "$1"
		done_testing
		exit
	fi
	if [ "$(nproc)" -lt 2 ]; then
		skip "needs 2 CPUs for cpusets 0 and 1" "$1"
		done_testing
		exit
	fi
}

# json_get FILE EXPR: evaluate a Python expression on the JSON in FILE (as j).
json_get() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# thread_cpus PID TID: the Cpus_allowed_list of one thread.
thread_cpus() {
	awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$1/task/$2/status"
}

# alive PID: 0 while PID exists and is not a zombie.
alive() {
	local st
	st=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# wait_grep FILE PATTERN SECONDS: 0 once FILE has a line matching PATTERN.
wait_grep() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# gone PID SECONDS: 0 once PID has died.
gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

# ok_or_show STATUS DESCRIPTION FILE...: ok, and on failure the files as diagnostics
ok_or_show() {
	local r=$1 d=$2
	shift 2
	ok "$r" "$d"
	[ "$r" -eq 0 ] || show "$@"
}

# show FILE...: the files as TAP diagnostics (after a failure)
show() {
	local f
	for f in "$@"; do
		[ -f "$f" ] && sed "s|^|# ${f##*/}: |" "$f" | tail -15
	done
}
