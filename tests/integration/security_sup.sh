#!/usr/bin/env bash
# The supervisor's own privileges once its guest runs (docs/security.md,
# "What the supervisor keeps once the guest runs"), with the fake QEMU in a
# network namespace of our own:
# - a macvtap and a bridge (with its tap) NIC, QEMU as root (qemu_user =
#   root): CapEff, CapPrm and CapBnd are exactly CAP_NET_ADMIN, CapInh and
#   CapAmb empty, uid 0, Seccomp 2; after SIGTERM the macvtap, the tap and
#   the bridge are gone;
# - the same with qemu_user = nobody: CAP_KILL and CAP_NET_ADMIN, and a
#   `vmrun kill` (SIGKILL to QEMU as nobody) still works and tears down;
#   with `vnc: true` too: still only CAP_KILL, since the VNC socket is the
#   supervisor's own (clients reach QEMU as fds), and it is removed at the end;
# - no NIC, QEMU as the default qemu_user: CAP_KILL alone;
# - --no-seccomp: Seccomp 0, the capabilities dropped all the same (the
#   default qemu_user: CAP_KILL and CAP_NET_ADMIN); `up
#   --no-seccomp` passes it to the supervisors it starts;
# - the real QEMU (when the test guest is built): the same set, the guest
#   boots and the macvtap is removed at the end.
# The drop with a fake sysfs vfio binding is in tests/unit/lib_supcaps.c.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	skip "needs root and iproute2 for a network namespace" "the supervisor's capabilities"
	done_testing
	exit
fi
ns=vmrt-sec-$$
if ! ip netns add "$ns" 2>/dev/null; then
	skip "cannot create a network namespace" "the supervisor's capabilities"
	done_testing
	exit
fi
sec_cleanup() {
	run_cleanup
	ip netns del "$ns" 2>/dev/null
}
trap sec_cleanup EXIT
unset VMRUN_QEMU VMRUN_NO_SANDBOX VMRUN_SYSFS_ROOT VMRUN_DEV_ROOT
ip -n "$ns" link add vmrt0 type veth peer name vmrt1
ip -n "$ns" link set vmrt0 up
ip -n "$ns" link set vmrt1 up
links() { ip -n "$ns" -o link show | sed -E 's/^[0-9]+: ([^:@]+).*/\1/' | sort | tr '\n' ' '; }
baseline=$(links)

# capability masks as /proc/PID/status prints them
CAP_KILL=$((1 << 5))
CAP_NET_ADMIN=$((1 << 12))
mask() { printf '%016x' "$1"; }

# topo FILE NICS [EXTRA-LINES]: guest s, fake QEMU unless EXTRA says otherwise
topo() {
	cat >"$1" <<EOF
version: 1
guests:
  s:
    accel: tcg
    memory: 64M
    stop_timeout: 5
    nics: $2
${3:-}
EOF
}
NICS='[{name: m, macvtap: vmrt0, mac: "52:54:00:5e:c0:01"}, {name: b, bridge: vmrtbr0, mac: "52:54:00:5e:c0:02"}]'

# start NAME TOPO [VMRUN-ARGS...] [-- RUN-ARGS...]: a supervisor in the namespace
start() {
	local name=$1 topo=$2 pre=() post=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		pre+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	post=("$@")
	: >"$T/$name.out"
	: >"$T/$name.err"
	ip netns exec "$ns" "$VMRUN" "${pre[@]}" --state-dir "$STATE" run "${post[@]}" "$topo" s \
		>>"$T/$name.out" 2>>"$T/$name.err" &
	RUN_PID[$name]=$!
}

# status_of PID FIELD: one field of /proc/PID/status
status_of() { awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }

# caps_are NAME MASK WHAT: the supervisor's sets are exactly MASK
caps_are() {
	local pid=${RUN_PID[$1]} want
	want=$(mask "$2")
	is "$(status_of "$pid" CapEff) $(status_of "$pid" CapPrm) $(status_of "$pid" CapBnd)" \
		"$want $want $want" "$3: CapEff, CapPrm and CapBnd are $want"
	is "$(status_of "$pid" CapInh) $(status_of "$pid" CapAmb)" \
		"0000000000000000 0000000000000000" "$3: CapInh and CapAmb empty"
}

