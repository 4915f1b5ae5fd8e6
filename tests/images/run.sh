#!/usr/bin/env bash
# vmrun image prep|import end to end: seeds read back with isoinfo (genisoimage)
# and PyYAML (what cloud-init uses), overlay chains with qemu-img info, files
# untouched when nothing changed, nothing left behind by bad input, and the
# test guest applying the seed's address for its MAC under TCG.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/lib/tap.sh
. "$top/tests/lib/tap.sh"
VMRUN=${VMRUN:-$top/${BUILD:-build}/vmrun}
TESTGUEST=${TESTGUEST:-$top/${BUILD:-build}/testguest}

need() { command -v "$1" >/dev/null 2>&1; }
for c in qemu-img qemu-io isoinfo python3; do
	if ! need "$c"; then
		skip "'$c' is not installed (make deps)" "image tests"
		done_testing
		exit 0
	fi
done
if [ ! -x "$VMRUN" ]; then
	echo "not ok 1 - $VMRUN is not built"
	exit 1
fi

T=$(mktemp -d /tmp/vmrt-images.XXXXXX)
# QEMU runs as the default qemu_user (vmrun, or nobody) and opens the bases here by name
chmod a+x "$T"
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
# keys come from the invoking user's ~/.ssh: make that user ours
unset SUDO_USER
real_home=$HOME
export HOME=$T/home
mkdir -p "$HOME/.ssh"
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOne one@test" >"$HOME/.ssh/id_ed25519.pub"
printf '# a comment\nssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQTwo two@test\n' >"$HOME/.ssh/other.pub"
echo "not a key" >"$HOME/.ssh/id_ed25519"
printf '[vmrun]\nstate_dir = %s/state\nimage_dir = %s/images\n' "$T" "$T" >vmrun.conf
V() { "$VMRUN" --config "$T/vmrun.conf" "$@"; }

qemu-img create -q -f qcow2 base.qcow2 1G
qemu-io -f qcow2 -c 'write -P 0x5a 0 4M' base.qcow2 >/dev/null
printf '#cloud-config\npackages: [htop]\n' >ud.yaml

topology() { # topology IP SIZE > topo.yaml
	cat <<EOF
version: 1
guests:
  vm1:
    memory: 256M
    accel: tcg
    cpu_isolation: true
    image: base.qcow2
    disks:
      - {file: data.qcow2, backing: base.qcow2, size: $2}
    nics:
      - {name: n6, user: true, mac: "52:54:00:12:34:56", ip: $1, gateway: 10.0.2.2}
      - {name: mgmt, user: true, mac: "52:54:00:aa:bb:cc"}
    cloud_init:
      user_data: ud.yaml
  vm2:
    memory: 256M
    accel: tcg
    nics:
      - {name: n6, user: true, mac: "52:54:00:12:34:57", ip: 10.0.2.16/24}
    cloud_init: {hostname: second, ssh_authorized_keys: ["ssh-ed25519 AAAAtopo topo@test"]}
EOF
}

seed=$T/state/vm1/seed.iso
iso() { isoinfo -R -i "$1" -x "/$2"; }
# py EXPR FILE: evaluate EXPR with d = the YAML document (PyYAML, like cloud-init)
py() { python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[2])); print(eval(sys.argv[1]))' "$1" "$2"; }
# jq-like for qemu-img info JSON
info() { qemu-img info -U --output=json "$2" | python3 -c 'import sys, json; d = json.load(sys.stdin); print(d.get(sys.argv[1]))' "$1"; }
listing() { find "$T" -path "$T/home" -prune -o -print | sort; }

# ---- prep: what it writes ---------------------------------------------------
topology 10.0.2.15/24 2G >topo.yaml
out=$(V image prep topo.yaml 2>err.txt)
ok $? "prep exits 0"
is "$out" "$T/images/vm1/root.qcow2
$T/data.qcow2
$T/state/vm1/seed.iso
$T/state/vm2/seed.iso" "prep prints every file it wrote, one per line"

