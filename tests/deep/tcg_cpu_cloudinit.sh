#!/usr/bin/env bash
# The real cloud-init guest under TCG with the CPU model 5gdeploy writes
# (`cpu: host,-vmx,-svm`, what `vmrun define` keeps for KVM): QEMU gets
# `-cpu max` (docs/5gdeploy.md, KVM and TCG), the Debian 12 guest boots
# systemd and cloud-init applies vmrun's seed to its final message (the
# guest turns healthy with `ready_when: cloud-init`), no process aborts on
# the console, and `vmrun stop` powers it off through ACPI with exit 0.
# tests/integration/tcg_cpu.sh proves the same with the test guest in
# `make check`.
#
# The guest is images/debguest/build.sh's (Debian's packages: systemd,
# cloud-init, netplan; cached in ~/.cache/vmrun/debguest, or
# $VMRUN_DEBGUEST): built when the tree has that script, else used from the
# cache; skipped with the reason when neither.  Long (a systemd guest under
# TCG: minutes on a loaded machine): `make check-long`.
# VMRUN_DEEP_BOOT_TIMEOUT (default 1200 s) bounds the wait for cloud-init.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash
what="the cloud-init guest boots under TCG with 5gdeploy's CPU model"
skip_all() {
	skip "$1" "$what"
	done_testing
	exit 0
}
unset VMRUN_QEMU

img=${VMRUN_DEBGUEST:-${XDG_CACHE_HOME:-$HOME/.cache}/vmrun/debguest}
if [ -x images/debguest/build.sh ]; then
	command -v debootstrap >/dev/null || skip_all "debootstrap is not installed (make deps)"
	nice -n 10 images/debguest/build.sh "$img" >"$T/build.log" 2>&1 ||
		skip_all "cannot build the Debian guest: $(grep 'error:' "$T/build.log" | tail -1)"
fi
for f in vmlinuz initrd.img root.qcow2; do
	[ -s "$img/$f" ] || skip_all "no Debian cloud-init guest in $img (images/debguest/build.sh makes it)"
done
# a private copy: a rebuild of the cache must not change the base under the overlay
base=$(run_stage "$img/vmlinuz" "$img/initrd.img" "$img/root.qcow2") ||
	skip_all "cannot copy the guest to $T (disk space?)"
k=$(sed -n 1p <<<"$base") i=$(sed -n 2p <<<"$base") r=$(sed -n 3p <<<"$base")

cat >"$T/deb.yaml" <<EOF
version: 1
guests:
  deb:
    accel: tcg
    cpu: "host,-vmx,-svm"
    vcpus: 2
    memory: 1G
    kernel: $k
    initrd: $i
    append: root=/dev/vda ro console=ttyS0
    stop_timeout: 300
    ready_when: cloud-init
    disks:
      - {file: $T/root.qcow2, backing: $r}
    cloud_init:
      hostname: tcgcpu
EOF

is "$("$VMRUN" args "$T/deb.yaml" deb | grep -A1 -x -- -cpu | tail -1)" max \
	"cpu host,-vmx,-svm under TCG: -cpu max"
run_start deb "$T/deb.yaml" deb
run_wait_ready deb deb 120
ok $? "vmrun run: the guest runs" || sed 's/^/# /' "$T/deb.err"

start=$SECONDS
healthy=1
while ((SECONDS - start < ${VMRUN_DEEP_BOOT_TIMEOUT:-1200})); do
	if [ -e "$STATE/deb/healthy" ]; then
		healthy=0
		break
	fi
	kill -0 "${RUN_PID[deb]}" 2>/dev/null || break
	sleep 5
done
ok $healthy "cloud-init's final message after $((SECONDS - start)) s: the guest is healthy" ||
	tail -30 "$STATE/deb/console.log" 2>/dev/null | sed 's/^/#   /'
grep -q 'Cloud-init v\. .* finished at' "$STATE/deb/console.log"
ok $? "the console shows it"
# cloud-init's ssh module names the host keys it generates after the
# hostname it set from the seed (the login prompt may come after the final
# message, and the guest is stopped then)
grep -a -q 'cloud-init.*root@tcgcpu' "$STATE/deb/console.log"
ok $? "the seed's hostname is the guest's (cloud-init's host keys: root@tcgcpu)"
grep -a -E -m3 "Assertion|_dl_get_origin|core dumped|Illegal instruction|invalid opcode" \
	"$STATE/deb/console.log" >"$T/aborts"
ok $((!$?)) "no process aborts or traps on the console" || sed 's/^/#   /' "$T/aborts"

"$VMRUN" --state-dir "$STATE" stop deb >"$T/stop.out" 2>&1
ok $? "vmrun stop" || sed 's/^/# /' "$T/stop.out"
run_wait_exit deb 330
is "$RC" 0 "the guest powered off through ACPI: exit status 0"
grep -q 'reboot: Power down' "$STATE/deb/console.log"
ok $? "the kernel says: Power down"
done_testing
