#!/usr/bin/env bash
# `secure_boot: true` with real QEMU under TCG: OVMF's secure boot build
# (SMM) with Microsoft's and Debian's keys enrolled boots an ESP holding
# Debian's signed shim and GRUB and the test guest's kernel, which Debian
# signed (make testguest-esp).  The guest reports secure boot on and the
# kernel's lockdown; the same ESP with the kernel's signature removed stops
# at GRUB ("bad shim signature"): the chain is verified, not just present.
# In `make check-deep`: two boots through OVMF's SMM build, shim and GRUB
# take about a minute of TCG on a quiet 2-CPU machine, minutes on a busy
# one.  `make check` proves the command line (tests/argv/devices, accepted
# by QEMU) and the model instead.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash
unset VMRUN_QEMU
BOOT=300

ESP=$top/${BUILD:-build}/testguest-esp
[ -d "$ESP" ] || ESP=$top/build/testguest-esp
if [ ! -f "$ESP/esp.img" ] || [ ! -f "$ESP/esp-unsigned.img" ]; then
	skip "no ESP in $ESP (run make testguest-esp)" "secure boot suite"
	done_testing
	exit
fi
if [ ! -r /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] || [ ! -r /usr/share/OVMF/OVMF_VARS_4M.ms.fd ]; then
	skip "no OVMF secure boot build (Debian's ovmf is not installed)" "secure boot suite"
	done_testing
	exit
fi
printf '[vmrun]\nimage_dir = %s\n' "$T/images" >"$T/v.conf"

# sbtopo IMG: guest s booting a copy of IMG (OVMF may write to its disk)
sbtopo() {
	cp "$1" "$T/esp.img"
	cat >"$T/s.yaml" <<EOF
version: 1
guests:
  s:
    accel: tcg
    # with 256M the kernel resets right after shim's EFI stub hands over
    memory: 512M
    stop_timeout: 60
    firmware: uefi
    secure_boot: true
    disks: [{file: $T/esp.img, format: raw}]
EOF
}

start() {
	: >"$T/$1.out"
	: >"$T/$1.err"
	"$VMRUN" --config "$T/v.conf" --state-dir "$STATE" run "$T/s.yaml" s >>"$T/$1.out" 2>>"$T/$1.err" &
	RUN_PID[$1]=$!
}

# --- signed: shim (Microsoft's key) -> GRUB (Debian's) -> the kernel (Debian's)
sbtopo "$ESP/esp.img"
start a
run_wait_ready a s 120
ok $? "guest with secure_boot is ready"
run_wait_grep "$T/a.out" "vmrun-testguest: booted" "$BOOT"
r=$?
ok $r "shim and GRUB boot the signed kernel"
[ $r -ne 0 ] && tail -c 2000 "$STATE/s/console.log" | sed 's/^/# /'
grep -qa "vmrun-testguest: efi secureboot 1" "$T/a.out"
ok $? "the guest reports SecureBoot enabled (its UEFI variable is 1)"
grep -qa "vmrun-testguest: efi lockdown" "$T/a.out"
ok $? "and the kernel locked itself down for it"
q=$(qemu_pid s)
tr '\0' '\n' <"/proc/$q/cmdline" >"$T/cmdline"
grep -q "OVMF_CODE_4M.secboot.fd" "$T/cmdline" && grep -qx "pflash0=fw-code,pflash1=fw-vars,smm=on" "$T/cmdline" &&
	grep -qx "driver=cfi.pflash01,property=secure,value=on" "$T/cmdline"
ok $? "QEMU runs OVMF's SMM build with SMM on and the flash locked to SMM"
[ -f "$T/images/s/uefi-vars-secboot.fd" ]
ok $? "the guest's variables started from the enrolled template"
kill -TERM "${RUN_PID[a]}"
run_wait_exit a 120
is "$RC" 0 "SIGTERM: the guest powers off, exit 0"

# --- the same chain, the kernel's signature removed
sbtopo "$ESP/esp-unsigned.img"
start b
run_wait_ready b s 120
ok $? "guest with an unsigned kernel is ready"
run_wait_grep "$STATE/s/console.log" "bad shim signature" "$BOOT"
ok $? "GRUB refuses the unsigned kernel (shim's verifier)"
! grep -qa "vmrun-testguest: booted" "$T/b.out"
ok $? "and it never runs"
"$VMRUN" --state-dir "$STATE" kill s >/dev/null
run_wait_exit b 60
torn_down s
ok $? "torn down"

done_testing
