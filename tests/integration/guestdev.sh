#!/usr/bin/env bash
# The guest devices' fast proofs (`make check`): real QEMU under TCG, no
# guest boot waited for (OVMF alone takes seconds to tens of seconds under
# TCG; tests/deep/guestdev_*.sh boot the test guests and ask them):
# - firmware uefi + tpm + vnc, inside a network namespace of our own, QEMU
#   and swtpm as nobody when we are root: the guest's UEFI variables and TPM
#   state made in IMAGE_DIR/GUEST, swtpm with QEMU's privilege drop and its
#   socket in the state directory; gvnccapture gets OVMF's screen with the
#   password and is refused without it, the password is in no command line,
#   status or log, `vmrun vnc` says where to connect; a killed supervisor
#   takes swtpm with it; the variables are kept across runs (that the TPM
#   keeps its endorsement key needs the guest: the deep suite); swtpm's
#   death stops the guest with status 5, which `restart: on-failure` counts
#   as a failure (the next run gets a new swtpm); `vmrun rm` removes the
#   variables and the TPM's state;
# - vnc: true (the supervisor's unix socket, 0600, its clients handed to
#   QEMU as fds: twenty at once get the RFB greeting), the tablet, `vmrun
#   media` changing and ejecting a running guest's CD-ROM, seen by QEMU
#   (query-block);
# - usb: the fd of a fake usbfs node reaches QEMU's usb-host through an fd
#   set, a missing device is refused, `vmrun devices` prints its entry;
# - watchdog: the supervisor's side (a fake QEMU's WATCHDOG events): a
#   reset is logged, a poweroff ends `vmrun run` with status 6.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash
unset VMRUN_QEMU VMRUN_SYSFS_ROOT VMRUN_DEV_ROOT
# QEMU reaches `cont` in seconds; allow for a loaded host
READY=120

# root, or nobody (tests create no user; an empty qemu_user is an error)
user=root
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	user=nobody
	chmod a+x "$T"
fi

