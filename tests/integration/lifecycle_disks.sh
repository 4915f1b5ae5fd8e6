#!/usr/bin/env bash
# Disks, snapshots, clones and reconfiguration with real QEMU under TCG and
# the test guest (docs/testguest.md): a guest with an `image:` root overlay,
# a data disk on a backing image, a user NIC and a seed, ready when its
# console says so.  A running snapshot and revert (the guest finds its old
# disk contents and its old memory), a disk grown while it runs (the guest
# sees it), a clone of the running guest booting with its own MAC, hostname
# and disk state, rm of the clone (and its refusals), restart after the
# topology changed, offline snapshots and growth, raw disks refused.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/verbs_lib.bash
. tests/integration/verbs_lib.bash

need_testguest "snapshots, clones, disk grow, rm, restart"
if [ "$(id -u)" -ne 0 ] || ! command -v qemu-io >/dev/null; then
	skip "needs root and qemu-io (qemu-utils)" "snapshots, clones, disk grow, rm, restart"
	done_testing
	exit
fi
unset VMRUN_QEMU

mkdir -p "$T/images"
printf '[vmrun]\nimage_dir = %s/images\n' "$T" >"$T/vmrun.conf"
vc() { "$VMRUN" --config "$T/vmrun.conf" --state-dir "$STATE" "$@"; }
qemu-img create -q -f qcow2 "$T/base.qcow2" 64M &&
	qemu-img create -q -f qcow2 "$T/data-base.qcow2" 64M
ok $? "base images"

cat >"$T/lab.yaml" <<YAML
version: 1
defaults:
  accel: tcg
  memory: 256M
  kernel: $TESTGUEST/vmlinuz
  initrd: $TESTGUEST/initrd.img
  append: console=ttyS0 quiet
  stop_timeout: 30
guests:
  d:
    image: base.qcow2
    ready_when: {console: "^vmrun-testguest: booted"}
    cloud_init: true
    disks:
      - {file: d-data.qcow2, backing: data-base.qcow2}
    nics: [{name: n1, user: true, mac: "52:54:00:7f:00:01", ip: 10.0.2.15/24}]
YAML

# cmd GUEST LINE REPLY SECONDS: type a console command, wait for its answer line
cmd() {
	local before
	before=$(grep -c "vmrun-testguest: $3" "$STATE/$1/console.log")
	printf '%s\n' "$2" | timeout 5 "$VMRUN" --state-dir "$STATE" console "$1" >/dev/null 2>&1
	for _ in $(seq $(($4 * 10))); do
		[ "$(grep -c "vmrun-testguest: $3" "$STATE/$1/console.log")" -gt "$before" ] && return 0
		sleep 0.1
	done
	return 1
}
# last GUEST PREFIX: the last console line starting with vmrun-testguest: PREFIX
last() { grep -a "vmrun-testguest: $2" "$STATE/$1/console.log" | tail -1 | tr -d '\r'; }

vc up --wait --timeout 240 "$T/lab.yaml" d >"$T/up.out" 2>"$T/up.err"
rc=$?
is "$rc" 0 "up --wait: ready when the console says booted"
[ "$rc" -eq 0 ] || show "$T/up.err" "$STATE/d/supervisor.log" "$STATE/d/console.log"
grep -q "is ready (ready_when console: ^vmrun-testguest: booted)" "$STATE/d/supervisor.log"
ok_or_show $? "readiness by the console" "$STATE/d/supervisor.log"
[ -f "$T/images/d/root.qcow2" ]
ok $? "the root overlay is in image_dir"

# --- a running snapshot: memory and disks come back
cmd d "vmrun-cmd set alpha" "value alpha" 20 && cmd d "vmrun-cmd write vdb one" "wrote vdb one" 20
ok $? "the guest remembers alpha and writes 'one' to its data disk"
vc snapshot create d s1 >"$T/sc.out" 2>&1
is "$?" 0 "snapshot create while running"
grep -q "snapshot 's1' taken (memory and disks)" "$T/sc.out"
ok_or_show $? "with memory and disks" "$T/sc.out"
cmd d "vmrun-cmd set beta" "value beta" 20 && cmd d "vmrun-cmd write vdb two" "wrote vdb two" 20 &&
	cmd d "vmrun-cmd read vdb" "read vdb two" 20
ok $? "then beta, and 'two' on the disk"
vc snapshot list --json d >"$T/sl.json"
is "$(json_get "$T/sl.json" '[(s["name"], s["vm_state_size"] > 0, sorted(s["disks"])) for s in j]')" \
	"[('s1', True, ['disk0', 'root'])]" "snapshot list: s1 with memory, on both disks"
vc snapshot revert d s1 >"$T/sr.out" 2>&1
is "$?" 0 "snapshot revert while running"
cmd d "vmrun-cmd get" "value alpha" 20
ok $? "the guest's memory is back: it remembers alpha"
cmd d "vmrun-cmd read vdb" "read vdb one" 20
ok $? "its disk is back: it reads 'one'"
is "$(json_get <(vc qmp d query-status) 'j["status"]')" running "and it runs on"