is "$(isoinfo -d -i "$seed" | sed -n 's/^Volume id: //p')" "cidata" "seed volume id is cidata"
is "$(isoinfo -R -f -i "$seed" | sort | tr '\n' ' ')" "/meta-data /network-config /user-data " \
	"seed holds exactly the three NoCloud files"
iso "$seed" meta-data >meta-data.txt
iso "$seed" user-data >user-data.txt
iso "$seed" network-config >network-config.txt
iid1=$(py 'd["instance-id"]' meta-data.txt)
ok "$([[ $iid1 == iid-* ]]; echo $?)" "meta-data has an instance-id ($iid1)"
is "$(py 'd["local-hostname"]' meta-data.txt)" "vm1" "meta-data local-hostname"
is "$(head -1 user-data.txt)" "#cloud-config" "user-data is a #cloud-config"
is "$(py 'd["ssh_authorized_keys"]' user-data.txt)" \
	"['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOne one@test', 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQTwo two@test']" \
	"keys of the invoking user's ~/.ssh/*.pub"
is "$(py 'd["packages"]' user-data.txt)" "['htop']" "user_data file merged"
is "$(py '[f["path"] for f in d["write_files"]]' user-data.txt)" \
	"['/etc/systemd/system/init.scope.d/cpuset.conf', '/etc/systemd/system/service.d/cpuset.conf', '/etc/systemd/system/user.slice.d/cpuset.conf', '/etc/systemd/system/docker-.scope.d/cpuset.conf']" \
	"cpu_isolation drop-ins as write_files"
byname='{e["match"]["macaddress"]: (k, e.get("set-name"), e.get("addresses"), e["dhcp4"]) for k, e in d["ethernets"].items()}'
is "$(py "${byname}[\"52:54:00:12:34:56\"]" network-config.txt)" "('n6', 'n6', ['10.0.2.15/24'], False)" \
	"network-config: static address for MAC 52:54:00:12:34:56, no DHCP"
is "$(py "${byname}[\"52:54:00:aa:bb:cc\"]" network-config.txt)" "('mgmt', 'mgmt', None, True)" \
	"network-config: DHCP for the NIC without ip"
is "$(py 'd["ethernets"]["n6"]["routes"]' network-config.txt)" "[{'to': '0.0.0.0/0', 'via': '10.0.2.2'}]" \
	"network-config: gateway route"
iso "$T/state/vm2/seed.iso" user-data >user-data2.txt
iso "$T/state/vm2/seed.iso" meta-data >meta-data2.txt
is "$(py 'd["ssh_authorized_keys"]' user-data2.txt)" "['ssh-ed25519 AAAAtopo topo@test']" \
	"keys from the topology replace the user's"
is "$(py 'd["local-hostname"]' meta-data2.txt)" "second" "cloud_init.hostname"

is "$(info format data.qcow2)" "qcow2" "overlay is qcow2"
is "$(info backing-filename data.qcow2)" "$T/base.qcow2" "overlay backing file is the base"
is "$(info backing-filename-format data.qcow2)" "qcow2" "overlay records the base's format"
is "$(info virtual-size data.qcow2)" "2147483648" "overlay grown to size (2G)"
asize=$(info actual-size data.qcow2)
ok "$([ "$asize" -lt 1048576 ]; echo $?)" "overlay is small: $asize bytes allocated, no copy"
is "$(qemu-img compare -q base.qcow2 data.qcow2; echo $?)" "0" "overlay shows the base's contents"
is "$(info backing-filename images/vm1/root.qcow2)" "$T/base.qcow2" "image: root overlay at IMAGE_DIR/GUEST/root.qcow2"
is "$(info virtual-size images/vm1/root.qcow2)" "1073741824" "image: root overlay has the base's size"

