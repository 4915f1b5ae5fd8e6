#!/usr/bin/env bash
# Fault group "disk": the state directory on a full tmpfs, out of inodes,
# and read-only, in a mount namespace of the group's own (nothing mounted
# here reaches the machine).  Real QEMU (the test guest, TCG), one macvtap
# NIC in a network namespace.
#
#   full before the start, with F pages free (F = 0, 1, ...): the space
#   runs out at a different write each time (the lock's pid, the journal,
#   status.json, events.jsonl, ...).  The start fails closed: exit 1, one
#   error naming "No space left on device", no link, no journal entry, no
#   temporary file, a status.json that parses; or, with enough room, the
#   guest runs and stops cleanly.  `vmrun up` shows the cause.
#   filled at a startup step (fault point `stop`): the same.
#   read-only before `up`, and made read-only at a startup step and while
#   the guest runs: the start fails with one error, the links are undone
#   at once, and once the directory is writable again `vmrun down` leaves
#   an empty journal.
set -u
cd "$(dirname "$0")/../.." || exit 1
FAULTS_GROUP="disk: full and read-only state directory"
# shellcheck source=tests/faults/lib.bash
. tests/faults/lib.bash
faults_need root fault testguest unshare netns macvtap
command -v nsenter >/dev/null || faults_skip_all "nsenter is missing (util-linux)"
unset VMRUN_QEMU

TOPO=$T/g.yaml
topo_real "$TOPO" g '{name: n0, macvtap: p0, mac: "52:54:00:66:01:01"}'
faults_baseline
mntns_start || faults_skip_all "cannot hold a mount namespace"
MNT=$T/mnt
mkdir -p "$MNT"
STATE=$MNT/state

# fresh_tmpfs PAGES [OPTIONS]: a new tmpfs on $MNT with PAGES 4 KiB pages
# free (one more is taken by a filler, since size=0 means no limit) and an
# empty state directory
fresh_tmpfs() {
	# shellcheck disable=SC2016 # the inner sh expands them
	in_mnt sh -c 'umount "$1" 2>/dev/null; mount -t tmpfs -o "size=$2${3:+,$3}" tmpfs "$1" &&
		dd if=/dev/zero of="$1/filler" bs=4096 count=1 2>/dev/null && mkdir "$1/state"' \
		- "$MNT" "$((($1 + 1) * 4))k" "${2:-}"
}

# fill_up: take every free page of the tmpfs
# shellcheck disable=SC2016 # the inner sh expands $1
fill_up() { in_mnt sh -c 'dd if=/dev/zero of="$1/filler2" bs=4096 2>/dev/null; true' - "$MNT"; }

# half_made NAME: no temporary file in the guest's directory, and a
# status.json (if any) that parses
half_made() {
	local name=$1 tmps
	tmps=$(in_mnt find "$STATE" -name '*.tmp*' -o -name '.*tmp*' 2>/dev/null)
	is "$tmps" "" "$name: no temporary file left"
	if in_mnt test -e "$STATE/g/status.json"; then
		in_mnt python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$STATE/g/status.json" 2>/dev/null
		ok $? "$name: status.json parses"
	fi
}

# start_full NAME F: `vmrun run` with F pages free
start_full() {
	local name=$1 f=$2
	fresh_tmpfs "$f"
	fstart "$name" "" "$TOPO" g
	if wait_ready "$name" g 60; then
		ok 0 "$name: with $f pages free the guest runs"
		kill -TERM "${RUN_PID[$name]}"
		fwait_exit "$name" 30
		[ "$RC" = 0 ] || [ "$RC" = 143 ]
		ok $? "$name: and stops with 0 or 143 (got $RC)"
	else
		fwait_exit "$name" 30
		is "$RC" 1 "$name: with $f pages free the start fails, exit 1"
		grep -q '^vmrun: error: .*No space left on device$' "$T/$name.err"
		ok $? "$name: the error says No space left on device" || sed 's/^/# /' "$T/$name.err"
		is "$(errors "$T/$name.err")" 1 "$name: exactly one error line"
		diag "$name: $(grep '^vmrun: error:' "$T/$name.err")"
	fi
	half_made "$name"
	faults_clean "$name"
}

# up_full NAME F: `vmrun up` with F pages free shows the cause
up_full() {
	local name=$1 f=$2 out rc
	fresh_tmpfs "$f"
	out=$(in_ns "$VMRUN" --state-dir "$STATE" up "$TOPO" 2>&1)
	rc=$?
	is "$rc" 1 "$name: vmrun up with $f pages free fails, exit 1"
	[[ $out == *"No space left on device"* ]]
	ok $? "$name: vmrun up says No space left on device" || diag "$out"
	is "$(grep -c '^vmrun: error:' <<<"$out")" 1 "$name: one error line from up"
	half_made "$name"
	faults_clean "$name"
}

