#!/usr/bin/env bash
# `vmrun run` with real QEMU under TCG and the test guest (docs/testguest.md):
# boot to ready, vCPU pinning, console, graceful stop, escalation, QEMU
# killed.  Needs `make testguest`.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash

if [ ! -f "$TESTGUEST/vmlinuz" ] || [ ! -f "$TESTGUEST/initrd.img" ]; then
	skip "no test guest in $TESTGUEST (run make testguest)" "real QEMU suite"
	done_testing
	exit
fi
if [ "$(nproc)" -lt 2 ]; then
	skip "needs 2 CPUs for cpusets 0-1 and 1" "real QEMU suite"
	done_testing
	exit
fi
unset VMRUN_QEMU

# guest NAME CPUSET STOP_TIMEOUT APPEND-EXTRA; the kernel and initrd come from
# $KERNEL_DIR (default the test guest's build directory)
guest() {
	local kdir=${KERNEL_DIR:-$TESTGUEST}
	cat >"$T/$1.yaml" <<EOF
version: 1
guests:
  $1:
    accel: tcg
    cpuset: "$2"
    memory: 256M
    kernel: $kdir/vmlinuz
    initrd: $kdir/initrd.img
    append: console=ttyS0 quiet $4
    stop_timeout: $3
EOF
}

# --- boot, pin, console, sockets; SIGTERM -> ACPI poweroff -> 0
guest a 0-1 20 ""
run_start a "$T/a.yaml" a
run_wait_ready a a 60
ok $? "guest reaches ready"
grep -q "^vmrun: guest 'a' running (qemu pid [0-9]*, vCPUs pinned to CPUs 0-1)$" "$T/a.err"
ok $? "ready line on stderr"
q=$(qemu_pid a)
is "$(json_get "$STATE/a/status.json" '[(v["index"], v["cpu"]) for v in j["vcpus"]]')" \
	"[(0, 0), (1, 1)]" "status.json: vCPU i on cpuset CPU i"
for i in 0 1; do
	tid=$(json_get "$STATE/a/status.json" "j['vcpus'][$i]['thread']")
	is "$(thread_cpus "$q" "$tid")" "$i" "vCPU $i thread runs on CPU $i only"
	is "$(cat "/proc/$q/task/$tid/comm")" "CPU $i/TCG" "vCPU $i thread is QEMU's 'CPU $i/TCG'"
done
others=$(for t in /proc/"$q"/task/*; do
	tid=${t##*/}
	case $(cat "$t/comm") in "CPU "*) continue ;; esac
	thread_cpus "$q" "$tid"
