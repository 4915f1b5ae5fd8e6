#!/usr/bin/env bash
# A guest written for KVM (5gdeploy's `cpu: host,-vmx,-svm`, as `vmrun define`
# writes it) that runs under TCG: QEMU gets `-cpu max` and the test guest's
# busybox userland runs (docs/5gdeploy.md: QEMU 7.2's TCG with max,-svm
# breaks every exec), through boot to its own ACPI-less poweroff (exit 0).
# And `define --accel tcg` writes that model.  Needs
# `make testguest`.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash

if [ ! -f "$TESTGUEST/vmlinuz" ] || [ ! -f "$TESTGUEST/initrd.img" ]; then
	skip "no test guest in $TESTGUEST (run make testguest)" "TCG CPU model"
	done_testing
	exit
fi
unset VMRUN_QEMU

# boot NAME CPU: the guest boots, says so, and powers itself off
boot() {
	cat >"$T/$1.yaml" <<-EOY
		version: 1
		guests:
		  $1:
		    accel: tcg
		    cpu: "$2"
		    memory: 256M
		    kernel: $TESTGUEST/vmlinuz
		    initrd: $TESTGUEST/initrd.img
		    append: console=ttyS0 quiet vmrun.poweroff=1
		    stop_timeout: 5
	EOY
	"$VMRUN" args "$T/$1.yaml" "$1" | grep -A1 -x -- -cpu | tail -1 >"$T/$1.cpu"
	run_start "$1" "$T/$1.yaml" "$1"
	run_wait_exit "$1" 300
}

boot k "host,-vmx,-svm"
is "$(cat "$T/k.cpu")" max "cpu host,-vmx,-svm under TCG: -cpu max"
is "$RC" 0 "it boots and powers itself off: exit status 0"
grep -q 'vmrun-testguest: booted' "$STATE/k/console.log" && grep -q 'vmrun-testguest: powering off' "$STATE/k/console.log"
ok $? "the test guest's userland runs (booted, powering off)" || tail -5 "$STATE/k/console.log" | sed 's/^/# /'
grep -q '_dl_get_origin' "$STATE/k/console.log"
ok $((!$?)) "no busybox aborts in _dl_get_origin"

"$VMRUN" define --vm='d | (0) | vmctrl@eth9' --ctrlif=eth9 --accel tcg -o "$T/d.yaml" >/dev/null 2>&1
cpu=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["defaults"]["cpu"])' "$T/d.yaml")
is "$cpu" max "define --accel tcg writes cpu: max, the model that booted above"
done_testing
