#!/usr/bin/env bash
# Secrets and sockets (issue 16): a guest with a cloud-init password and a
# VNC password (real QEMU under TCG, no kernel: SeaBIOS waits), QEMU as
# nobody when we are root.  While it runs:
#   - neither secret is in /proc/PID/cmdline or environ of any process on
#     the machine (the supervisor, QEMU, anything they started), in any file
#     of the guest's state directory (status.json, plan.json, events.jsonl,
#     console.log, the seed ISO, the journal...), in the output of `vmrun ps`,
#     `inspect`, `health`, `stats`, `vnc`, or in the supervisor's messages;
#   - the seed carries the cloud-init password as its SHA-512 crypt;
#   - every socket in the state directory (control, console, qmp, serial,
#     vnc, agent) is 0600 and the supervisor's;
#   - vnc.sock hands its clients to QEMU, which asks them for the password
#     (set over QMP, not on a command line).
# After teardown the same holds for what is left.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash
unset VMRUN_QEMU VMRUN_SYSFS_ROOT VMRUN_DEV_ROOT
READY=120

if ! command -v qemu-system-x86_64 >/dev/null; then
	skip "qemu-system-x86_64 is not installed" "secrets of a running guest"
	done_testing
	exit 0
fi
user=
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	user=nobody
	chmod 0711 "$T"
fi
# secrets no other process on the machine could hold by chance
cpw="ci-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
vpw="v$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$vpw" >"$T/vnc.pw"
chmod 0600 "$T/vnc.pw"
printf '[vmrun]\nimage_dir = %s\n%s' "$T/images" "${user:+qemu_user = $user
}" >"$T/v.conf"
cat >"$T/s.yaml" <<EOF
version: 1
guests:
  s:
    accel: tcg
    machine: pc
    memory: 64M
    stop_timeout: 1
    cloud_init: {password: "$cpw", ssh_authorized_keys: []}
    vnc: {listen: unix, password_file: $T/vnc.pw}
    agent: true
EOF
: >"$T/s.out"
: >"$T/s.err"
"$VMRUN" --config "$T/v.conf" --state-dir "$STATE" run "$T/s.yaml" s >>"$T/s.out" 2>>"$T/s.err" &
RUN_PID[s]=$!
run_wait_ready s s "$READY"
r=$?
ok $r "guest with a cloud-init password and a VNC password is running"
[ $r -ne 0 ] && sed 's/^/# /' "$T/s.err"

# leaks FILE...: print the files holding either secret
leaks() {
	grep -l -a -F -e "$cpw" -e "$vpw" "$@" 2>/dev/null
}

sup=${RUN_PID[s]}
qemu=$(qemu_pid s)
ok "$([ -n "$qemu" ] && [ -d "/proc/$qemu" ] && echo 0 || echo 1)" "QEMU runs (pid $qemu)"
# every process: the guest's and whatever they started
found=$(for p in /proc/[0-9]*; do
	leaks "$p/cmdline" "$p/environ" >/dev/null && echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" | cut -c1-80)"
done)
is "$found" "" "no process has a secret in its command line or environment"
for p in "$sup" "$qemu"; do
	[ -r "/proc/$p/cmdline" ] && ! leaks "/proc/$p/cmdline" "/proc/$p/environ" >/dev/null
	ok $? "pid $p ($(tr '\0' ' ' <"/proc/$p/cmdline" | cut -d' ' -f1-2)): checked, clean"
done

diag "QEMU runs as $(ps -o user= -p "$qemu")"
mapfile -t files < <(find "$STATE/s" -type f)
diag "state files: $(printf '%s ' "${files[@]#"$STATE/s/"}")"
for f in status.json plan.json events.jsonl seed.iso; do
	[ -f "$STATE/s/$f" ]
	ok $? "$f exists (so checking it means something)"
done
is "$(leaks "${files[@]}")" "" "no file of the state directory holds a secret"
python3 - "$STATE/s/seed.iso" "$cpw" <<'EOF' >"$T/hash.txt"
import re, sys, warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt
data = open(sys.argv[1], "rb").read().decode("latin-1")
h = re.search(r"hashed_passwd: (\$6\$[^\s]+)", data)
print("ok" if h and crypt.crypt(sys.argv[2], h.group(1)) == h.group(1) else "no hash")
EOF
is "$(cat "$T/hash.txt")" ok "the seed has the cloud-init password's SHA-512 crypt"

socks=$(find "$STATE/s" -type s | sort)
for sk in control.sock console.sock qmp.sock serial.sock vnc.sock agent.sock; do
	echo "$socks" | grep -qx "$STATE/s/$sk"
	ok $? "$sk exists"
done
bad=$(for sk in $socks; do
	m=$(stat -c '%a %u' "$sk")
	[ "$m" = "600 $(id -u)" ] || echo "$sk: $m"
done)
is "$bad" "" "every socket in the state directory is 0600 and the supervisor's ($(echo "$socks" | grep -c .))"

for v in "ps" "inspect s" "health s" "stats s" "vnc s" "vnc --json s"; do
	# shellcheck disable=SC2086 # the verb and its arguments
	"$VMRUN" --config "$T/v.conf" --state-dir "$STATE" $v >"$T/verb.out" 2>&1
	r=$?
	ok "$([ $r -eq 0 ] && [ -s "$T/verb.out" ] && ! leaks "$T/verb.out" >/dev/null && echo 0 || echo 1)" \
		"vmrun $v: exit 0, no secret in its output"
done
grep -qx "vnc+unix://$STATE/s/vnc.sock" <("$VMRUN" --state-dir "$STATE" vnc s) &&
	"$VMRUN" --state-dir "$STATE" vnc s | grep -q "auth: VNC password"
ok $? "vmrun vnc: the supervisor's socket, VNC password authentication"
# RFB 3.8: the server's version, ours, then the security types: [2] is VNC authentication
sec=$(python3 - "$STATE/s/vnc.sock" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
assert s.recv(12) == b"RFB 003.008\n"
s.sendall(b"RFB 003.008\n")
n = s.recv(1)[0]
print(list(s.recv(n)))
EOF
)
is "$sec" "[2]" "a client of vnc.sock reaches QEMU, which asks for the VNC password"

kill -TERM "$sup"
run_wait_exit s 60
torn_down s
ok $? "torn down"
[ ! -e "$STATE/s/vnc.sock" ]
ok $? "vnc.sock is removed"
mapfile -t files < <(find "$STATE/s" -type f)
is "$(leaks "$T/s.out" "$T/s.err" "${files[@]}")" "" \
	"no secret in the supervisor's messages nor in what the state directory keeps"
done_testing
