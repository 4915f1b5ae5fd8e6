#!/usr/bin/env bash
# `firmware: uefi`, `tpm: true` and `vnc:` with real QEMU under TCG, the
# test guest booted by OVMF (direct kernel boot) inside a network namespace
# of our own (VNC listens on its loopback), QEMU and swtpm as nobody when we
# are root:
# - the guest reports UEFI and a TPM 2.0; swtpm runs with QEMU's privilege
#   drop, its socket in the state directory;
# - a real VNC client (gvnccapture) gets a screenshot with the password and
#   is refused without it; the password is nowhere in ps, status or logs;
#   `vmrun vnc` says where to connect;
# - the guest's UEFI variables and TPM state are kept across runs (the
#   same file, the same endorsement key);
# - a killed supervisor takes swtpm with it (PDEATHSIG);
# - swtpm's death stops the guest: exit status 5.
# In `make check-deep`: three boots through OVMF take a minute or more under
# TCG; tests/integration/guestdev.sh is the fast proof (no guest boot).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash

why=
if [ ! -f "$TESTGUEST/vmlinuz" ] || [ ! -f "$TESTGUEST/initrd.img" ]; then
	why="no test guest in $TESTGUEST (run make testguest)"
elif [ ! -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || [ ! -r /usr/share/OVMF/OVMF_VARS_4M.fd ]; then
	why="no OVMF (Debian's ovmf is not installed)"
elif ! command -v swtpm >/dev/null || ! command -v swtpm_setup >/dev/null; then
	why="no swtpm (Debian's swtpm and swtpm-tools are not installed)"
elif ! command -v gvnccapture >/dev/null; then
	why="no gvnccapture (Debian's gvncviewer is not installed)"
elif [ "$(id -u)" -ne 0 ]; then
	why="needs root for a network namespace"
fi
if [ -n "$why" ]; then
	skip "$why" "UEFI, TPM and VNC suite"
	done_testing
	exit
fi
ns=vmrt-gdev-$$
if ! ip netns add "$ns" 2>/dev/null; then
	skip "cannot create a network namespace" "UEFI, TPM and VNC suite"
	done_testing
	exit
fi
uefi_cleanup() {
	run_cleanup
	ip netns del "$ns" 2>/dev/null
}
trap uefi_cleanup EXIT
ip -n "$ns" link set lo up
unset VMRUN_QEMU
# under a loaded TCG host OVMF alone takes tens of seconds
BOOT=240

# root, or nobody (tests create no user; an empty qemu_user is an error)
user=root
if id nobody >/dev/null 2>&1; then
	user=nobody
	chmod a+x "$T"
	run_stage "$TESTGUEST/vmlinuz" "$TESTGUEST/initrd.img" >/dev/null
	kdir=$T/stage
else
	kdir=$TESTGUEST
fi
printf '[vmrun]\nimage_dir = %s\nqemu_user = %s\n' "$T/images" "$user" >"$T/v.conf"
# the password file is root's: the supervisor reads it, QEMU never does
printf 's3cret!x\n' >"$T/vnc.pw"
chmod 0600 "$T/vnc.pw"
cat >"$T/u.yaml" <<EOF
version: 1
guests:
  u:
    accel: tcg
    memory: 256M
    kernel: $kdir/vmlinuz
    initrd: $kdir/initrd.img
    append: console=ttyS0 quiet
    stop_timeout: 60
    firmware: uefi
    tpm: true
    vnc: {port: 5931, password_file: $T/vnc.pw}
EOF

# start NAME: the supervisor of guest u in the namespace
start() {
	: >"$T/$1.out"
	: >"$T/$1.err"
	ip netns exec "$ns" "$VMRUN" --config "$T/v.conf" --state-dir "$STATE" run "$T/u.yaml" u \
		>>"$T/$1.out" 2>>"$T/$1.err" &
	RUN_PID[$1]=$!
}

helper_pid() { # the pid of swtpm from status.json
	json_get "$STATE/u/status.json" '[h["pid"] for h in j["helpers"] if h["name"] == "swtpm"][0]'
}

# --- first run: UEFI, the TPM, VNC
start a
run_wait_ready a u "$BOOT"
r=$?
ok $r "guest with firmware uefi, tpm and vnc is ready"
[ $r -ne 0 ] && sed 's/^/# /' "$T/a.err"
run_wait_grep "$T/a.out" "vmrun-testguest: booted" "$BOOT"
ok $? "OVMF boots the test guest's kernel"
grep -qa "vmrun-testguest: efi yes 64-bit" "$T/a.out"
ok $? "the guest runs on UEFI (/sys/firmware/efi, 64-bit)"
grep -qa "vmrun-testguest: efi secureboot 0" "$T/a.out"
ok $? "secure boot is off (the template without keys)"
grep -qa "vmrun-testguest: tpm tpm0 2" "$T/a.out"
ok $? "the guest has a TPM 2.0 (/sys/class/tpm/tpm0)"
ek1=$(sed -n 's/.*vmrun-testguest: tpm tpm0 ek \([0-9a-f]*\).*/\1/p' "$T/a.out")
ok "$([ -n "$ek1" ] && echo 0 || echo 1)" "the TPM answers TPM2_ReadPublic of its endorsement key ($ek1)"

q=$(qemu_pid u)
s=$(helper_pid)
is "$(awk '/^PPid:/ { print $2 }' "/proc/$s/status")" "${RUN_PID[a]}" "swtpm is the supervisor's child"
if [ "$user" = nobody ]; then
	is "$(awk '/^Uid:/ { print $2 }' "/proc/$s/status") $(awk '/^Uid:/ { print $2 }' "/proc/$q/status")" \
		"65534 65534" "swtpm runs as QEMU's user, nobody"
fi
is "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$s/status") $(awk '/^CapEff:/ { print $2 }' "/proc/$s/status")" \
	"1 0000000000000000" "swtpm has QEMU's privilege drop (NoNewPrivs, no capabilities)"
