# shellcheck shell=bash
# Helpers of the fault suite (tests/faults/, docs/reliability.md): source it
# from a group script (tests/faults/g_*.sh) after `cd` to the top of the
# tree.  It sources tests/lib/tap.sh and tests/integration/run_lib.bash
# ($T, $STATE, run_* helpers), makes a network namespace with a veth pair
# (p0/p1) for the group, and removes both, with every process the group
# started, on any exit.
#
#   FAULTS_QUICK=1   the group runs its quick subset (tests/faults/run.sh)
#   FVMRUN           the fault-injection build (default $BUILD/fault/vmrun,
#                    `make faults`, else build/fault/vmrun); VMRUN stays
#                    the build without fault points
#
# Conventions of a case: one TAP block whose lines start with the case's
# name; afterwards faults_clean NAME asserts what every case must leave:
# the namespace's links equal to the baseline, an empty journal, no process
# in the namespace or holding the state directory, no zombie.
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash
FVMRUN=${FVMRUN:-$top/${BUILD:-build}/fault/vmrun}
[ -x "$FVMRUN" ] || FVMRUN=$top/build/fault/vmrun
FAULTS_QUICK=${FAULTS_QUICK:-0}
NS=vmrf-$$
NS_MADE=0
MNT_PID=
# how supervisors are started (fstart), and how the state directory is
# read (faults_clean): both change once a group moved into its own mount
# namespace (mntns_start)
WRAP=(ip netns exec "$NS")
INSPECT=()

faults_cleanup() {
	local p
	# the group's own shell only: a subshell that a signal reaches between
	# its fork and bash's reset of the traps runs the parent's EXIT trap
	# (seen under load: the namespace and $T gone mid-case)
	[ "$BASHPID" = "$$" ] || return 0
	# supervisors stopped at a fault point: SIGKILL reaches them anyway
	for p in "${RUN_PID[@]}"; do kill -KILL "$p" 2>/dev/null; done
	if [ "$NS_MADE" = 1 ]; then
		for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	fi
	[ -n "$MNT_PID" ] && kill -KILL "$MNT_PID" 2>/dev/null
	wait 2>/dev/null
	[ "$NS_MADE" = 1 ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap faults_cleanup EXIT

# faults_skip_all WHY: the group cannot run here
faults_skip_all() {
	skip "$1" "${FAULTS_GROUP:-fault group}"
	done_testing
	exit 0
}

# faults_need WHAT...: skip the whole group unless each is there
#   root testguest fault python3 netns macvtap bridge unshare
faults_need() {
	local w why
	for w; do
		case $w in
		root) [ "$(id -u)" = 0 ] || faults_skip_all "needs root" ;;
		testguest)
			if [ ! -f "$TESTGUEST/vmlinuz" ] || [ ! -f "$TESTGUEST/initrd.img" ]; then
				faults_skip_all "no test guest in $TESTGUEST (make testguest)"
			fi
			;;
		fault) [ -x "$FVMRUN" ] || faults_skip_all "no fault-injection build $FVMRUN (make faults)" ;;
		python3) command -v python3 >/dev/null || faults_skip_all "python3 is missing (the fake QEMU)" ;;
		unshare)
			unshare -m --propagation private true 2>/dev/null ||
				faults_skip_all "cannot make a mount namespace (unshare -m)"
			;;
		netns)
			command -v ip >/dev/null || faults_skip_all "iproute2 is missing"
			ip netns add "$NS" 2>/dev/null || faults_skip_all "cannot create a network namespace"
			NS_MADE=1
			ip -n "$NS" link set lo up
			if ! { ip -n "$NS" link add p0 type veth peer name p1 &&
				ip -n "$NS" link set p0 up && ip -n "$NS" link set p1 up; }; then
				faults_skip_all "cannot create a veth pair in a namespace"
			fi
			;;
		macvtap | bridge | tun)
			why=$("$VMRUN" probe "$w" 2>&1) || faults_skip_all "${why#"$w: no: "}"
			;;
		esac
	done
}

# in_ns CMD...: run CMD in the group's network namespace (and mount
# namespace, once there is one)
in_ns() { "${WRAP[@]}" "$@"; }

# links: the namespace's link names, one line, sorted
links() { ip -n "$NS" -o link show | sed -E 's/^[0-9]+: ([^:@]+).*/\1/' | sort | tr '\n' ' '; }