# stop_clean NAME WHAT: SIGTERM, exit 0, links and state as before
stop_clean() {
	kill -TERM "${RUN_PID[$1]}"
	run_wait_exit "$1" 30
	is "$RC" 0 "$2: stops with status 0"
	[ "$RC" -ne 0 ] && sed 's/^/# /' "$T/$1.err"
	torn_down s
	ok $? "$2: journal empty, sockets gone"
	is "$(links)" "$baseline" "$2: the macvtap, the tap and the bridge are gone"
}

# --- macvtap + bridge/tap, QEMU as root: CAP_NET_ADMIN alone
topo "$T/a.yaml" "$NICS"
printf '[vmrun]\nqemu_user = root\n' >"$T/root.conf"
VMRUN_QEMU=$FAKEQEMU start a "$T/a.yaml" --config "$T/root.conf"
run_wait_ready a s 30
r=$?
ok $r "fake guest with a macvtap and a bridge NIC ready"
[ $r -ne 0 ] && sed 's/^/# /' "$T/a.err"
ip -n "$ns" -o link show | grep -q vmrtbr0
ok $? "the bridge was made"
caps_are a "$CAP_NET_ADMIN" "macvtap + bridge"
is "$(status_of "${RUN_PID[a]}" Uid)" "0 0 0 0" "the supervisor stays uid 0"
is "$(status_of "${RUN_PID[a]}" Seccomp)" 2 "and runs under its filter"
grep -q "^vmrun: guest 's': the supervisor keeps only CAP_NET_ADMIN$" "$T/a.err"
ok $? "it says what it keeps"
stop_clean a "macvtap + bridge"

# --- qemu_user: CAP_KILL too; a kill of QEMU as nobody still works
if id nobody >/dev/null 2>&1; then
	fake=$(run_stage "$FAKEQEMU")
	printf '[vmrun]\nqemu_user = nobody\nimage_dir = %s\n' "$T/images" >"$T/u.conf"
	VMRUN_QEMU=$fake start u "$T/a.yaml" --config "$T/u.conf"
	run_wait_ready u s 30
	r=$?
	ok $r "qemu_user: ready"
	[ $r -ne 0 ] && sed 's/^/# /' "$T/u.err"
	caps_are u $((CAP_KILL | CAP_NET_ADMIN)) "qemu_user"
	q=$(json_get "$STATE/s/status.json" 'j["qemu_pid"]')
	is "$(status_of "$q" Uid | cut -d' ' -f1)" 65534 "QEMU runs as nobody"
	ctl s '{"kill": null}' >/dev/null
	run_wait_exit u 30
	is "$RC" 137 "qemu_user: QEMU killed with SIGKILL through the control socket"
	pid_gone "$q" 5
	ok $? "qemu_user: QEMU (uid 65534) is gone"
	torn_down s
	ok $? "qemu_user: journal empty, sockets gone"
	is "$(links)" "$baseline" "qemu_user: links as before"
	# vnc: true: the supervisor listens on STATE/s/vnc.sock and hands clients to
	# QEMU over QMP, so nothing of QEMU's is left to remove as another user
	topo "$T/v.yaml" "[]" "    vnc: true"
	VMRUN_QEMU=$fake start v "$T/v.yaml" --config "$T/u.conf"
	run_wait_ready v s 30
	ok $? "qemu_user + vnc: ready"
	caps_are v $((CAP_KILL)) "qemu_user + vnc"
	[ -S "$STATE/s/vnc.sock" ] && [ "$(stat -c %a:%u "$STATE/s/vnc.sock")" = "600:0" ]
	ok $? "qemu_user + vnc: vnc.sock is the supervisor's, mode 0600"
	kill -TERM "${RUN_PID[v]}"
	run_wait_exit v 30
	is "$RC" 0 "qemu_user + vnc: stops with status 0"
	[ ! -e "$STATE/s/vnc.sock" ]
	ok $? "qemu_user + vnc: vnc.sock removed"
	torn_down s
	ok $? "qemu_user + vnc: journal empty, sockets gone"
else
	skip "no user 'nobody'" "qemu_user: CAP_KILL kept"
fi