# --- UEFI, TPM, VNC: OVMF runs (no kernel, no disk: it stays in its boot manager)
why=
if [ ! -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || [ ! -r /usr/share/OVMF/OVMF_VARS_4M.fd ]; then
	why="no OVMF (Debian's ovmf is not installed)"
elif ! command -v swtpm >/dev/null || ! command -v swtpm_setup >/dev/null; then
	why="no swtpm (Debian's swtpm and swtpm-tools are not installed)"
elif ! command -v gvnccapture >/dev/null; then
	why="no gvnccapture (Debian's gvncviewer is not installed)"
elif [ "$(id -u)" -ne 0 ]; then
	why="needs root for a network namespace"
fi
ns=vmrt-gdf-$$
if [ -z "$why" ] && ! ip netns add "$ns" 2>/dev/null; then
	why="cannot create a network namespace"
	ns=
fi
fast_cleanup() {
	run_cleanup
	[ -n "${ns:-}" ] && ip netns del "$ns" 2>/dev/null
}
trap fast_cleanup EXIT

helper_pid() { # GUEST: the pid of its swtpm from status.json
	json_get "$STATE/$1/status.json" '[h["pid"] for h in j["helpers"] if h["name"] == "swtpm"][0]'
}

if [ -n "$why" ]; then
	skip "$why" "UEFI, TPM and VNC without a guest boot"
else
	ip -n "$ns" link set lo up
	printf '[vmrun]\nimage_dir = %s\nqemu_user = %s\n' "$T/images" "$user" >"$T/v.conf"
	# the password file is root's: the supervisor reads it, QEMU never does
	printf 'f4st!pw\n' >"$T/vnc.pw"
	chmod 0600 "$T/vnc.pw"
	cat >"$T/f.yaml" <<EOF
version: 1
guests:
  f:
    accel: tcg
    memory: 128M
    stop_timeout: 1
    firmware: uefi
    tpm: true
    vnc: {port: 5932, password_file: $T/vnc.pw}
EOF
	start() { # NAME: the supervisor of guest f in the namespace
		: >"$T/$1.out"
		: >"$T/$1.err"
		ip netns exec "$ns" "$VMRUN" --config "$T/v.conf" --state-dir "$STATE" run "$T/f.yaml" f \
			>>"$T/$1.out" 2>>"$T/$1.err" &
		RUN_PID[$1]=$!
	}

	start a
	run_wait_ready a f "$READY"
	r=$?
	ok $r "guest with firmware uefi, tpm and vnc is running"
	[ $r -ne 0 ] && sed 's/^/# /' "$T/a.err"
	q=$(qemu_pid f)
	s=$(helper_pid f)
	tr '\0' '\n' <"/proc/$q/cmdline" >"$T/qemu.cmdline"
	grep -qx "q35,pflash0=fw-code,pflash1=fw-vars" "$T/qemu.cmdline" ||
		grep -q "pflash0=fw-code,pflash1=fw-vars" "$T/qemu.cmdline"
	ok $? "QEMU runs OVMF from the flash chips"
	is "$(awk '/^PPid:/ { print $2 }' "/proc/$s/status")" "${RUN_PID[a]}" "swtpm is the supervisor's child"
	if [ "$user" = nobody ]; then
		is "$(awk '/^Uid:/ { print $2 }' "/proc/$s/status") $(awk '/^Uid:/ { print $2 }' "/proc/$q/status")" \
			"65534 65534" "swtpm runs as QEMU's user, nobody"
	fi
	is "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$s/status") $(awk '/^CapEff:/ { print $2 }' "/proc/$s/status")" \
		"1 0000000000000000" "swtpm has QEMU's privilege drop (NoNewPrivs, no capabilities)"
	tr '\0' ' ' <"/proc/$s/cmdline" | grep -q -- "--ctrl type=unixio,fd=3 --terminate"
	ok $? "swtpm gets its control socket as an fd and ends with QEMU"
	[ -S "$STATE/f/tpm.sock" ]
	ok $? "its socket is STATE/f/tpm.sock"
	vars=$T/images/f/uefi-vars.fd
	cmp -s "$vars" /usr/share/OVMF/OVMF_VARS_4M.fd
	ok $? "the guest's UEFI variables start as a copy of OVMF's template"
	[ -f "$T/images/f/tpm/tpm2-00.permall" ]
	ok $? "swtpm_setup made the TPM's state in IMAGE_DIR/f/tpm"
	if [ "$user" = nobody ]; then
		is "$(stat -c '%U %a' "$vars") $(stat -c '%U %a' "$T/images/f/tpm")" "root 600 nobody 700" \
			"the variables stay the supervisor's (QEMU gets an fd), the TPM state is QEMU's user's"
		q=$(qemu_pid f)
		[ "$(json_get "$STATE/f/plan.json" 'any("/dev/fdset/" in a and "fw-vars-file" in a for a in j["argv"])')" = True ] &&
			for fd in /proc/"$q"/fd/*; do readlink "$fd"; done | grep -qxF "$vars"
		ok $? "QEMU holds the variables as an fd from its fd set, not by name"
	fi
	"$VMRUN" --state-dir "$STATE" inspect f --json >"$T/inspect.json"
	is "$(json_get "$T/inspect.json" '[(h["name"], h["pid"], h["exited"]) for h in j["helpers"]]')" \
		"[('swtpm', $s, False)]" "vmrun inspect --json lists swtpm among the helpers"
	"$VMRUN" --state-dir "$STATE" inspect f | grep -qx "helper: *swtpm, pid $s"
	ok $? "and so does vmrun inspect"
	reply=$(ctl f '{"qmp": {"execute": "query-tpm"}}')
	case $reply in *'"model":"tpm-crb"'*'"type":"emulator"'*) r=0 ;; *) r=1 ;; esac
	ok $r "QEMU has a tpm-crb on the emulator backend (query-tpm)"

	grep -qx "127.0.0.1:32,password=on" "$T/qemu.cmdline"
	ok $? "QEMU listens for VNC on 127.0.0.1:5932 with a password"
	"$VMRUN" --state-dir "$STATE" vnc f >"$T/vnc.txt" 2>&1
	grep -q "^vnc://127.0.0.1:5932$" "$T/vnc.txt" && grep -q "auth: VNC password" "$T/vnc.txt"
	ok $? "vmrun vnc prints the address and the authentication"
	ip netns exec "$ns" python3 tests/lib/vnccapture.py 127.0.0.1:32 "$T/shot.png" "$T/vnc.pw" >"$T/cap.txt" 2>&1
	r=$?
	ok $r "gvnccapture authenticates with the password"
	[ $r -ne 0 ] && sed 's/^/# /' "$T/cap.txt"
	is "$(head -c 8 "$T/shot.png" 2>/dev/null | od -An -tx1 | tr -d ' ')" "89504e470d0a1a0a" \
		"and saves the guest's screen as a PNG"
	printf 'wrong\n' >"$T/bad.pw"
	ip netns exec "$ns" python3 tests/lib/vnccapture.py 127.0.0.1:32 "$T/bad.png" "$T/bad.pw" >"$T/cap2.txt" 2>&1
	r=$?
	ok "$([ $r -ne 0 ] && [ ! -s "$T/bad.png" ] && echo 0 || echo 1)" "a wrong password is refused (status $r)"
	leaks=$(grep -l 'f4st' "$T/qemu.cmdline" "$STATE/f/status.json" "$STATE/f/events.jsonl" \
		"$T/a.err" "$T/a.out" /proc/"$s"/cmdline 2>/dev/null)
	is "$leaks" "" "the password is in no command line, status or log"

	# a stop: no OS answers the power button, the supervisor escalates
	kill -TERM "${RUN_PID[a]}"
	run_wait_exit a 60
	is "$RC" 143 "SIGTERM: OVMF ignores the power button, QEMU is told to quit (143)"
	pid_gone "$s" 5
	ok $? "swtpm ended with QEMU"
	[ ! -e "$STATE/f/tpm.sock" ]
	ok $? "its socket is removed"
	torn_down f
	ok $? "torn down"

	# --- a killed supervisor: QEMU and swtpm die with it (PDEATHSIG)
	ino=$(stat -c %i "$vars")
	start k
	run_wait_ready k f "$READY"
	ok $? "second run"
	q=$(qemu_pid f)
	s=$(helper_pid f)
	kill -KILL "${RUN_PID[k]}"
	wait "${RUN_PID[k]}" 2>/dev/null
	unset "RUN_PID[k]"
	pid_gone "$q" 5 && pid_gone "$s" 5
	ok $? "SIGKILL of the supervisor: QEMU and swtpm are gone"

	# --- third run: the state is kept; swtpm's death stops the guest
	start b
	run_wait_ready b f "$READY"
	r=$?
	ok $r "third run (the dead run's socket reclaimed)"
	[ $r -ne 0 ] && sed 's/^/# /' "$T/b.err"
	is "$(stat -c %i "$vars")" "$ino" "the UEFI variables are the same file"
	s=$(helper_pid f)
	kill -KILL "$s"
	run_wait_exit b 60
	is "$RC" 5 "swtpm killed: the guest is stopped, exit status 5"
	grep -q "guest 'f': swtpm (pid $s) killed by SIGKILL: the guest cannot run without it" "$T/b.err"
	ok $? "and the supervisor says why"
	is "$(json_get "$STATE/f/status.json" 'j["exit_status"]')" 5 "status.json records exit status 5"
	torn_down f
	ok $? "torn down"

	# --- restart: on-failure: swtpm's death is a failure, the next run gets a new swtpm
	printf '    restart: on-failure:1\n' >>"$T/f.yaml"
	start r
	run_wait_ready r f "$READY"
	ok $? "guest with restart: on-failure:1 is running"
	s=$(helper_pid f)
	kill -KILL "$s"
	run_wait_grep "$T/r.err" "guest 'f': restarting in .* (restart 1, restart: on-failure; failure: exit status 5 after" 60
	ok $? "swtpm killed: the manager restarts the guest (exit status 5 is a failure)"
	for ((i = 0; i < READY * 10; i++)); do
		s2=$(helper_pid f 2>/dev/null)
		[ -n "$s2" ] && [ "$s2" != "$s" ] && kill -0 "$s2" 2>/dev/null && break
		sleep 0.1
	done
	ok "$([ -n "$s2" ] && [ "$s2" != "$s" ] && kill -0 "$s2" 2>/dev/null && echo 0 || echo 1)" \
		"the new run has a new swtpm (pid $s2)"
	run_wait_ready r f "$READY"
	ok $? "and runs again"
	kill -TERM "${RUN_PID[r]}"
	run_wait_exit r 60
	is "$RC" 143 "SIGTERM to the manager: no restart, exit 143"
	pid_gone "$s2" 5
	ok $? "the second swtpm ended with its QEMU"
	torn_down f
	ok $? "torn down"

	# --- vmrun rm: the variables and the TPM's state go with the guest
	"$VMRUN" --config "$T/v.conf" --state-dir "$STATE" rm "$T/f.yaml" f --dry-run >"$T/rm1.txt" 2>&1
	grep -qx "would remove $vars" "$T/rm1.txt" && grep -qx "would remove $T/images/f/tpm/" "$T/rm1.txt" &&
		[ -f "$vars" ] && [ -d "$T/images/f/tpm" ]
	ok $? "vmrun rm --dry-run lists the UEFI variables and the TPM's state, removes nothing"
	"$VMRUN" --config "$T/v.conf" --state-dir "$STATE" rm "$T/f.yaml" f >"$T/rm2.txt" 2>&1
	is "$?" 0 "vmrun rm f"
	[ ! -e "$T/images/f" ] && [ ! -e "$STATE/f" ]
	r=$?
	ok $r "IMAGE_DIR/f and the state directory are gone"
	[ $r -ne 0 ] && sed 's/^/# /' "$T/rm2.txt"
fi

# --- vnc: true, the tablet, vmrun media on a running guest (no kernel: SeaBIOS waits)
head -c 1048576 /dev/zero >"$T/a.iso"
head -c 2097152 /dev/zero >"$T/b.iso"
cat >"$T/m.yaml" <<EOF
version: 1
guests:
  m:
    accel: tcg
    machine: pc
    memory: 64M
    stop_timeout: 1
    tablet: true
    vnc: true
    disks: [{cdrom: $T/a.iso}]
EOF
run_start m "$T/m.yaml" m
run_wait_ready m m "$READY"
r=$?
ok $r "guest with a tablet, VNC on a unix socket and a CD-ROM is running"
[ $r -ne 0 ] && sed 's/^/# /' "$T/m.err"
reply=$(ctl m '{"qmp": {"execute": "qom-list", "arguments": {"path": "/machine/peripheral"}}}')
case $reply in *'"name":"tablet0"'*'"name":"xhci"'* | *'"name":"xhci"'*'"name":"tablet0"'*) r=0 ;; *) r=1 ;; esac
ok $r "QEMU has the xHCI controller and the USB tablet"
"$VMRUN" --state-dir "$STATE" vnc m >"$T/mvnc.txt"
grep -qx "vnc+unix://$STATE/m/vnc.sock" "$T/mvnc.txt" && grep -q "auth: none" "$T/mvnc.txt"
ok $? "vmrun vnc: the unix socket, no authentication"
# twenty clients at once, all connected before any reads: more than the 16
# the supervisor hands over at a time and than the socket's backlog of 8
banners=$(python3 -c '
import signal, socket, sys
signal.alarm(60)  # a broken relay must not hang the suite
conns = []
for i in range(20):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])  # blocking: a full backlog waits (a timeout would make it EAGAIN)
    s.settimeout(20)
    conns.append(s)
print(sorted(set(s.recv(12).decode().strip() for s in conns)), len(conns))
' "$STATE/m/vnc.sock" 2>&1)
is "$banners" "['RFB 003.008'] 20" "QEMU's VNC server greets twenty clients of vnc.sock at once"
is "$(stat -c '%a %u' "$STATE/m/vnc.sock")" "600 $(id -u)" "vnc.sock is the supervisor's, 0600"
qcmd=$(tr '\0' ' ' <"/proc/$(qemu_pid m)/cmdline")
[[ $qcmd == *"-vnc none "* && $qcmd != *vnc.sock* ]]
ok $? "QEMU runs -vnc none and has no path to the socket"

media() { "$VMRUN" --state-dir "$STATE" media "$@"; }
media m >"$T/list.txt"
grep -q "^disk0 *$T/a.iso$" "$T/list.txt"
ok $? "vmrun media lists disk0 with its medium"
media m disk0 "$T/b.iso" >/dev/null
is "$?" 0 "vmrun media m disk0 b.iso"
media m --json >"$T/list.json"
is "$(json_get "$T/list.json" '[m["file"] for m in j if m["device"] == "disk0"][0]')" "$T/b.iso" \
	"query-block: disk0 holds b.iso"
reply=$(ctl m '{"qmp": {"execute": "query-named-block-nodes"}}')
case $reply in *'"node-name":"disk0"'* | *'"node-name":"disk0-file"'*) r=1 ;; *) r=0 ;; esac
ok $r "the nodes QEMU started with are deleted"
media m --eject disk0 >/dev/null
is "$?" 0 "vmrun media --eject m disk0"
media m --json >"$T/list.json"
is "$(json_get "$T/list.json" '[m["file"] for m in j if m["device"] == "disk0"][0]')" "None" \
	"query-block: disk0 is empty"
media m disk0 "$T/a.iso" >/dev/null
media m --json >"$T/list.json"
is "$(json_get "$T/list.json" '[m["file"] for m in j if m["device"] == "disk0"][0]')" "$T/a.iso" \
	"a medium goes back into the empty tray"
media m disk7 "$T/a.iso" >/dev/null 2>"$T/e1.txt"
is "$?" 2 "an unknown device is bad usage"
grep -q "guest 'm' has no removable device 'disk7' (it has: disk0)" "$T/e1.txt"
ok $? "and names the devices there are"
media m seed "$T/a.iso" >/dev/null 2>&1
is "$?" 2 "the cloud-init seed is not for vmrun media"
media m disk0 "$T/missing.iso" >/dev/null 2>&1
is "$?" 2 "a missing file is bad usage"
media m disk0 >/dev/null 2>&1
is "$?" 2 "DEVICE without PATH or --eject is bad usage"
kill -TERM "${RUN_PID[m]}"
run_wait_exit m 60
torn_down m
ok $? "torn down"
[ ! -e "$STATE/m/vnc.sock" ]
ok $? "the VNC socket is removed"

# --- usb: the fd of the node vmrun opened reaches QEMU's usb-host
fs=$T/fake
mkdir -p "$fs/sys/bus/usb/devices/1-2" "$fs/dev/bus/usb/001"
printf '1\n' >"$fs/sys/bus/usb/devices/1-2/busnum"
printf '4\n' >"$fs/sys/bus/usb/devices/1-2/devnum"
printf '0781\n' >"$fs/sys/bus/usb/devices/1-2/idVendor"
printf '5567\n' >"$fs/sys/bus/usb/devices/1-2/idProduct"
printf 'not a usbfs node\n' >"$fs/dev/bus/usb/001/004"
chmod 0600 "$fs/dev/bus/usb/001/004"
printf '[vmrun]\nsysfs_root = %s\ndev_root = %s\nqemu_user = %s\nimage_dir = %s\n' \
	"$fs/sys" "$fs/dev" "$user" "$T/images" >"$T/usb.conf"
cat >"$T/usb.yaml" <<EOF
version: 1
guests:
  usb:
    accel: tcg
    memory: 64M
    usb: [{vendor: 0x0781, product: 0x5567}]
EOF
"$VMRUN" --config "$T/usb.conf" args "$T/usb.yaml" usb >"$T/usb.args"
grep -qx -- "fd=3,set=3,opaque=usb0" "$T/usb.args" &&
	grep -qF '"hostdevice":"/dev/fdset/3"' "$T/usb.args"
ok $? "vmrun args: the device's fd 3 in fd set 3, usb-host on /dev/fdset/3"
"$VMRUN" --config "$T/usb.conf" --state-dir "$STATE" run "$T/usb.yaml" usb \
	>"$T/usb.out" 2>"$T/usb.err"
is "$?" 1 "vmrun run: QEMU cannot use a plain file as a USB device"
grep -q "usb-host.*failed to open host usb device /dev/fdset/3" "$T/usb.err"
ok $? "QEMU got the fd vmrun opened and handed it to libusb: $(grep -o 'failed to open host usb device [^ ]*' "$T/usb.err")"
! grep -q "No such file\|Permission denied" "$T/usb.err"
ok $? "QEMU never opened the node by name"
torn_down usb
ok $? "torn down"
sed -i 's/0x5567/0x5568/' "$T/usb.yaml"
"$VMRUN" --config "$T/usb.conf" --state-dir "$STATE" run "$T/usb.yaml" usb \
	>"$T/usb2.out" 2>"$T/usb2.err"
is "$?" 1 "an absent USB device fails the start"
grep -q "guest 'usb': USB device 0781:5568: not on this host ('vmrun devices' lists them)" "$T/usb2.err"
ok $? "and names it"
VMRUN_SYSFS_ROOT=$fs/sys "$VMRUN" devices >"$T/dev.txt"
grep -q "001:004 0781:5567 1-2 *{vendor: 0x0781, product: 0x5567}" "$T/dev.txt"
ok $? "vmrun devices prints the usb: entry that names it"

# --- watchdog: the supervisor's side, with the fake QEMU's WATCHDOG events
if ! command -v python3 >/dev/null; then
	skip "python3 is missing (the fake QEMU is a Python script)" "watchdog events"
else
	wtopo() { # NAME ACTION FAKE
		cat >"$T/$1.yaml" <<EOF
version: 1
guests:
  $1:
    accel: tcg
    memory: 64M
    stop_timeout: 2
    watchdog: {action: $2}
    qemu_args: ["-fake", "watchdog_after=$3"]
EOF
	}
	wtopo wr reset 0.5:reset
	VMRUN_QEMU=$FAKEQEMU run_start wr "$T/wr.yaml" wr
	run_wait_ready wr wr 20
	ok $? "fake guest with a watchdog is running"
	run_wait_grep "$T/wr.err" "guest 'wr': the watchdog fired (action reset)" 20
	ok $? "a reset by the watchdog is logged"
	kill -0 "${RUN_PID[wr]}" 2>/dev/null
	ok $? "and the guest goes on"
	kill -TERM "${RUN_PID[wr]}"
	run_wait_exit wr 30
	is "$RC" 0 "SIGTERM: the guest powers off, exit 0"
	wtopo wp poweroff 0.5:poweroff
	VMRUN_QEMU=$FAKEQEMU run_start wp "$T/wp.yaml" wp
	run_wait_exit wp 30
	is "$RC" 6 "the watchdog powers the guest off: exit status 6"
	grep -q "guest 'wp': QEMU exited with status 0, exit status 6" "$T/wp.err"
	ok $? "the supervisor says how it ended"
	is "$(json_get "$STATE/wp/status.json" 'j["exit_status"]')" 6 "status.json records exit status 6"
	torn_down wp
	ok $? "torn down"
fi

done_testing