# full_at NAME POINT: the tmpfs fills while the supervisor waits at POINT
full_at() {
	local name=$1 point=$2
	fresh_tmpfs 64
	fstart "$name" "$point=stop" "$TOPO" g
	fwait_stop "$name" "$point" 60
	ok $? "$name: the supervisor stopped at $point" || sed 's/^/# /' "$T/$name.err"
	fill_up
	kill -CONT "${RUN_PID[$name]}"
	if [ "$point" = running ]; then
		# the guest runs on; its stop must still undo everything
		kill -TERM "${RUN_PID[$name]}"
		fwait_exit "$name" 30
		[ "$RC" = 0 ] || [ "$RC" = 143 ]
		ok $? "$name: the guest stops with 0 or 143 on a full disk (got $RC)"
		is "$(errors "$T/$name.err")" 0 "$name: no error" || sed 's/^/# /' "$T/$name.err"
	else
		fwait_exit "$name" 30
		is "$RC" 1 "$name: the start fails, exit 1"
		grep -q '^vmrun: error: .*No space left on device$' "$T/$name.err"
		ok $? "$name: the error says No space left on device" || sed 's/^/# /' "$T/$name.err"
		is "$(errors "$T/$name.err")" 1 "$name: exactly one error line"
	fi
	half_made "$name"
	faults_clean "$name"
}

# inodes NAME N: a tmpfs with N inodes
inodes() {
	local name=$1 n=$2
	fresh_tmpfs 64 "nr_inodes=$n"
	fstart "$name" "" "$TOPO" g
	if wait_ready "$name" g 60; then
		ok 0 "$name: with $n inodes the guest runs"
		kill -TERM "${RUN_PID[$name]}"
		fwait_exit "$name" 30
		[ "$RC" = 0 ] || [ "$RC" = 143 ]
		ok $? "$name: and stops with 0 or 143 (got $RC)"
	else
		fwait_exit "$name" 30
		is "$RC" 1 "$name: with $n inodes the start fails, exit 1"
		grep -q '^vmrun: error: .*No space left on device$' "$T/$name.err"
		ok $? "$name: the error says No space left on device" || sed 's/^/# /' "$T/$name.err"
		is "$(errors "$T/$name.err")" 1 "$name: exactly one error line"
		diag "$name: $(grep '^vmrun: error:' "$T/$name.err")"
	fi
	half_made "$name"
	faults_clean "$name"
}

# ro_remount: the state directory read-only (a bind mount on itself)
ro_remount() {
	# shellcheck disable=SC2016 # the inner sh expands $1
	in_mnt sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"' - "$STATE"
}
rw_again() { in_mnt umount "$STATE"; }

# ro_up NAME: `vmrun up` of a guest whose directory is read-only
ro_up() {
	local name=$1 out
	fresh_tmpfs 64
	# the guest ran once: its directory and files exist
	out=$(in_ns "$VMRUN" --state-dir "$STATE" up "$TOPO" 2>&1) &&
		out=$(in_ns "$VMRUN" --state-dir "$STATE" down "$TOPO" 2>&1)
	ok $? "$name: the guest ran once" || diag "$out"
	ro_remount
	out=$(in_ns "$VMRUN" --state-dir "$STATE" up "$TOPO" 2>&1)
	is "$?" 1 "$name: vmrun up on a read-only state directory fails, exit 1"
	[[ $out == *"Read-only file system"* ]]
	ok $? "$name: vmrun up says Read-only file system" || diag "$out"
	is "$(grep -c '^vmrun: error:' <<<"$out")" 1 "$name: one error line from up"
	rw_again
	faults_clean "$name"
}

# ro_at NAME POINT: the directory turns read-only while the supervisor
# waits at POINT
ro_at() {
	local name=$1 point=$2 out
	fresh_tmpfs 64
	fstart "$name" "$point=stop" "$TOPO" g
	fwait_stop "$name" "$point" 60
	ok $? "$name: the supervisor stopped at $point" || sed 's/^/# /' "$T/$name.err"
	ro_remount
	kill -CONT "${RUN_PID[$name]}"
	[ "$point" = running ] && kill -TERM "${RUN_PID[$name]}"
	fwait_exit "$name" 30
	if [ "$point" = running ]; then
		# the guest ran and stops as usual: the journal's fd was opened
		# before, so only status.json (a new file) cannot be written
		is "$RC" 143 "$name: the guest stops, exit 143"
		grep -q "^vmrun: warning: guest 'g': write '.*status.json': Read-only file system$" "$T/$name.err"
		ok $? "$name: a warning says status.json cannot be written" || sed 's/^/# /' "$T/$name.err"
		is "$(errors "$T/$name.err")" 0 "$name: no error"
	else
		is "$RC" 1 "$name: the start fails, exit 1"
		grep -q '^vmrun: error: .*Read-only file system$' "$T/$name.err"
		ok $? "$name: the error says Read-only file system" || sed 's/^/# /' "$T/$name.err"
		is "$(errors "$T/$name.err")" 1 "$name: exactly one error line" || sed 's/^/# /' "$T/$name.err"
	fi
	wait_no_procs 10
	is "$(links)" "$BASE_LINKS" "$name: the links are undone at once"
	rw_again
	out=$(in_ns "$VMRUN" --state-dir "$STATE" down "$TOPO" 2>&1)
	ok $? "$name: once writable, vmrun down succeeds" || diag "$out"
	faults_clean "$name"
}

if [ "$FAULTS_QUICK" = 1 ]; then
	start_full enospc@0 0
	start_full enospc@2 2
	up_full up-enospc@1 1
	ro_at ro@pinned pinned
else
	for f in 0 1 2 3 4 5 6; do start_full "enospc@$f" "$f"; done
	for f in 0 1 2; do up_full "up-enospc@$f" "$f"; done
	for p in host-setup spawned pinned running; do full_at "full@$p" "$p"; done
	for n in 3 4 5 6 7 8 9 10 12; do inodes "inodes@$n" "$n"; done
	ro_up ro-up
	for p in host-setup pinned running; do ro_at "ro@$p" "$p"; done
fi

done_testing