# --- disk grow while running: the guest sees the new size
vc disk grow d disk0 128M >"$T/dg.out" 2>&1
is "$?" 0 "disk grow while running"
grep -q "grew from 67108864 to 134217728 bytes (online" "$T/dg.out"
ok_or_show $? "online, from 64 to 128 MiB" "$T/dg.out"
cmd d "vmrun-cmd disks" "disk vdb 134217728" 20
ok $? "the guest sees vdb at 128 MiB"
vc disk grow d disk0 100M >"$T/dg2.out" 2>&1
is "$?" 2 "disk grow refuses to shrink"
vc disk grow d nope 1G >"$T/dg3.out" 2>&1
is "$?" 2 "disk grow: an unknown disk"
grep -q "hint: disks: root, disk0, seed" "$T/dg3.out"
ok_or_show $? "names the disks" "$T/dg3.out"
vc inspect --json d >"$T/i.json"
is "$(json_get "$T/i.json" '[d["id"] for d in j["disks"]]')" "['root', 'disk0', 'seed']" "inspect: the disks"
is "$(json_get "$T/i.json" '[c["file"] for c in j["disks"][0]["chain"]]')" \
	"['$T/images/d/root.qcow2', '$T/base.qcow2']" "inspect: the root overlay's chain"
is "$(json_get "$T/i.json" 'j["disks"][1]["chain"][0]["virtual_size"]')" 134217728 \
	"inspect: the data disk's size, from qemu-img"
is "$(json_get "$T/i.json" 'j["nics"][0]["addresses"]')" "['10.0.2.15/24']" \
	"inspect: without an agent, the address from the topology"

# --- clone the running guest
cp "$T/lab.yaml" "$T/lab2.yaml"
vc clone "$T/lab2.yaml" d e -o "$T/lab2.yaml" >"$T/cl0.out" 2>"$T/cl0.err"
is "$?" 2 "clone refuses the source's address"
grep -q "guest 'e' nic 'n1' would have address 10.0.2.15/24, which guest 'd' nic 'n1' has" "$T/cl0.err"
ok_or_show $? "naming both NICs" "$T/cl0.err"
[ ! -e "$T/e-data.qcow2" ] && [ ! -e "$T/images/e" ]
ok $? "nothing copied"
vc clone "$T/lab2.yaml" d e --ip n1=10.0.2.16/24 -o "$T/lab2.yaml" >"$T/cl.out" 2>"$T/cl.err"
rc=$?
is "$rc" 0 "clone with its own address"
[ "$rc" -eq 0 ] || show "$T/cl.err"
qemu-img info -U "$T/e-data.qcow2" 2>/dev/null | grep -q "^backing file: $T/data-base.qcow2"
ok $? "the clone's data disk is an overlay on the same base"
qemu-img info -U "$T/images/e/root.qcow2" 2>/dev/null | grep -q "^backing file: $T/base.qcow2"
ok $? "so is its root overlay"
is "$(json_get <(vc snapshot list --json d) '[s["name"] for s in j]')" "['s1']" \
	"the snapshot the clone was made from is gone"
emac=$(vc validate "$T/lab2.yaml" | sed -n 's/.*guest e: .*n1=user(\(.*\))$/\1/p')
[ -n "$emac" ] && [ "$emac" != "52:54:00:7f:00:01" ]
ok $? "the clone has its own MAC ($emac)"
vc up --wait --timeout 240 "$T/lab2.yaml" e >"$T/upe.out" 2>"$T/upe.err"
rc=$?
is "$rc" 0 "the clone boots"
[ "$rc" -eq 0 ] || show "$T/upe.err" "$STATE/e/supervisor.log"
grep -q "vmrun-testguest: nic eth0 $emac" "$STATE/e/console.log"
ok_or_show $? "with its own MAC" "$STATE/e/console.log"
grep -q "vmrun-testguest: seed hostname e" "$STATE/e/console.log"
ok $? "and its own hostname"
iid_d=$(last d "seed instance-id")
iid_e=$(last e "seed instance-id")
[ -n "$iid_e" ] && [ "$iid_d" != "$iid_e" ]
ok $? "and its own instance-id"
cmd e "vmrun-cmd read vdb" "read vdb one" 20
ok $? "it finds the source's disk state"
vc kill e >/dev/null

# --- rm: the clone's overlays and state, never a base, not while used
cat >>"$T/lab2.yaml" <<YAML
  f:
    disks:
      - {file: f-top.qcow2, backing: e-data.qcow2}