# ---- seed goldens: every file of a 5gdeploy-style guest, byte for byte --------
# tests/images/golden/seed/: what cloud-init reads (docs/images.md); the real
# cloud-init's code runs on them in tests/integration/cloudinit_seed.sh, and a
# Debian guest applies them in tests/deep/cloudinit_debian.sh (make check-deep).
# VMRUN_REGENERATE=1 rewrites them; review the diff.
golden=$top/tests/images/golden/seed
cat >gold.yaml <<'EOF'
version: 1
guests:
  upf:
    accel: tcg
    memory: 256M
    cpu_isolation: true
    nics:
      - {name: vmctrl, user: true, mac: "52:de:ac:19:a0:03", ip: 172.25.160.3/24}
      - {name: n6, user: true, mac: "52:de:ac:19:a2:03", ip: 172.25.162.3/24, gateway: 172.25.162.1, mtu: 9000}
      - {name: n3, vf: "0000:3b:00.0", mac: "52:de:ac:19:a3:03", ip: "fd00:3::3/64"}
      - {name: mgmt, user: true, mac: "52:54:00:aa:bb:cc", ipv6_auto: true}
    cloud_init:
      hostname: vm-upf
      password: "0000"
      ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGold gold@test"]
EOF
V image prep gold.yaml >/dev/null 2>err.txt
ok $? "prep of the golden guest"
for f in meta-data user-data network-config; do
	iso "$T/state/upf/seed.iso" "$f" >"gold-$f"
	if [ "${VMRUN_REGENERATE:-0}" = 1 ]; then
		mkdir -p "$golden" && cp "gold-$f" "$golden/$f"
	fi
	if diff -u "$golden/$f" "gold-$f" >gold.diff 2>&1; then
		ok 0 "seed $f matches tests/images/golden/seed/$f"
	else
		ok 1 "seed $f matches tests/images/golden/seed/$f"
		sed 's/^/#   /' gold.diff | head -30
	fi
done
rm -rf "$T/state/upf" gold.yaml gold-* gold.diff

# ---- unchanged: untouched ---------------------------------------------------
touch -d @1000000000 "$seed" data.qcow2 images/vm1/root.qcow2
before=$(stat -c '%i %Y %s %n' "$seed" data.qcow2 images/vm1/root.qcow2)
out=$(V image prep topo.yaml)
ok $? "prep again exits 0"
is "$out" "" "unchanged topology: nothing written, nothing printed"
is "$(stat -c '%i %Y %s %n' "$seed" data.qcow2 images/vm1/root.qcow2)" "$before" \
	"unchanged topology: seed and overlays untouched (inode, mtime, size)"

# ---- changed: regenerated ---------------------------------------------------
topology 10.0.2.99/24 3G >topo.yaml
out=$(V image prep topo.yaml vm1)
ok $? "prep of a changed guest exits 0"
is "$out" "$T/data.qcow2
$T/state/vm1/seed.iso" "changed size and address: overlay grown, seed rewritten"
iso "$seed" meta-data >meta-data.txt
iso "$seed" network-config >network-config.txt
iid2=$(py 'd["instance-id"]' meta-data.txt)
ok "$([ "$iid2" != "$iid1" ]; echo $?)" "changed topology: new instance-id ($iid2)"
is "$(py "${byname}[\"52:54:00:12:34:56\"][2]" network-config.txt)" "['10.0.2.99/24']" \
	"changed topology: new address in network-config"
is "$(info virtual-size data.qcow2)" "3221225472" "overlay grown to 3G in place"
is "$(info backing-filename data.qcow2)" "$T/base.qcow2" "grown overlay keeps its base"
is "$(stat -c '%Y' images/vm1/root.qcow2)" "1000000000" "root overlay untouched"