# --- no NIC, QEMU as the default qemu_user: only what stopping QEMU takes
topo "$T/n.yaml" "[]"
VMRUN_QEMU=$FAKEQEMU start n "$T/n.yaml"
run_wait_ready n s 30
ok $? "fake guest without NICs ready"
caps_are n "$CAP_KILL" "no NIC"
grep -q "^vmrun: guest 's': the supervisor keeps only CAP_KILL$" "$T/n.err"
ok $? "it says it keeps only CAP_KILL (QEMU is another uid)"
kill -TERM "${RUN_PID[n]}"
run_wait_exit n 30
is "$RC" 0 "no NIC: stops with status 0"

# --- --no-seccomp: no filter; the capabilities go all the same
VMRUN_QEMU=$FAKEQEMU start x "$T/a.yaml" -- --no-seccomp
run_wait_ready x s 30
ok $? "--no-seccomp: ready"
is "$(status_of "${RUN_PID[x]}" Seccomp)" 0 "--no-seccomp: Seccomp 0"
is "$(status_of "${RUN_PID[x]}" NoNewPrivs)" 0 "--no-seccomp: NoNewPrivs 0 (only the filter sets it)"
caps_are x $((CAP_KILL | CAP_NET_ADMIN)) "--no-seccomp"
stop_clean x "--no-seccomp"

# --- up --no-seccomp: the supervisors it forks load no filter, and say so in ps
topo "$T/w.yaml" "$NICS"
VMRUN_QEMU=$FAKEQEMU ip netns exec "$ns" "$VMRUN" --state-dir "$STATE" up --no-seccomp "$T/w.yaml" \
	>"$T/w.err" 2>&1
r=$?
ok $r "up --no-seccomp: the guest runs"
[ $r -ne 0 ] && sed 's/^/# /' "$T/w.err"
sp=$(json_get "$STATE/s/status.json" 'j["supervisor_pid"]')
RUN_PID[w]=$sp
is "$(status_of "$sp" Seccomp)" 0 "up --no-seccomp: its supervisor has Seccomp 0"
is "$(status_of "$sp" CapEff)" "$(mask $((CAP_KILL | CAP_NET_ADMIN)))" \
	"up --no-seccomp: and keeps CAP_KILL and CAP_NET_ADMIN only"
cmdline=$(tr '\0' ' ' <"/proc/$sp/cmdline")
case $cmdline in
*" up "*) skip "up could not set its supervisors' command line here (PR_SET_MM)" \
	"up --no-seccomp: ps shows 'run --no-seccomp'" ;;
*) case $cmdline in *" run --no-seccomp $T/w.yaml s "*) r=0 ;; *) r=1 ;; esac
	ok $r "up --no-seccomp: ps shows 'run --no-seccomp' ($cmdline)" ;;
esac
ip netns exec "$ns" "$VMRUN" --state-dir "$STATE" down "$T/w.yaml" >"$T/wd.err" 2>&1
ok $? "down"
unset "RUN_PID[w]"
torn_down s
ok $? "up --no-seccomp: journal empty, sockets gone"
is "$(links)" "$baseline" "up --no-seccomp: links as before"

# --- the real QEMU: it boots under the dropped supervisor, which still tears down
if [ -f "$TESTGUEST/vmlinuz" ] && [ -f "$TESTGUEST/initrd.img" ]; then
	topo "$T/q.yaml" "$NICS" "    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
    append: console=ttyS0 quiet"
	sed -i 's/memory: 64M/memory: 256M/' "$T/q.yaml"
	start q "$T/q.yaml"
	run_wait_ready q s 60
	r=$?
	ok $r "real QEMU: ready"
	[ $r -ne 0 ] && sed 's/^/# /' "$T/q.err"
	caps_are q $((CAP_KILL | CAP_NET_ADMIN)) "real QEMU"
	run_wait_grep "$T/q.out" "vmrun-testguest: booted" 60
	ok $? "real QEMU: the guest boots"
	stop_clean q "real QEMU"
else
	skip "no test guest in $TESTGUEST (run make testguest)" "the real QEMU under the dropped supervisor"
fi
! grep -h "seccomp: denied" "$T"/*.err
ok $? "no supervisor was denied a system call"

done_testing