YAML
vc rm "$T/lab2.yaml" e >"$T/rm0.out" 2>&1
is "$?" 1 "rm refuses: another guest's overlay is built on the clone's disk"
grep -q "guest 'f' uses '$T/e-data.qcow2' as its base" "$T/rm0.out"
ok_or_show $? "saying which" "$T/rm0.out"
head -n -3 "$T/lab2.yaml" >"$T/lab3.yaml" && mv "$T/lab3.yaml" "$T/lab2.yaml"
vc rm "$T/lab2.yaml" e --dry-run >"$T/rm1.out" 2>&1
is "$?" 0 "rm --dry-run"
is "$(grep -c '^would remove' "$T/rm1.out")" 3 "lists the root overlay, the data overlay, the state"
[ -f "$T/e-data.qcow2" ] && [ -d "$STATE/e" ]
ok $? "and removes nothing"
vc rm "$T/lab2.yaml" d >"$T/rm2.out" 2>&1
is "$?" 1 "rm refuses a running guest"
vc rm "$T/lab2.yaml" e >"$T/rm3.out" 2>&1
is "$?" 0 "rm the clone"
[ ! -e "$T/e-data.qcow2" ] && [ ! -e "$T/images/e" ] && [ ! -e "$STATE/e" ]
ok_or_show $? "its overlays and state are gone" "$T/rm3.out"
[ -f "$T/base.qcow2" ] && [ -f "$T/data-base.qcow2" ] && [ -f "$T/d-data.qcow2" ]
ok $? "the bases and the source's disk stay"

# --- restart after the topology changed: the diff, then stop and start
sed -i 's/^    image: base.qcow2$/    image: base.qcow2\n    memory: 320M/' "$T/lab.yaml"
vc restart --dry-run "$T/lab.yaml" d >"$T/rs0.out" 2>&1
is "$?" 0 "restart --dry-run"
grep -q "^  - 256M\$" "$T/rs0.out" && grep -q "^  + 320M\$" "$T/rs0.out"
ok_or_show $? "shows -m 256M becoming 320M" "$T/rs0.out"
grep -q "^guest 'd': host changes" "$T/rs0.out"
is "$?" 1 "and no host change"
qd=$(json_get <(vc ps --json d) 'j[0]["qemu_pid"]')
vc restart --wait "$T/lab.yaml" d >"$T/rs.out" 2>&1
is "$?" 0 "restart applies it"
grep -q "^guest 'd' stopped: the guest powered off" "$T/rs.out"
ok_or_show $? "by a graceful stop" "$T/rs.out"
qn=$(json_get <(vc ps --json d) 'j[0]["qemu_pid"]')
[ "$qn" != "$qd" ] && tr '\0' ' ' <"/proc/$qn/cmdline" | grep -q -- "-m 320M"
ok $? "and a start with the new memory size"
vc restart --dry-run "$T/lab.yaml" d >"$T/rs2.out" 2>&1
grep -q "the plan is unchanged" "$T/rs2.out"
ok_or_show $? "then the plan is unchanged" "$T/rs2.out"

# --- stopped: disk-only snapshots with qemu-img, offline growth
vc stop d >/dev/null 2>&1
is "$?" 0 "stop d"
vc snapshot create d off1 >"$T/so.out" 2>&1
is "$?" 0 "snapshot create while stopped"
grep -q "disks only" "$T/so.out"
ok_or_show $? "disks only" "$T/so.out"
qemu-io -f qcow2 -c "write -P 0x7a 0 512" "$T/d-data.qcow2" >/dev/null
qemu-io -f qcow2 -c "read -v 0 4" "$T/d-data.qcow2" | grep -q "zzzz"
ok $? "the data disk changed after the snapshot"
vc snapshot revert d off1 >"$T/sro.out" 2>&1
is "$?" 0 "snapshot revert while stopped"
qemu-io -f qcow2 -c "read -v 0 4" "$T/d-data.qcow2" | grep -q "one\."
ok $? "the disk has its old contents again"
vc snapshot revert d s1 >"$T/sro2.out" 2>&1
is "$?" 0 "a running snapshot reverts a stopped guest's disks too"
vc disk grow d disk0 256M >"$T/dgo.out" 2>&1
is "$?" 0 "disk grow while stopped"
grep -q "(offline" "$T/dgo.out" &&
	qemu-img info -U "$T/d-data.qcow2" | grep -q "^virtual size: 256 MiB"
ok_or_show $? "qemu-img resize made it 256 MiB" "$T/dgo.out"
vc snapshot delete d off1 >/dev/null 2>&1 && vc snapshot delete d s1 >/dev/null 2>&1
ok $? "snapshot delete"
is "$(json_get <(vc snapshot list --json d) 'len(j)')" 0 "no snapshot left"
vc snapshot revert d off1 >"$T/srx.out" 2>&1
is "$?" 2 "revert to a snapshot that is not there: usage error"

# --- refusals: a raw writable disk
qemu-img create -q -f raw "$T/raw.img" 16M
cat >"$T/raw.yaml" <<YAML
version: 1
guests:
  r:
    accel: tcg
    disks: [{file: raw.img}]
YAML
vc snapshot create --topology "$T/raw.yaml" r x >"$T/raw.out" 2>&1
is "$?" 2 "snapshot of a guest with a raw disk: refused"
grep -q "disk disk0 ('$T/raw.img') is raw" "$T/raw.out"
ok_or_show $? "naming the disk" "$T/raw.out"
rm -rf "$STATE/r"
[ -z "$(held_pids)" ]
ok $? "no supervisor left"
done_testing