# ---- a relative base name: made absolute (QEMU gets the overlay as /dev/fdset/N)
qemu-img rebase -q -u -f qcow2 -F qcow2 -b base.qcow2 data.qcow2
is "$(info backing-filename data.qcow2)" "base.qcow2" "an overlay recording its base by a relative name"
out=$(V image prep topo.yaml vm1)
ok $? "prep exits 0"
is "$out" "$T/data.qcow2" "the overlay is written (its header only)"
is "$(info backing-filename data.qcow2)" "$T/base.qcow2" "its base now recorded by the absolute name"
is "$(info virtual-size data.qcow2)" "3221225472" "and its size kept"
is "$(V image prep topo.yaml vm1)" "" "then unchanged"

# ---- blank disks: size without backing -------------------------------------
blank() { # blank RAWSIZE QCOWSIZE > blank.yaml
	printf 'version: 1\nguests:\n  b:\n    disks:\n      - {file: blank.raw, size: %s}\n      - {file: blank.qcow2, size: %s}\n' "$1" "$2"
}
blank 64M 128M >blank.yaml
out=$(V image prep blank.yaml)
is "$?:$out" "0:$T/blank.raw
$T/blank.qcow2" "size without backing: blank images created"
is "$(info format blank.raw),$(info virtual-size blank.raw)" "raw,67108864" "blank raw image of 64M"
is "$(info format blank.qcow2),$(info virtual-size blank.qcow2)" "qcow2,134217728" "blank qcow2 image of 128M"
is "$(V image prep blank.yaml)" "" "blank images: unchanged, nothing written"
blank 96M 128M >blank.yaml
is "$(V image prep blank.yaml)" "$T/blank.raw" "blank raw image grown"
is "$(info virtual-size blank.raw)" "100663296" "to 96M"
blank 32M 128M >blank.yaml
V image prep blank.yaml >/dev/null 2>err.txt
is "$?" "2" "a blank image larger than size: exit 2 ($(head -1 err.txt))"
rm -f blank.raw blank.qcow2 blank.yaml

# ---- the test guest boots with the seed and applies its address -------------
if ! need qemu-system-x86_64; then
	skip "qemu-system-x86_64 is not installed" "test guest applies the seed"
elif [ ! -f "$TESTGUEST/vmlinuz" ] || [ ! -f "$TESTGUEST/initrd.img" ]; then
	skip "no test guest in $TESTGUEST (make testguest)" "test guest applies the seed"
else
	# the seed as vmrun writes it, on virtio-scsi: the cloud kernel has no AHCI
	timeout 120 qemu-system-x86_64 -accel tcg,thread=multi -machine q35 -m 256 -nodefaults \
		-nographic -serial stdio -monitor none \
		-kernel "$TESTGUEST/vmlinuz" -initrd "$TESTGUEST/initrd.img" \
		-append "console=ttyS0 quiet vmrun.poweroff=1" \
		-netdev user,id=n0 -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56 \
		-netdev user,id=n1 -device virtio-net-pci,netdev=n1,mac=52:54:00:aa:bb:cc \
		-device virtio-scsi-pci,id=scsi0 \
		-blockdev '{"driver":"file","filename":"'"$seed"'","node-name":"seed","read-only":true}' \
		-device scsi-cd,drive=seed,bus=scsi0.0 </dev/null >console.log 2>&1
	rc=$?
	is "$rc" "0" "test guest with the seed boots and powers off"
	[ "$rc" = 0 ] || tail -5 console.log | sed 's/^/# /'
	ok "$(grep -q "vmrun-testguest: seed instance-id $iid2" console.log; echo $?)" \
		"guest reads the instance-id from the seed"
	ok "$(grep -q 'vmrun-testguest: seed 10.0.2.99/24 on n6' console.log; echo $?)" \
		"guest applies the network-config address for its MAC, renamed to n6"
	grep -a -o 'vmrun-testguest: .*' console.log | sed 's/^/# /'
fi

# ---- vmrun run prepares the disks and the seed by itself ---------------------
if ! need qemu-system-x86_64 || [ ! -f "$TESTGUEST/initrd.img" ]; then
	skip "no qemu-system-x86_64 or no test guest in $TESTGUEST (make testguest)" "vmrun run with a seed"
