#!/usr/bin/env bash
# The USB tablet and removable media as the guest sees them, with real QEMU
# under TCG and the generic-kernel test guest (the cloud kernel has no USB):
# - tablet: the guest sees QEMU's USB tablet on xHCI;
# - vmrun media: a running guest's CD-ROM changed and ejected, seen by
#   QEMU (query-block) and by the guest, its old nodes deleted.
# In `make check-deep`: a boot of the generic kernel; the fast proof of the
# same verbs and of USB passthrough's fd (no guest boot) is
# tests/integration/guestdev.sh.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash
unset VMRUN_QEMU
BOOT=240

# --- the generic-kernel guest: the USB tablet, CD-ROM media changes
GENERIC=$top/${BUILD:-build}/testguest-generic
[ -d "$GENERIC" ] || GENERIC=$top/build/testguest-generic
if [ ! -f "$GENERIC/vmlinuz" ] || [ ! -f "$GENERIC/initrd.img" ]; then
	skip "no generic-kernel test guest in $GENERIC (run make testguest-generic)" \
		"tablet and media suite"
	done_testing
	exit
fi
head -c 1048576 /dev/zero >"$T/a.iso"
head -c 2097152 /dev/zero >"$T/b.iso"
cat >"$T/m.yaml" <<EOF
version: 1
guests:
  m:
    accel: tcg
    machine: pc
    memory: 256M
    kernel: $GENERIC/vmlinuz
    initrd: $GENERIC/initrd.img
    append: console=ttyS0 quiet vmrun.cdwatch=1
    stop_timeout: 60
    tablet: true
    vnc: true
    disks: [{cdrom: $T/a.iso}]
EOF
run_start m "$T/m.yaml" m
run_wait_ready m m "$BOOT"
ok $? "guest with a tablet and a CD-ROM is ready"
run_wait_grep "$T/m.out" "vmrun-testguest: booted" "$BOOT"
ok $? "the guest boots"
run_wait_grep "$T/m.out" "vmrun-testguest: usb 1-1 0627:0001 QEMU USB Tablet" 60
ok $? "the guest sees QEMU's USB tablet on xHCI"
run_wait_grep "$T/m.out" "vmrun-testguest: cdrom sr0 1048576" 60
ok $? "the guest sees the CD-ROM's 1 MiB medium"

# vnc: true: the supervisor's unix socket in the state directory (its clients go to QEMU as
# fds), no password (only root reaches it)
"$VMRUN" --state-dir "$STATE" vnc m >"$T/vnc.txt"
grep -qx "vnc+unix://$STATE/m/vnc.sock" "$T/vnc.txt" && grep -q "auth: none" "$T/vnc.txt"
ok $? "vmrun vnc: the unix socket, no authentication"
banner=$(python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1]); print(s.recv(12).decode().strip())' "$STATE/m/vnc.sock")
is "$banner" "RFB 003.008" "QEMU's VNC server answers on it"
is "$(stat -c %a "$STATE/m/vnc.sock")" 600 "the socket is the supervisor's, 0600"

media() { "$VMRUN" --state-dir "$STATE" media "$@"; }
media m >"$T/list.txt"
grep -q "^disk0 *$T/a.iso$" "$T/list.txt"
ok $? "vmrun media lists disk0 with its medium"
media m disk0 "$T/b.iso" >"$T/chg.txt"
is "$?" 0 "vmrun media m disk0 b.iso"
media m --json >"$T/list.json"
is "$(json_get "$T/list.json" '[m["file"] for m in j if m["device"] == "disk0"][0]')" "$T/b.iso" \
	"query-block: disk0 holds b.iso"
run_wait_grep "$T/m.out" "vmrun-testguest: cdrom sr0 2097152" 60
ok $? "the guest sees the 2 MiB medium"
reply=$(ctl m '{"qmp": {"execute": "query-named-block-nodes"}}')
case $reply in *'"node-name":"disk0"'* | *'"node-name":"disk0-file"'*) r=1 ;; *) r=0 ;; esac
ok $r "the nodes QEMU started with are deleted"
media m --eject disk0 >/dev/null
is "$?" 0 "vmrun media --eject m disk0"
media m --json >"$T/list.json"
is "$(json_get "$T/list.json" '[m["file"] for m in j if m["device"] == "disk0"][0]')" "None" \
	"query-block: disk0 is empty"
run_wait_grep "$T/m.out" "vmrun-testguest: cdrom sr0 none" 60
ok $? "the guest sees no medium"
media m disk0 "$T/a.iso" >/dev/null
for ((i = 0; i < 60 * 20; i++)); do
	[ "$(grep -ac 'vmrun-testguest: cdrom sr0 1048576' "$T/m.out")" -ge 2 ] && break
	sleep 0.05
done
[ "$(grep -ac 'vmrun-testguest: cdrom sr0 1048576' "$T/m.out")" -ge 2 ]
ok $? "a medium goes back into the empty tray"
media m disk7 "$T/a.iso" >/dev/null 2>"$T/e1.txt"
is "$?" 2 "an unknown device is bad usage"
grep -q "guest 'm' has no removable device 'disk7' (it has: disk0)" "$T/e1.txt"
ok $? "and names the devices there are"
media m seed "$T/a.iso" >/dev/null 2>"$T/e2.txt"
is "$?" 2 "the cloud-init seed is not for vmrun media"
media m disk0 "$T/missing.iso" >/dev/null 2>"$T/e3.txt"
is "$?" 2 "a missing file is bad usage"
media m disk0 >/dev/null 2>&1
is "$?" 2 "DEVICE without PATH or --eject is bad usage"
kill -TERM "${RUN_PID[m]}"
run_wait_exit m 120
is "$RC" 0 "SIGTERM: the guest powers off, exit 0"
torn_down m
ok $? "torn down"
[ ! -e "$STATE/m/vnc.sock" ]
ok $? "the VNC socket QEMU left is removed"
[ "$TAP_FAILED" -ne 0 ] && grep -a "vmrun-testguest" "$T/m.out" | sed 's/^/# console: /'

done_testing
