#!/usr/bin/env bash
# Fault group "topology": the topology file changes under a running guest,
# and two `vmrun up` of one topology run at once.  Real QEMU (the test
# guest, TCG) in a network namespace of our own.
#
# A replaced topology: stopping uses what was started.  `down` finds the
# guest by name in the new file, waits with the stop_timeout recorded in
# status.json and undoes the journal (the old NIC's macvtap), never what
# the new file describes; `stop GUEST` needs no file (the new one may be
# invalid, or no longer name the guest); a supervisor killed after the
# change is reclaimed by a run of the new file.
#
# Two `up` at once (docs/reliability.md): the guest must run once, and
# both `up` succeed, as an `up` that finds the guest running does.  The
# race is forced, not hoped for: the first `up` reads its --config from a
# FIFO, so its supervisor blocks reading it until the second `up` has
# probed the (free) lock and started its own supervisor, which wins.  And
# an `up` that fails must stop only the supervisors it started, never a
# guest another `up` started meanwhile.
set -u
cd "$(dirname "$0")/../.." || exit 1
FAULTS_GROUP="topology: replaced file, concurrent up"
# shellcheck source=tests/faults/lib.bash
. tests/faults/lib.bash
faults_need root fault testguest netns macvtap
unset VMRUN_QEMU
faults_baseline

TOPO=$T/topo.yaml
OLD_NIC='{name: n0, macvtap: p0, mac: "52:54:00:66:04:01"}'
NEW_NIC='{name: n0, macvtap: p1, mac: "52:54:00:66:04:02"}'
old_ifname=vm-525400660401 new_ifname=vm-525400660402

v() { in_ns "$VMRUN" --state-dir "$STATE" "$@"; }

# old_topology: guest g, stop_timeout 1, macvtap on p0
old_topology() { topo_real "$TOPO" g "$OLD_NIC"; }
# new_topology: the same guest on p1 with another MAC, stop_timeout 600
new_topology() {
	topo_real "$T/new.yaml" g "$NEW_NIC"
	sed -i 's/stop_timeout: 1/stop_timeout: 600/' "$T/new.yaml"
	mv "$T/new.yaml" "$TOPO"
}

# replaced NAME HOW: the guest started by `up`, the file replaced, then
# stopped by HOW: down (new file valid), stop-invalid (the file is no
# YAML), stop-gone (the new file has no guest g), stop-deleted (no file)
replaced() {
	local name=$1 how=$2 out rc
	old_topology
	out=$(v up "$TOPO" 2>&1)
	ok $? "$name: vmrun up starts the guest" || diag "$out"
	case $how in
	down) new_topology ;;
	stop-invalid) printf 'version: 1\nguests: [\n' >"$TOPO" ;;
	stop-gone) topo_real "$TOPO" other "$NEW_NIC" ;;
	stop-deleted) rm -f "$TOPO" ;;
	esac
	if [ "$how" = down ]; then
		out=$(v up "$TOPO" 2>&1)
		ok $? "$name: up of the new file leaves the running guest alone" || diag "$out"
		is "$(json_get "$STATE/g/status.json" 'j["stop_timeout"]')" 1 \
			"$name: status.json keeps the stop_timeout it started with"
		ip -n "$NS" link show "$new_ifname" >/dev/null 2>&1
		ok $((!$?)) "$name: the new file's NIC was not made"
		out=$(v down "$TOPO" 2>&1)
		rc=$?
		is "$rc" 0 "$name: down of the new file stops the guest" || diag "$out"
		[[ $out == *"guest 'g' stopped"* ]]
		ok $? "$name: down reports the guest stopped" || diag "$out"
	else
		out=$(v down "$TOPO" 2>&1)
		rc=$?
		case $how in
		stop-invalid) is "$rc" 2 "$name: down of an invalid file, exit 2" ;;
		stop-deleted) is "$rc" 1 "$name: down of a missing file, exit 1" ;;
		stop-gone) is "$rc" 0 "$name: down of a file without g stops nothing, exit 0" ;;
		esac
		[ -S "$STATE/g/control.sock" ] && [ -e "$STATE/g/ready" ]
		ok $? "$name: the guest still runs"
		out=$(v stop g 2>&1)
		ok $? "$name: vmrun stop g needs no topology" || diag "$out"
	fi
	ip -n "$NS" link show "$old_ifname" >/dev/null 2>&1
	ok $((!$?)) "$name: the macvtap it started with is gone"
	faults_clean "$name"
}

