#!/usr/bin/env bash
# The units under a real systemd (make check-deep, or make check-ecosystem; minutes): a fresh
# Debian 12 tree (debootstrap) gets systemd and the vmrun package (make
# deb), a topology with one test guest (TCG, no NIC) and the drop-ins of
# `vmrun systemd`; systemd-nspawn boots it with systemd as PID 1, and a
# oneshot unit in there drives the test and writes what it saw:
#   - systemctl start vmrun@GUEST returns only once the guest runs pinned
#     (Type=notify: READY=1 from the supervisor), the unit is active, its
#     main PID is vmrun, QEMU is its child in the unit's cgroup, `vmrun
#     health` says healthy;
#   - the unit's settings are what the template and drop-in say (Type,
#     KillMode, TimeoutStopUSec from stop_timeout, NotifyAccess);
#   - systemctl stop presses the ACPI power button (the guest's console in
#     the journal says it powers off), vmrun exits 0 and the unit is
#     inactive, not failed; vmrun-NAME.target starts the guest again;
#   - a guest with restart: on-failure runs under vmrun's restart manager
#     in its unit: ready on start, and a killed QEMU is started again by
#     vmrun within the same active unit;
# then the container powers off.  Skipped, with the reason, where
# systemd-nspawn cannot boot a container here.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/ecosystem/lib.bash
. tests/ecosystem/lib.bash
ECO_APT=apt-systemd
BUILD=${BUILD:-build}
TESTGUEST=$top/$BUILD/testguest
work=$(mktemp -d /tmp/vmrt-nspawn.XXXXXX)
machine=vmrt$$
nspawn_pid=
cleanup() {
	[ -n "$nspawn_pid" ] && kill "$nspawn_pid" 2>/dev/null && sleep 2 && kill -9 "$nspawn_pid" 2>/dev/null
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

skip_all() {
	skip "$1" "vmrun@.service under a booted systemd"
	done_testing
	exit 0
}
[ "$(id -u)" = 0 ] || skip_all "needs root"
for tool in systemd-nspawn debootstrap unshare; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed (make deps)"
done
[ -f "$TESTGUEST/vmlinuz" ] || skip_all "no test guest in $TESTGUEST (make testguest)"

deb=$(eco_deb "$work/deb.log")
ok_log $? "the package (make deb)" "$work/deb.log" || { done_testing; exit 1; }
root=$work/root
fresh_root "$root"
ok_log $? "a fresh Debian 12 minbase tree" /dev/null || { done_testing; exit 1; }
cp "$deb" "$root/tmp/vmrun.deb"
in_root "$root" apt-get -q update >"$work/apt.log" 2>&1 &&
	in_root "$root" apt-get -q -y install systemd /tmp/vmrun.deb >>"$work/apt.log" 2>&1
ok_log $? "systemd and vmrun installed in the tree" "$work/apt.log" || { done_testing; exit 1; }

g=sd$$
mkdir -p "$root/var/lib/vmrun/testguest"
cp "$TESTGUEST/vmlinuz" "$TESTGUEST/initrd.img" "$root/var/lib/vmrun/testguest/"
cat >"$root/etc/vmrun/lab.yaml" <<EOF
version: 1
guests:
  $g:
    accel: tcg
    memory: 128M
    cpuset: "0"
    stop_timeout: 20
    kernel: /var/lib/vmrun/testguest/vmlinuz
    initrd: /var/lib/vmrun/testguest/initrd.img
    append: console=ttyS0 quiet
  r$g:
    accel: tcg
    memory: 128M
    cpuset: "1"
    stop_timeout: 20
    restart: on-failure
    kernel: /var/lib/vmrun/testguest/vmlinuz
    initrd: /var/lib/vmrun/testguest/initrd.img
    append: console=ttyS0 quiet
EOF
in_root "$root" vmrun systemd /etc/vmrun/lab.yaml -o /etc/systemd/system >"$work/units.log" 2>&1
ok_log $? "vmrun systemd writes the units in the tree" "$work/units.log"

# the test, run by systemd in the container at boot; results in /results
cat >"$root/usr/local/bin/vmrun-systemd-test" <<EOF
#!/bin/sh
g=$g
EOF
cat >>"$root/usr/local/bin/vmrun-systemd-test" <<'EOF'
exec >/results 2>&1
r() { echo "$1=$2"; }
t0=$(date +%s%N)
systemctl start "vmrun@$g.service"; r start_rc $?
r start_ms $((($(date +%s%N) - t0) / 1000000))
r ready_at_start "$(test -e /run/vmrun/$g/ready && echo yes || echo no)"
r active "$(systemctl is-active "vmrun@$g.service")"
for p in Type KillMode NotifyAccess TimeoutStopUSec MainPID StatusText; do
	r "$p" "$(systemctl show -P "$p" "vmrun@$g.service")"
done
main=$(systemctl show -P MainPID "vmrun@$g.service")
r main_comm "$(cat /proc/$main/comm)"
# (minbase has no procps: /proc)
children() { for p in /proc/[0-9]*; do [ "$(cut -d' ' -f4 "$p/stat" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"; done; }
qemu=$(children "$main" | head -1)
r qemu_child "$(cat "/proc/$qemu/comm" 2>/dev/null)"
r qemu_cgroup "$(grep -c "/vmrun@$g.service\$" "/proc/$qemu/cgroup" 2>/dev/null)"
r cgroup "$(systemctl show -P ControlGroup "vmrun@$g.service")"
r health "$(vmrun health "$g" >/dev/null 2>&1 && echo healthy || echo unhealthy)"
# the test guest says "booted" when its init runs: give it the time TCG needs
for i in $(seq 60); do journalctl -q -u "vmrun@$g.service" | grep -q 'vmrun-testguest: booted' && break; sleep 1; done
r booted "$(journalctl -q -u "vmrun@$g.service" | grep -c 'vmrun-testguest: booted')"
t0=$(date +%s%N)
systemctl stop "vmrun@$g.service"; r stop_rc $?
r stop_ms $((($(date +%s%N) - t0) / 1000000))
r after_stop "$(systemctl is-active "vmrun@$g.service")"
r result "$(systemctl show -P Result "vmrun@$g.service")"
r exec_status "$(systemctl show -P ExecMainStatus "vmrun@$g.service")"
r powered_off "$(journalctl -q -u "vmrun@$g.service" | grep -c 'vmrun-testguest: powering off')"
r qemu_left "$(cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^qemu-system')"
systemctl start vmrun-lab.target; r target_rc $?
r target_guest "$(systemctl is-active "vmrun@$g.service")"
r target_restart_guest "$(systemctl is-active "vmrun@r$g.service")"
systemctl stop "vmrun@$g.service"
# the guest with restart: on-failure runs under vmrun's restart manager:
# READY=1 came from its child, and a killed QEMU is started again in the unit
u=vmrun@r$g.service
main=$(systemctl show -P MainPID "$u")
r r_main_comm "$(cat /proc/$main/comm)"
r r_ready "$(test -e /run/vmrun/r$g/ready && echo yes || echo no)"
qemu=$(grep -lx 'qemu-system-x86' /proc/[0-9]*/comm 2>/dev/null | head -1 | cut -d/ -f3)
r r_qemu_comm "$(cat "/proc/$qemu/comm" 2>/dev/null)"
boots() { journalctl -q -u "$u" | grep -c 'vmrun-testguest: booted'; }
boots0=$(boots)
if [ -n "$qemu" ]; then
	rm -f "/run/vmrun/r$g/ready"
	kill -9 "$qemu"
fi
restarts() { grep -o '"restart_count": *[0-9]*' "/run/vmrun/r$g/status.json" 2>/dev/null | grep -o '[0-9]*$'; }
for i in $(seq 60); do [ "$(restarts)" = 1 ] && [ -e "/run/vmrun/r$g/ready" ] && break; sleep 1; done
r r_restarts "$(restarts)"
r r_ready_again "$(test -e /run/vmrun/r$g/ready && echo yes || echo no)"
r r_active "$(systemctl is-active "$u")"
r r_same_main "$([ "$(systemctl show -P MainPID "$u")" = "$main" ] && echo yes || echo no)"
r r_nrestarts "$(systemctl show -P NRestarts "$u")"
r r_health "$(vmrun health "r$g" >/dev/null 2>&1 && echo healthy || echo unhealthy)"
# the second boot must be far enough to see the power button
for i in $(seq 90); do [ "$(boots)" -gt "$boots0" ] && break; sleep 1; done
r r_booted_again "$([ "$(boots)" -gt "$boots0" ] && echo yes || echo no)"
systemctl stop "$u"; r r_stop_rc $?
r r_after_stop "$(systemctl is-active "$u")"
r r_result "$(systemctl show -P Result "$u")"
r r_exec_status "$(systemctl show -P ExecMainStatus "$u")"
r r_qemu_left "$(cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^qemu-system')"
journalctl -q -u "vmrun@$g.service" >/journal.txt
journalctl -q -u "$u" >/journal-r.txt
echo done=1
EOF
chmod +x "$root/usr/local/bin/vmrun-systemd-test"
cat >"$root/etc/systemd/system/vmrun-systemd-test.service" <<'EOF'
[Unit]
Description=the vmrun systemd test
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/bin/vmrun-systemd-test
ExecStopPost=/bin/systemctl --no-block poweroff
[Install]
WantedBy=multi-user.target
EOF
ln -s /etc/systemd/system/vmrun-systemd-test.service \
	"$root/etc/systemd/system/multi-user.target.wants/vmrun-systemd-test.service"

# boot it; the container powers itself off after the test
# --keep-unit --register=no: no scope unit and no machined, for a host
# whose PID 1 is not systemd (this one); what nspawn keeps under
# /run/systemd/nspawn goes to a directory of the test's: nspawn runs in a
# mount namespace of its own with the machine's /run overlaid by it
mkdir -p "$work/run-upper" "$work/run-work"
unshare -m --propagation private sh -c '
	mount -t overlay overlay -o "lowerdir=/run,upperdir=$1,workdir=$2" /run &&
		shift 2 && exec systemd-nspawn "$@"' sh "$work/run-upper" "$work/run-work" \
	-q -D "$root" -M "$machine" --private-network --register=no --keep-unit \
	-b >"$work/nspawn.log" 2>&1 </dev/null &
nspawn_pid=$!
for _ in $(seq 300); do
	kill -0 "$nspawn_pid" 2>/dev/null || break
	sleep 1
done
if kill -0 "$nspawn_pid" 2>/dev/null; then
	kill "$nspawn_pid"
	diag "the container did not power off within 300 s"
fi
wait "$nspawn_pid" 2>/dev/null
nspawn_pid=
if [ ! -f "$root/results" ]; then
	tail -15 "$work/nspawn.log" | sed 's/^/# nspawn: /'
	if grep -qiE 'cgroup|Failed to|not supported|mount' "$work/nspawn.log"; then
		skip_all "systemd-nspawn cannot boot systemd here: $(grep -iE 'cgroup|Failed to|not supported' "$work/nspawn.log" | head -1)"
	fi
	ok 1 "the container ran the test"
	done_testing
	exit 1
fi
sed 's/^/# /' "$root/results"
res() { sed -n "s/^$1=//p" "$root/results" | head -1; }
is "$(res "done")" 1 "the test ran to its end in the booted container"
is "$(res start_rc)" 0 "systemctl start vmrun@$g returns 0"
is "$(res ready_at_start)" yes "when it returns the guest runs pinned (Type=notify waited for READY=1)"
is "$(res active)" active "the unit is active"
is "$(res Type)" notify "Type=notify"
is "$(res KillMode)" mixed "KillMode=mixed"
is "$(res NotifyAccess)" all "NotifyAccess=all (a restart manager's child sends READY=1)"
is "$(res TimeoutStopUSec)" 25s "TimeoutStopSec: stop_timeout 20 + 5 from the drop-in"
[[ $(res StatusText) == "running (qemu pid "* ]]
ok $? "the supervisor's STATUS= is the unit's status text ($(res StatusText))"
is "$(res main_comm)" vmrun "the main process is vmrun"
[[ $(res qemu_child) == *qemu-system* ]]
ok $? "QEMU is vmrun's child ($(res qemu_child))"
ok "$([ "$(res qemu_cgroup)" -ge 1 ] && echo 0 || echo 1)" "... in the unit's cgroup ($(res cgroup))"
is "$(res health)" healthy "vmrun health: healthy"
ok "$([ "$(res booted)" -ge 1 ] && echo 0 || echo 1)" "the guest's console is in the journal (it booted)"
is "$(res stop_rc)" 0 "systemctl stop returns 0"
is "$(res after_stop)" inactive "then the unit is inactive"
is "$(res result)" success "... with Result=success (not failed)"
is "$(res exec_status)" 0 "vmrun exited 0: the guest powered off"
ok "$([ "$(res powered_off)" -ge 1 ] && echo 0 || echo 1)" "the guest powered off through ACPI (its console says so)"
is "$(res qemu_left)" 0 "no QEMU is left"
is "$(res target_rc)" 0 "systemctl start vmrun-lab.target"
is "$(res target_guest)" active "... starts the guest"
is "$(res target_restart_guest)" active "... and the guest with restart: on-failure"
is "$(res r_main_comm)" vmrun "restart: on-failure: the main process is vmrun (the restart manager)"
is "$(res r_ready)" yes "... ready when systemctl returned (READY=1 from the manager's child, NotifyAccess=all)"
[[ $(res r_qemu_comm) == *qemu-system* ]]
ok $? "... its QEMU ($(res r_qemu_comm))"
is "$(res r_restarts)" 1 "QEMU killed: vmrun restarts the guest (restart_count 1)"
is "$(res r_ready_again)" yes "... which runs pinned again"
is "$(res r_active)" active "... inside the active unit"
is "$(res r_same_main)" yes "... with the same main PID (systemd did not restart the unit)"
is "$(res r_nrestarts)" 0 "... NRestarts=0: the restart is vmrun's, not systemd's"
is "$(res r_health)" healthy "... and vmrun health says healthy"
is "$(res r_booted_again)" yes "the restarted guest booted (its console in the unit's journal)"
is "$(res r_stop_rc)" 0 "systemctl stop of the restart manager's unit returns 0"
is "$(res r_after_stop)" inactive "... the unit is inactive (the manager started no other supervisor)"
is "$(res r_result)" success "... with Result=success"
is "$(res r_exec_status)" 0 "... vmrun exited 0: the guest powered off"
is "$(res r_qemu_left)" 0 "... and no QEMU is left"
done_testing
