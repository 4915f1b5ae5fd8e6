#!/usr/bin/env bash
# Thread placement on a real guest: `cpuset: "1"`, `emulator_cpus: "0"`,
# `iothreads: 1` with `iothread_cpus: "0-1"` and a virtio disk on io0.
# Read back from /proc/QEMU/task/*/status: the vCPU thread on CPU 1, the
# iothread ("IO io0", whose id query-iothreads gives the supervisor) on
# 0-1, every other QEMU thread on CPU 0 (thread-pool workers: with the
# thread that started them); and the guest sees the disk.
# (vhost-net workers follow the emulator threads: this machine has no
# vhost-net, so tests/unit/lib_pin.c covers them with a fake /proc.)
# Needs `make testguest` and 2 CPUs.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash

skip_all() {
	skip "$1" "QEMU's threads where the topology puts them"
	done_testing
	exit 0
}
[ -f "$TESTGUEST/vmlinuz" ] || skip_all "no test guest in $TESTGUEST (run make testguest)"
[ "$(nproc)" -ge 2 ] || skip_all "needs 2 CPUs (vCPU on 1, emulator on 0)"
unset VMRUN_QEMU

truncate -s 8M "$T/data.raw"
chmod 0666 "$T/data.raw" # a file: disk QEMU's user (not root) writes
cat >"$T/th.yaml" <<EOF
version: 1
guests:
  th:
    accel: tcg
    memory: 256M
    cpuset: "1"
    emulator_cpus: "0"
    iothreads: 1
    iothread_cpus: "0-1"
    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
    append: console=ttyS0 quiet
    disks:
      - {file: data.raw, format: raw, iothread: 0}
EOF
run_start th "$T/th.yaml" th
run_wait_ready th th 60
r=$?
ok $r "the guest runs"
[ $r -ne 0 ] && sed 's/^/# /' "$T/th.err"
q=$(qemu_pid th 2>/dev/null)
vcpu=0 io=0 emu=0 bad=
for t in /proc/"$q"/task/*; do
	tid=${t##*/}
	comm=$(cat "$t/comm" 2>/dev/null) || continue
	cpus=$(thread_cpus "$q" "$tid" 2>/dev/null) || continue
	case $comm in
	"CPU "*)
		want=1
		vcpu=$((vcpu + 1))
		;;
	"IO io0")
		want=0-1
		io=$((io + 1))
		;;
	worker)
		# thread-pool workers come and go and follow the thread that starts
		# them: the main loop (emulator_cpus) or the iothread (iothread_cpus)
		[ "$cpus" = 0-1 ] && continue
		want=0
		;;
	*)
		want=0
		emu=$((emu + 1))
		;;
	esac
	[ "$cpus" = "$want" ] || bad="$bad $tid($comm):$cpus!=$want"
done
is "$vcpu $io" "1 1" "one vCPU thread and one iothread"
ok $((emu >= 2 ? 0 : 1)) "QEMU's other threads ($emu: main loop, RCU, monitor I/O, ...)"
is "${bad# }" "" "every thread's Cpus_allowed_list is where the topology puts it"
grep -q '"iothread":"io0"' "/proc/$q/cmdline"
ok $? "the disk's device runs on io0"
run_wait_grep "$STATE/th/console.log" "vmrun-testguest: disk vda 8388608" 60
ok $? "the guest sees the disk on the iothread"
run_wait_grep "$STATE/th/console.log" "vmrun-testguest: booted" 60
kill -TERM "${RUN_PID[th]}"
run_wait_exit th 60
is "$RC" 0 "the guest powers off on SIGTERM"
done_testing