# replaced_killed NAME: the file replaced, the supervisor killed, then a
# run of the new file
replaced_killed() {
	local name=$1
	old_topology
	fstart "$name" "running=die" "$TOPO" g
	fwait_exit "$name" 60
	is "$RC" 137 "$name: the supervisor of the old file was killed"
	new_topology
	sed -i 's/stop_timeout: 600/stop_timeout: 1/' "$TOPO"
	fstart "$name-new" "" "$TOPO" g
	wait_ready "$name-new" g 60
	ok $? "$name: a run of the new file starts the guest" || sed 's/^/# /' "$T/$name-new.err"
	grep -q "undid 1 host change" "$T/$name-new.err"
	ok $? "$name: it undid the old file's macvtap from the journal"
	ip -n "$NS" link show "$old_ifname" >/dev/null 2>&1
	ok $((!$?)) "$name: the old macvtap is gone"
	ip -n "$NS" link show "$new_ifname" >/dev/null 2>&1
	ok $? "$name: the new one exists"
	kill -TERM "${RUN_PID[$name-new]}"
	fwait_exit "$name-new" 30
	[ "$RC" = 0 ] || [ "$RC" = 143 ]
	ok $? "$name: it stops with 0 or 143 (got $RC)"
	faults_clean "$name"
}

# supervisors: pids of the supervisors running on $STATE (their command
# line is `vmrun [--config F] --state-dir STATE run TOPOLOGY GUEST`)
supervisors() { pgrep -f -- "--state-dir $STATE run " || true; }


# topo_ab: guests a (on p0, CPU 0) and b (on p1, CPU 1)
topo_ab() {
	topo_real "$TOPO" a '{name: n0, macvtap: p0, mac: "52:54:00:66:04:0a"}'
	cat >>"$TOPO" <<EOF
  b:
    accel: tcg
    cpuset: "1"
    memory: 128M
    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
    append: console=ttyS0 quiet
    stop_timeout: 1
    nics:
      - {name: n0, macvtap: p1, mac: "52:54:00:66:04:0b"}
EOF
}

# supervisor_of GUEST: the pid of the supervisor running (or starting) GUEST
supervisor_of() { pgrep -f -- "--state-dir $STATE run $TOPO $1\$" || true; }

# up1_start NAME N GUEST...: `up` 1, whose --config is a FIFO: it reads its
# configuration (fed here), and the N supervisors it starts block reading
# theirs.  Its output goes to $T/NAME.up1, its pid to UP1.
UP1=
up1_start() {
	local name=$1 n=$2 i s
	shift 2
	rm -f "$T/conf.fifo"
	mkfifo "$T/conf.fifo"
	printf '[vmrun]\n' >"$T/conf.ini"
	in_ns "$VMRUN" --config "$T/conf.fifo" --state-dir "$STATE" up "$TOPO" "$@" >"$T/$name.up1" 2>&1 &
	UP1=$!
	printf '[vmrun]\n' >"$T/conf.fifo"
	for ((i = 0; i < 200; i++)); do
		s=$(supervisors)
		[ "$(wc -w <<<"$s")" = "$n" ] && break
		sleep 0.05
	done
	is "$(wc -w <<<"$s")" "$n" "$name: up 1 started $n supervisor(s), which wait for their configuration"
}

# feed TEXT: the supervisors blocked on the FIFO read TEXT (printf's
# format; one of them reads it, the others an empty file: the defaults)
feed() {
	# shellcheck disable=SC2016 # the inner sh expands $1 and $2
	timeout 10 sh -c 'printf "$2" >"$1"' - "$T/conf.fifo" "$1"
}

# up1_wait: wait for `up` 1; its exit status in RC
up1_wait() {
	local i
	for ((i = 0; i < 1200; i++)); do kill -0 "$UP1" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$UP1" 2>/dev/null && kill -KILL "$UP1"
	wait "$UP1"
	RC=$?
}