elif ! V run --help >/dev/null 2>&1; then
	skip "this vmrun has no run verb" "vmrun run with a seed"
else
	cat >boot.yaml <<EOF
version: 1
guests:
  g1:
    memory: 256M
    accel: tcg
    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
    append: console=ttyS0 quiet vmrun.poweroff=1
    disks:
      - {file: boot.qcow2, backing: base.qcow2, size: 2G}
    nics:
      - {name: n6, user: true, mac: "52:54:00:12:34:56", ip: 10.0.2.77/24}
    cloud_init: {hostname: booted-by-run}
EOF
	timeout 150 "$VMRUN" --config "$T/vmrun.conf" run boot.yaml g1 </dev/null >run.out 2>run.err
	is "$?" "0" "vmrun run of a guest with an overlay and a seed: exit 0 when it powers off"
	log=$(tr -d '\r' <run.out | grep -a -o 'vmrun-testguest: .*')
	ok "$(grep -qx 'vmrun-testguest: seed 10.0.2.77/24 on n6' <<<"$log"; echo $?)" \
		"vmrun run: the guest applies the seed's address"
	ok "$(grep -qx 'vmrun-testguest: seed hostname booted-by-run' <<<"$log"; echo $?)" \
		"vmrun run: the guest reads its hostname from the seed"
	ok "$(grep -qx 'vmrun-testguest: disk vda 2147483648' <<<"$log"; echo $?)" \
		"vmrun run: the overlay it created is the guest's 2 GiB disk"
	is "$(info backing-filename boot.qcow2)" "$T/base.qcow2" "vmrun run: overlay on the base"
	[ -n "$log" ] || tail -5 run.err | sed 's/^/# /'
fi

# ---- bad input: exit 2, nothing written ---------------------------------------
bad() { # bad WHAT STATUS PATTERN: prep bad.yaml must fail with STATUS, change nothing
	local snap rc
	: >out.txt
	: >err.txt
	snap=$(listing)
	V image prep bad.yaml >out.txt 2>err.txt
	rc=$?
	is "$rc" "$2" "$1: exit $2"
	ok "$(grep -q -- "$3" err.txt; echo $?)" "$1: says so ($(head -1 err.txt))"
	is "$(listing)" "$snap" "$1: nothing created, nothing left behind"
}
clean_guest() { rm -rf "$T/state" "$T/images" "$T/new.qcow2" "$T/new2.qcow2"; }
clean_guest
cat >bad.yaml <<EOF
version: 1
guests:
  a:
    disks: [{file: new.qcow2, backing: nosuch.qcow2}]
EOF
bad "missing base" 2 "base image '$T/nosuch.qcow2': No such file or directory"
qemu-img create -q -f parallels odd.img 64M
cat >bad.yaml <<EOF
version: 1
guests:
  a:
    disks: [{file: new.qcow2, backing: odd.img}]
EOF
bad "unknown base format" 2 "unsupported format 'parallels'"
cat >bad.yaml <<EOF
version: 1
guests:
  a:
    disks: [{file: new.qcow2, backing: base.qcow2, size: 512M}]
EOF
bad "size below the base" 2 "size 512M is smaller than its base"
cat >bad.yaml <<EOF
version: 1
guests:
  a:
    disks: [{file: new.qcow2, backing: base.qcow2}]
    cloud_init: {user_data: nosuch.yaml}
EOF
bad "missing user_data" 2 "user_data '$T/nosuch.yaml' of guest 'a': No such file or directory"
cat >bad.yaml <<EOF
version: 1
guests:
  a:
    disks: [{file: new.qcow2, backing: base.qcow2}]
    cloud_init: true
  b:
    disks: [{file: new2.qcow2, backing: nosuch.qcow2}]