# topo_real FILE GUEST [NIC-LINES...]: the test guest under TCG (real QEMU),
# stop_timeout 1; each NIC line is a flow mapping, e.g.
#   '{name: n0, macvtap: p0, mac: "52:54:00:66:00:01"}'
topo_real() {
	local f=$1 g=$2 n
	shift 2
	{
		cat <<EOF
version: 1
guests:
  $g:
    accel: tcg
    cpuset: "0"
    memory: 128M
    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
    append: console=ttyS0 quiet
    stop_timeout: 1
EOF
		if [ $# -gt 0 ]; then
			echo "    nics:"
			for n; do echo "      - $n"; done
		fi
	} >"$f"
}

# topo_fake FILE GUEST STOP_TIMEOUT [FAKE-OPTION...] [-- NIC-LINES...]: the fake QEMU
# (its options are `-fake KEY=VALUE`, tests/integration/fakeqemu.py)
topo_fake() {
	local f=$1 g=$2 stop=$3 args="" n
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=", \"-fake\", \"$1\""
		shift
	done
	[ "${1:-}" = -- ] && shift
	{
		cat <<EOF
version: 1
guests:
  $g:
    accel: tcg
    cpuset: "0"
    memory: 64M
    stop_timeout: $stop
    qemu_args: [${args#, }]
EOF
		if [ $# -gt 0 ]; then
			echo "    nics:"
			for n; do echo "      - $n"; done
		fi
	} >"$f"
}

# fstart NAME SPEC TOPOLOGY GUEST [BIN]: a supervisor in the namespace, in
# the background, with VMRUN_FAULT=SPEC (empty: none); BIN defaults to the
# fault build.  Output in $T/NAME.out and .err, stops written to $T/NAME.mark.
fstart() {
	local name=$1 spec=$2 topo=$3 guest=$4 bin=${5:-$FVMRUN}
	: >"$T/$name.out"
	: >"$T/$name.err"
	rm -f "$T/$name.mark"
	VMRUN_FAULT=$spec VMRUN_FAULT_MARK=$T/$name.mark \
		"${WRAP[@]}" "$bin" --state-dir "$STATE" run "$topo" "$guest" \
		>>"$T/$name.out" 2>>"$T/$name.err" &
	RUN_PID[$name]=$!
}

# proc_state PID: the one-letter state of a process ("" when gone)
proc_state() { awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# fwait_stop NAME POINT SECONDS: 0 once supervisor NAME stopped itself at
# POINT (its mark says so and it is in state T); 1 if it exited first or
# the time ran out
fwait_stop() {
	local pid=${RUN_PID[$1]} i
	for ((i = 0; i < $3 * 20; i++)); do
		if grep -qx "$2" "$T/$1.mark" 2>/dev/null && [ "$(proc_state "$pid")" = T ]; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# children PID: the pids of its children, one a line
children() { tr ' ' '\n' <"/proc/$1/task/$1/children" 2>/dev/null | grep .; }

# fd_list PID: the supervisor's open fds above 2 (0-2 are whatever its
# starter gave), counted by kind and target: socket:[123] -> socket, the
# temporary directory -> $T; a file being written atomically (NAME.tmp.N,
# open for the moment between its write and its rename) is not counted
fd_list() {
	local f
	for f in /proc/"$1"/fd/*; do
		case ${f##*/} in 0 | 1 | 2) continue ;; esac
		readlink "$f" 2>/dev/null
	done | sed -E -e '/\.tmp\.[0-9]+$/d' -e 's#^(socket|pipe|anon_inode:\[?[a-z_]*\]?)(:\[[0-9]+\])?.*#\1#' \
		-e "s#^$T/[^/]*\\.out\$#(stdout)#" -e "s#^$T#(T)#" | sort |
		uniq -c | sed -E 's/^ +//' | tr '\n' ';'
}

# fd_list_settled PID [WANT]: fd_list once the supervisor is done with a
# client that just left (the connection of an `up` that returned stays open
# until the supervisor reads its end): with WANT, the first reading equal to
# it within 3 s, else the last one; without, the smallest of five readings
# over a second (a leak shows in every reading, a closing connection not)
fd_list_settled() {
	local i cur best='' n bestn=999999
	if [ $# -ge 2 ]; then
		for ((i = 0; i < 30; i++)); do
			cur=$(fd_list "$1")
			[ "$cur" = "$2" ] && break
			sleep 0.1
		done
		echo "$cur"
		return
	fi
	for ((i = 0; i < 5; i++)); do
		cur=$(fd_list "$1")
		n=$(tr ';' '\n' <<<"$cur" | awk '{ s += $1 } END { print s + 0 }')
		if [ "$n" -lt "$bestn" ]; then best=$cur bestn=$n; fi
		sleep 0.2
	done
	echo "$best"
}

# zombies PID...: the zombie children of these processes
zombies() {
	local p
	for p; do ps -o pid=,stat= --ppid "$p" 2>/dev/null | awk '$2 ~ /^Z/ { print $1 }'; done
}

# state_procs: processes whose command line names $STATE (supervisors)
state_procs() { pgrep -f -- "$STATE" | grep -vx "$$" || true; }

# ns_procs: processes in the namespace (QEMU, supervisors), but not an
# `ip netns exec` of ours that is still starting
ns_procs() { ip netns pids "$NS" 2>/dev/null | grep -vx "${MNT_PID:-0}"; }

# faults_procs: what must not run once a case is over (a group may
# redefine it: the Docker group's dockerd runs in the namespace too)
faults_procs() {
	ns_procs
	state_procs
}

# wait_no_procs SECONDS: 0 once faults_procs finds nothing
wait_no_procs() {
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		[ -z "$(faults_procs)" ] && return 0
		sleep 0.05
	done
	return 1
}

BASE_LINKS=
# faults_baseline: the link list every case must leave (call after setup)
faults_baseline() { BASE_LINKS=$(links); }

# faults_clean NAME [GUEST]: the TAP lines every case ends with
faults_clean() {
	local name=$1 g=${2:-g} z p
	wait_no_procs 10
	ok $? "$name: no QEMU or supervisor left" || {
		for p in $(faults_procs); do diag "left: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-120)"; done
	}
	is "$(links)" "$BASE_LINKS" "$name: the namespace's links are as before"
	! "${INSPECT[@]}" test -s "$STATE/$g/journal.jsonl"
	ok $? "$name: the journal is empty" || "${INSPECT[@]}" sed 's/^/# journal: /' "$STATE/$g/journal.jsonl"
	z=$(zombies $$)
	is "$z" "" "$name: no zombie"
}

# errors FILE: the number of "vmrun: error:" lines in FILE
errors() { grep -c '^vmrun: error:' "$1" 2>/dev/null; }

# fwait_exit NAME SECONDS: run_wait_exit, quietly
fwait_exit() { run_wait_exit "$1" "$2"; }

# wait_ready NAME GUEST SECONDS: 0 once supervisor NAME said the guest runs
# and STATE/GUEST/ready exists (read where the supervisor runs), 1 if it
# exited or the time ran out
wait_ready() {
	local name=$1 guest=$2 i
	for ((i = 0; i < $3 * 20; i++)); do
		if grep -q "^vmrun: guest '$guest' running (qemu pid" "$T/$name.err" &&
			"${INSPECT[@]}" test -e "$STATE/$guest/ready"; then
			return 0
		fi
		kill -0 "${RUN_PID[$name]}" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# mntns_start: a mount namespace of the group's own (private propagation),
# inside its network namespace (with that namespace's /sys, as `ip netns
# exec` gives), held by a sleeping process.  From then on supervisors run
# in it (WRAP) and the state directory is read there (INSPECT, in_mnt
# CMD...).  Mounts made there (tmpfs, read-only binds) never reach the
# machine, and vanish with it.
mntns_start() {
	local i
	ip netns exec "$NS" unshare -m --propagation private sleep 100000 &
	MNT_PID=$!
	for ((i = 0; i < 100; i++)); do
		if [ "$(readlink "/proc/$MNT_PID/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] &&
			[ "$(readlink "/proc/$MNT_PID/ns/net")" != "$(readlink /proc/self/ns/net)" ]; then
			WRAP=(nsenter -t "$MNT_PID" -m -n --)
			INSPECT=(nsenter -t "$MNT_PID" -m --)
			return 0
		fi
		sleep 0.02
	done
	return 1
}
in_mnt() { "${INSPECT[@]}" "$@"; }