# two_ups NAME: both `up` probe the guest's free lock and start a
# supervisor; the one of `up` 2 wins.  `up` 1 must succeed as an `up`
# that finds the guest running does, and the guest must run once.
two_ups() {
	local name=$1 out2 sups
	topo_real "$TOPO" a '{name: n0, macvtap: p0, mac: "52:54:00:66:04:0a"}'
	up1_start "$name" 1
	out2=$(in_ns "$VMRUN" --config "$T/conf.ini" --state-dir "$STATE" up "$TOPO" 2>&1)
	is "$?" 0 "$name: up 2 starts the guest" || diag "$out2"
	feed '[vmrun]\n'
	up1_wait
	sups=$(supervisors)
	is "$(wc -w <<<"$sups")" 1 "$name: one supervisor runs the guest" || sed 's/^/# /' "$T/$name.up1"
	is "$(pgrep -c -P "$(head -1 "$STATE/a/lock")" qemu)" 1 "$name: the guest runs once (one QEMU)"
	# the loser watches the winner (lib/runtime/launch.c): it succeeds once
	# the guest runs, as an up that finds the guest running does
	is "$RC" 0 "$name: up 1, which lost the race, also succeeds" || sed 's/^/# up 1: /' "$T/$name.up1"
	is "$(errors "$T/$name.up1")" 0 "$name: up 1 prints no error" || sed 's/^/# up 1: /' "$T/$name.up1"
	out2=$(v down "$TOPO" 2>&1)
	ok $? "$name: down stops the guest" || diag "$out2"
	faults_clean "$name" a
}

# up_fails_beside NAME: `up` 1 starts a and b; its supervisor of a waits
# (stopped) before taking the lock while `up` 2 starts a alone; then its
# supervisor of b fails for a reason of its own (QEMU missing).  `up` 1
# fails and stops what it started, which must not be the guest of `up` 2.
up_fails_beside() {
	local name=$1 out2 s1a s2a i
	topo_ab
	up1_start "$name" 2
	s1a=$(supervisor_of a)
	kill -STOP "$s1a"
	out2=$(in_ns "$VMRUN" --config "$T/conf.ini" --state-dir "$STATE" up "$TOPO" a 2>&1)
	is "$?" 0 "$name: up 2 starts guest a" || diag "$out2"
	s2a=$(head -1 "$STATE/a/lock")
	feed '[vmrun]\nqemu = /nonexistent/qemu-system-x86_64\n'
	# up 1's supervisor of b fails (exec), so up 1 stops what it started;
	# a bounded while for it to reach guest a before ours goes on
	for ((i = 0; i < 100; i++)); do
		kill -0 "$s2a" 2>/dev/null || break
		sleep 0.05
	done
	kill -CONT "$s1a"
	up1_wait
	is "$RC" 1 "$name: up 1 fails"
	grep -q "^vmrun: error: guest 'b' failed: .*nonexistent" "$T/$name.up1"
	ok $? "$name: naming guest b and its missing QEMU" || sed 's/^/# /' "$T/$name.up1"
	# up 1 stops only the supervisors it started (vmr_guest_kill_if,
	# lib/runtime/control.c): the guest of up 2 is not one of them
	kill -0 "$s2a" 2>/dev/null && [ -e "$STATE/a/ready" ]
	ok $? "$name: the guest a of up 2 still runs" || sed 's/^/# up 1: /' "$T/$name.up1"
	is "$(errors "$T/$name.up1")" 1 "$name: up 1 prints exactly one error" || sed 's/^/# up 1: /' "$T/$name.up1"
	out2=$(v down "$TOPO" 2>&1)
	ok $? "$name: down stops what runs" || diag "$out2"
	faults_clean "$name/a" a
	faults_clean "$name/b" b
}

if [ "$FAULTS_QUICK" = 1 ]; then
	replaced replaced+down down
	two_ups two-ups
	up_fails_beside up-fails-beside-another
else
	replaced replaced+down down
	replaced replaced-invalid+stop stop-invalid
	replaced replaced-without-guest+stop stop-gone
	replaced deleted+stop stop-deleted
	replaced_killed replaced+killed
	two_ups two-ups
	up_fails_beside up-fails-beside-another
fi

done_testing