tr '\0' ' ' <"/proc/$s/cmdline" | grep -q -- "--ctrl type=unixio,fd=3 --terminate"
ok $? "swtpm gets its control socket as an fd and ends with QEMU"
[ -S "$STATE/u/tpm.sock" ]
ok $? "its socket is STATE/u/tpm.sock"
vars=$T/images/u/uefi-vars.fd
[ -f "$vars" ] && ! cmp -s "$vars" /usr/share/OVMF/OVMF_VARS_4M.fd
ok $? "the guest has its own UEFI variables, written by OVMF"
if [ "$user" = nobody ]; then
	is "$(stat -c '%U %a' "$vars") $(stat -c '%U %a' "$T/images/u/tpm")" "root 600 nobody 700" \
		"the variables stay the supervisor's (QEMU gets an fd), the TPM state is QEMU's user's"
fi
[ -f "$T/images/u/tpm/tpm2-00.permall" ]
ok $? "swtpm_setup made the TPM's state in IMAGE_DIR/u/tpm"

# VNC: the password is set over QMP, never on a command line
tr '\0' '\n' <"/proc/$q/cmdline" >"$T/qemu.cmdline"
grep -qx "127.0.0.1:31,password=on" "$T/qemu.cmdline"
ok $? "QEMU listens for VNC on 127.0.0.1:5931 with a password"
leaks=$(grep -l 's3cret' "$T/qemu.cmdline" "$STATE/u/status.json" "$STATE/u/console.log" \
	"$STATE/u/events.jsonl" "$T/a.err" /proc/"$s"/cmdline 2>/dev/null)
is "$leaks" "" "the password is in no command line, status or log"
"$VMRUN" --state-dir "$STATE" vnc u >"$T/vnc.txt" 2>&1
is "$?" 0 "vmrun vnc"
grep -q "^vnc://127.0.0.1:5931$" "$T/vnc.txt" && grep -q "auth: VNC password" "$T/vnc.txt"
ok $? "vmrun vnc prints the address and the authentication"
sed 's/^/# /' "$T/vnc.txt"
ip netns exec "$ns" python3 tests/lib/vnccapture.py 127.0.0.1:31 "$T/shot.png" "$T/vnc.pw" >"$T/cap.txt" 2>&1
r=$?
ok $r "gvnccapture authenticates with the password"
[ $r -ne 0 ] && sed 's/^/# /' "$T/cap.txt"
is "$(head -c 8 "$T/shot.png" 2>/dev/null | od -An -tx1 | tr -d ' ')" "89504e470d0a1a0a" \
	"and saves the guest's screen as a PNG"
printf 'wrong\n' >"$T/bad.pw"
ip netns exec "$ns" python3 tests/lib/vnccapture.py 127.0.0.1:31 "$T/bad.png" "$T/bad.pw" >"$T/cap2.txt" 2>&1
r=$?
ok "$([ $r -ne 0 ] && [ ! -s "$T/bad.png" ] && echo 0 || echo 1)" "a wrong password is refused (status $r)"

kill -TERM "${RUN_PID[a]}"
run_wait_exit a 120
is "$RC" 0 "SIGTERM: the guest powers off, exit 0"
pid_gone "$s" 5
ok $? "swtpm ended after QEMU"
[ ! -e "$STATE/u/tpm.sock" ]
ok $? "its socket is removed"
torn_down u
ok $? "torn down"

# --- a killed supervisor: QEMU and swtpm die with it (PDEATHSIG)
ino1=$(stat -c %i "$vars")
start k
run_wait_ready k u "$BOOT"
ok $? "second run ready"
q=$(qemu_pid u)
s=$(helper_pid)
kill -KILL "${RUN_PID[k]}"
wait "${RUN_PID[k]}" 2>/dev/null
unset "RUN_PID[k]"
pid_gone "$q" 5 && pid_gone "$s" 5
ok $? "SIGKILL of the supervisor: QEMU and swtpm are gone"

# --- third run: the state is kept; swtpm's death stops the guest
start b
run_wait_ready b u "$BOOT"
r=$?
ok $r "third run ready (the dead run's socket reclaimed)"
[ $r -ne 0 ] && sed 's/^/# /' "$T/b.err"
run_wait_grep "$T/b.out" "vmrun-testguest: booted" "$BOOT"
ok $? "the guest boots again"
ek2=$(sed -n 's/.*vmrun-testguest: tpm tpm0 ek \([0-9a-f]*\).*/\1/p' "$T/b.out")
is "$ek2" "$ek1" "the TPM keeps its endorsement key across runs"
is "$(stat -c %i "$vars")" "$ino1" "the UEFI variables are the same file"
s=$(helper_pid)
kill -KILL "$s"
run_wait_exit b 120
is "$RC" 5 "swtpm killed: the guest is stopped, exit status 5"
grep -q "guest 'u': swtpm (pid $s) killed by SIGKILL: the guest cannot run without it" "$T/b.err"
ok $? "and the supervisor says why"
grep -q "vmrun-testguest: powering off" "$T/b.out"
ok $? "the guest got the power button"
is "$(json_get "$STATE/u/status.json" 'j["exit_status"]')" 5 "status.json records exit status 5"
torn_down u
ok $? "torn down"

done_testing