EOF
bad "second guest bad" 2 "disk 'new2.qcow2' of guest 'b'"
qemu-img create -q -f qcow2 other.qcow2 1G
qemu-img create -q -f qcow2 -F qcow2 -b "$T/other.qcow2" new.qcow2
cat >bad.yaml <<EOF
version: 1
guests:
  a:
    disks: [{file: new.qcow2, backing: base.qcow2}]
EOF
sum=$(md5sum <new.qcow2)
bad "overlay on another base" 2 "exists on base '$T/other.qcow2'"
is "$(md5sum <new.qcow2)" "$sum" "overlay on another base: left as it was"
rm -f new.qcow2
bad_guest=$(V image prep topo.yaml nosuch 2>&1)
is "$?" "2" "unknown guest: exit 2 ($bad_guest)"

# an unwritable directory, even for root: a read-only bind mount in a private mount namespace
if need unshare && unshare -m true 2>/dev/null; then
	mkdir -p ro
	cat >ro.yaml <<EOF
version: 1
guests:
  a:
    disks: [{file: ro/new.qcow2, backing: base.qcow2}]
EOF
	snap=$(listing)
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare -m sh -c 'mount --bind "$1/ro" "$1/ro" && mount -o remount,bind,ro "$1/ro" &&
		exec "$2" --config "$1/vmrun.conf" image prep "$1/ro.yaml"' sh "$T" "$VMRUN" >out.txt 2>err.txt
	is "$?" "1" "unwritable directory: exit 1"
	ok "$(grep -q "create overlay '$T/ro/new.qcow2'.*Read-only file system" err.txt; echo $?)" \
		"unwritable directory: says so ($(head -1 err.txt))"
	is "$(listing)" "$snap" "unwritable directory: nothing left behind"
	grep -q '^vmrun: hint:.*image_dir' err.txt
	is "$?" 1 "a disk outside image_dir: no hint about image_dir"
	# the root overlay in an image_dir this user cannot write: the hint says where to set another
	printf '[vmrun]\nstate_dir = %s/state\nimage_dir = %s/ro/images\n' "$T" "$T" >ro.conf
	printf 'version: 1\nguests:\n  a:\n    image: base.qcow2\n' >ro-image.yaml
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare -m sh -c 'mount --bind "$1/ro" "$1/ro" && mount -o remount,bind,ro "$1/ro" &&
		exec "$2" --config "$1/ro.conf" image prep "$1/ro-image.yaml"' sh "$T" "$VMRUN" >out.txt 2>err.txt
	is "$?" "1" "unwritable image_dir: exit 1"
	is "$(cat err.txt)" "vmrun: error: image of guest 'a': create directory '$T/ro/images/a': Read-only file system
vmrun: hint: set image_dir in vmrun.conf (--config FILE) to a directory this user can write (docs/configuration.md)" \
		"unwritable image_dir: the error, and a hint naming image_dir"
else
	skip "unshare -m is not available (needs root)" "unwritable directory"
fi

# ---- import -----------------------------------------------------------------
mkdir -p imp
for fmt in qcow2 raw vmdk vdi vpc qed; do
	qemu-img create -q -f "$fmt" "imp/src.$fmt" 64M
	qemu-io -f "$fmt" -c 'write -P 0xab 0 1M' -c 'write -P 0x11 40M 512k' "imp/src.$fmt" >/dev/null
	V image import "imp/src.$fmt" "imp/out-$fmt.qcow2" >out.txt 2>err.txt
	rc=$?
	is "$rc,$(info format "imp/out-$fmt.qcow2")" "0,qcow2" "import $fmt -> qcow2"
	is "$(qemu-img compare -q "imp/src.$fmt" "imp/out-$fmt.qcow2"; echo $?)" "0" "import $fmt: same contents"