done | sort -u)
is "$others" "0-1" "QEMU's other threads confined to the whole cpuset"
is "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$q/status")" 1 "QEMU runs with NoNewPrivs"
is "$(awk '/^Seccomp:/ { print $2 }' "/proc/$q/status")" 2 "QEMU runs under its seccomp sandbox"
leaked=$(for f in /proc/"$q"/fd/*; do readlink "$f"; done | grep -c "^$STATE/")
is "$leaked" 0 "no file of the supervisor (journal, lock, logs) is open in QEMU"
run_wait_grep "$T/a.out" "vmrun-testguest: booted" 60
ok $? "guest console reaches stdout"
grep -q "vmrun-testguest: booted" "$STATE/a/console.log"
ok $? "guest console reaches console.log"
reply=$(ctl a '{"qmp": {"execute": "query-status"}}')
case $reply in *'"status":"running"'*) r=0 ;; *) r=1 ;; esac
ok $r "QMP through the control socket: $reply"
"$VMRUN" --state-dir "$STATE" run "$T/a.yaml" a >/dev/null 2>"$T/a2.err"
is "$?" 1 "a second supervisor for the guest fails"
grep -q "guest 'a' is already running (supervisor pid ${RUN_PID[a]})" "$T/a2.err"
ok $? "and says who runs it"
kill -TERM "${RUN_PID[a]}"
run_wait_exit a 40
is "$RC" 0 "SIGTERM: ACPI power button, guest powers off, exit 0"
grep -q "vmrun-testguest: powering off" "$T/a.out"
ok $? "the guest saw the power button"
grep -q '"event":"SHUTDOWN","data":{"guest":true,"reason":"guest-shutdown"}' "$STATE/a/events.jsonl"
ok $? "SHUTDOWN guest-shutdown recorded in events.jsonl"
torn_down a
ok $? "torn down"
pid_gone "$q" 1
ok $? "QEMU is gone"

# --- an unsorted cpuset, as 5gdeploy's (7,1-2): vCPU i on the i-th CPU written.
# `define` keeps the written order; the real TCG guest's vCPU threads follow it.
dcs=$("$VMRUN" define --vm='d | (1,0) | vmctrl@lo' --ctrlif=lo --accel tcg |
	python3 -c 'import sys, yaml; print(yaml.safe_load(sys.stdin)["guests"]["d"]["cpuset"])')
is "$dcs" "1,0" "define --vm='d | (1,0) | ...' writes cpuset \"1,0\" (the written order)"
guest d "$dcs" 20 ""
run_start d "$T/d.yaml" d
run_wait_ready d d 60
ok $? "guest d (cpuset \"$dcs\") reaches ready"
grep -q "^vmrun: guest 'd' running (qemu pid [0-9]*, vCPUs pinned to CPUs 1,0)$" "$T/d.err"
ok $? "ready line names the cpuset in its order"
q=$(qemu_pid d)
is "$(json_get "$STATE/d/status.json" '[(v["index"], v["cpu"]) for v in j["vcpus"]]')" \
	"[(0, 1), (1, 0)]" "status.json: vCPU 0 on CPU 1, vCPU 1 on CPU 0"
for i in 0 1; do
	tid=$(json_get "$STATE/d/status.json" "j['vcpus'][$i]['thread']")
	is "$(cat "/proc/$q/task/$tid/comm")" "CPU $i/TCG" "thread $tid is vCPU $i ('CPU $i/TCG')"
	is "$(thread_cpus "$q" "$tid")" "$((1 - i))" \
		"/proc/$q/task/$tid/status: vCPU $i's Cpus_allowed_list is CPU $((1 - i))"
done
run_wait_grep "$T/d.out" "vmrun-testguest: booted" 60
ok $? "guest d booted"
kill -TERM "${RUN_PID[d]}"
run_wait_exit d 40
is "$RC" 0 "guest d powers off, exit 0"

# --- qemu_user: the real QEMU as nobody boots from its overlay with its seed
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && command -v qemu-img >/dev/null; then
	chmod a+x "$T"
	qemu-img create -q -f qcow2 "$T/ubase.qcow2" 16M
	printf '[vmrun]\nqemu_user = nobody\nimage_dir = %s\n' "$T/images" >"$T/u.conf"
	# QEMU as nobody opens the kernel and initrd itself: copies outside the
	# checkout, which nobody may not enter
	run_stage "$TESTGUEST/vmlinuz" "$TESTGUEST/initrd.img" >/dev/null
	ok $? "kernel and initrd staged where nobody can read them"
	KERNEL_DIR=$T/stage guest u 0 10 ""
	printf '    image: %s\n    cloud_init: true\n' "$T/ubase.qcow2" >>"$T/u.yaml"
	: >"$T/u.out"
	: >"$T/u.err"
	"$VMRUN" --config "$T/u.conf" --state-dir "$STATE" run "$T/u.yaml" u >>"$T/u.out" 2>>"$T/u.err" &
	RUN_PID[u]=$!
	run_wait_ready u u 60
	r=$?
	ok $r "guest with qemu_user ready"
	[ $r -ne 0 ] && sed 's/^/# /' "$T/u.err"
	q=$(qemu_pid u)
	is "$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "/proc/$q/status") $(awk '/^CapBnd:/ { print $2 }' "/proc/$q/status")" \
		"65534655346553465534 0000000000000000" "QEMU runs as nobody with an empty bounding set"
	run_wait_grep "$T/u.out" "vmrun-testguest: booted" 60
	ok $? "the guest boots"
	grep -q "vmrun-testguest: seed /dev/sr0" "$T/u.out"
	ok $? "QEMU as nobody read the seed"
	grep -q "vmrun-testguest: disk vda 16777216" "$T/u.out"
	ok $? "and opened its root overlay"
	kill -TERM "${RUN_PID[u]}"
	run_wait_exit u 40
	is "$RC" 0 "guest with qemu_user powers off, exit 0"
	torn_down u
	ok $? "torn down"
else
	skip "needs root, a user 'nobody' and qemu-img" "real QEMU as qemu_user"
fi

# --- a guest that ignores ACPI: quit after stop_timeout -> 143
guest c 1 2 "vmrun.noacpi=1"
run_start c "$T/c.yaml" c
run_wait_ready c c 60
ok $? "guest c ready"
q=$(qemu_pid c)
tid=$(json_get "$STATE/c/status.json" "j['vcpus'][0]['thread']")
is "$(thread_cpus "$q" "$tid")" 1 "cpuset \"1\": the vCPU runs on CPU 1"
run_wait_grep "$T/c.out" "vmrun-testguest: booted" 60
ok $? "guest c booted"
kill -TERM "${RUN_PID[c]}"
run_wait_exit c 40
is "$RC" 143 "guest ignoring ACPI: escalated, exit 143"
grep -q "no poweroff within 2 s: sending quit" "$T/c.err"
ok $? "escalation logged"
grep -q '"reason":"host-qmp-quit"' "$STATE/c/events.jsonl"
ok $? "QEMU quit on our request"
torn_down c
ok $? "torn down"

# --- QEMU killed with SIGKILL -> 137
guest d 0 5 ""
run_start d "$T/d.yaml" d
run_wait_ready d d 60
ok $? "guest d ready"
kill -KILL "$(qemu_pid d)"
run_wait_exit d 20
is "$RC" 137 "QEMU killed with SIGKILL: exit 137"
torn_down d
ok $? "torn down"
is "$(json_get "$STATE/d/status.json" '(j["state"], j["exit_status"])')" "('exited', 137)" \
	"status.json records the exit"

done_testing