done
ok "$(grep -q '^import: 100%$' err.txt; echo $?)" "import: plain progress lines when not on a terminal"
is "$(cat out.txt)" "imp/out-qed.qcow2" "import prints the destination"
rm -f imp/mode.qcow2
(umask 027 && V image import imp/src.raw imp/mode.qcow2 >/dev/null 2>&1)
is "$(stat -c %a imp/mode.qcow2)" "640" "an imported image gets the mode a new file gets (umask 027)"
V image import --format raw imp/src.vdi imp/out.raw >/dev/null 2>&1
is "$?,$(info format imp/out.raw)" "0,raw" "import --format raw"
is "$(qemu-img compare -q imp/src.vdi imp/out.raw; echo $?)" "0" "raw import: same contents"
sum=$(md5sum <imp/out.raw)
V image import imp/src.vmdk imp/out.raw >/dev/null 2>err.txt
is "$?" "2" "import refuses an existing destination"
ok "$(grep -q "destination 'imp/out.raw' exists" err.txt && grep -q -- '--force' err.txt; echo $?)" \
	"and says to use --force"
is "$(md5sum <imp/out.raw)" "$sum" "existing destination untouched"
V image import --force --format raw imp/src.vmdk imp/out.raw >/dev/null 2>&1
is "$?,$(qemu-img compare -q imp/src.vmdk imp/out.raw; echo $?)" "0,0" "import --force replaces it"
V image import odd.img imp/x.qcow2 >/dev/null 2>err.txt
is "$?" "2" "import of an unsupported format: exit 2 ($(head -1 err.txt))"
qemu-img create -q -f qcow2 -F qcow2 -b "$T/base.qcow2" imp/ov.qcow2
V image import imp/ov.qcow2 imp/y.qcow2 >/dev/null 2>err.txt
is "$?" "2" "import of an overlay: exit 2 ($(head -1 err.txt))"
V image import imp/nosuch imp/z.qcow2 >/dev/null 2>&1
is "$?" "2" "import of a missing source: exit 2"
V image import --format vhd imp/src.raw imp/z.qcow2 >/dev/null 2>&1
is "$?" "2" "import --format vhd: exit 2"
# a qemu-img whose compare finds a difference: the copy must not land at DEST
# shellcheck disable=SC2016 # $1 and $@ are for the wrapper script
printf '#!/bin/sh\n[ "$1" = compare ] && { echo "Content mismatch at offset 0!"; exit 1; }\nexec %s "$@"\n' \
	"$(command -v qemu-img)" >imp/qemu-img-differs
chmod +x imp/qemu-img-differs
VMRUN_QEMU_IMG=$T/imp/qemu-img-differs V image import imp/src.raw imp/z.qcow2 >/dev/null 2>err.txt
is "$?" "1" "an import that does not verify: exit 1"
ok "$(grep -q "verify 'imp/z.qcow2': its contents differ from 'imp/src.raw'" err.txt; echo $?)" \
	"it says the copy differs ($(head -1 err.txt))"
is "$(find imp -name '.*' -o -name 'x.qcow2' -o -name 'y.qcow2' -o -name 'z.qcow2' | wc -l)" "0" \
	"import leaves no temporary or partial files"

# shellcheck source=tests/images/testguest.sh
. "$top/tests/images/testguest.sh"

V image --help >/dev/null
is "$?" "0" "vmrun image --help"
V image frob >/dev/null 2>&1
is "$?" "2" "unknown image command: exit 2"
V image prep --dry-run topo.yaml >/dev/null 2>err.txt
is "$?" "2" "image prep with an unknown option: exit 2"
ok "$(grep -q "unrecognized option '--dry-run'" err.txt; echo $?)" "naming it"
is "$(sed -n 2p err.txt)" "vmrun: see 'vmrun image prep --help'" "then where the usage is"
is "$(wc -l <err.txt)" "2" "and nothing more (no usage dumped on stderr)"
V image frob >/dev/null 2>err.txt
is "$(head -1 err.txt)" "vmrun: error: image: unknown command 'frob' (prep or import)" \
	"unknown image command: named, with the commands there are"

done_testing
