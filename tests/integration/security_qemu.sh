#!/usr/bin/env bash
# The real QEMU with the DEFAULT configuration (docs/security.md): it runs as
# the default qemu_user (the system user vmrun, or nobody where there is
# none) without capabilities, under NoNewPrivs and its own seccomp filter,
# holds exactly the fds the plan gives it (the files vmrun made come as fd
# sets, never by name) and its command line names nothing in the state or
# image directories.  Needs root and `make testguest`.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash

if [ "$(id -u)" -ne 0 ]; then
	skip "needs root (QEMU's privilege drop)" "QEMU's privileges by default"
	done_testing
	exit
fi
if [ ! -f "$TESTGUEST/vmlinuz" ] || [ ! -f "$TESTGUEST/initrd.img" ]; then
	skip "no test guest in $TESTGUEST (run make testguest)" "QEMU's privileges by default"
	done_testing
	exit
fi
if ! command -v qemu-img >/dev/null; then
	skip "qemu-img is missing" "QEMU's privileges by default"
	done_testing
	exit
fi
unset VMRUN_QEMU
user=vmrun
id -u vmrun >/dev/null 2>&1 || user=nobody
uid=$(id -u "$user")

# the kernel and initrd where any user can read them (the checkout may be private)
kdir=$(dirname "$(run_stage "$TESTGUEST/vmlinuz" "$TESTGUEST/initrd.img" | head -1)")
qemu-img create -q -f qcow2 "$T/base.qcow2" 16M
chmod 0644 "$T/base.qcow2"
# the default configuration; only where images go is the test's
printf '[vmrun]\nimage_dir = %s\n' "$T/images" >"$T/vmrun.conf"
cat >"$T/s.yaml" <<YAML
version: 1
guests:
  s:
    accel: tcg
    memory: 128M
    kernel: $kdir/vmlinuz
    initrd: $kdir/initrd.img
    append: console=ttyS0 quiet
    image: $T/base.qcow2
    cloud_init: true
    stop_timeout: 10
YAML
: >"$T/s.out"
: >"$T/s.err"
"$VMRUN" --config "$T/vmrun.conf" --state-dir "$STATE" run "$T/s.yaml" s >>"$T/s.out" 2>>"$T/s.err" &
RUN_PID[s]=$!
run_wait_ready s s 60
r=$?
ok $r "guest with the default configuration ready"
[ $r -ne 0 ] && sed 's/^/# /' "$T/s.err"
q=$(qemu_pid s)
st=/proc/$q/status

# --- who QEMU is
is "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "$st")" "$uid $uid $uid $uid" \
	"QEMU runs as $user (real, effective, saved, fs uid)"
is "$(awk '/^Gid:/ { print $2 == $3 && $3 == $4 && $4 == $5 && $2 != 0 }' "$st")" 1 \
	"and its group, not root's"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
	is "$(awk -v c="$c:" '$1 == c { print $2 }' "$st")" 0000000000000000 "$c is empty"
done
is "$(awk '/^NoNewPrivs:/ { print $2 }' "$st")" 1 "NoNewPrivs 1"
is "$(awk '/^Seccomp:/ { print $2 }' "$st")" 2 "Seccomp 2 (QEMU's -sandbox)"
if [ "$user" = nobody ]; then
	grep -q "warning: guest 's': QEMU runs as 'nobody': there is no system user 'vmrun'" "$T/s.err"
	ok $? "one warning says why QEMU runs as nobody"
else
	! grep -q "no system user 'vmrun'" "$T/s.err"
	ok $? "no warning with a vmrun user"
fi

# --- what QEMU holds: exactly the plan's fds, and QEMU's own anonymous ones
fds=$(for f in /proc/"$q"/fd/*; do readlink "$f"; done)
# named files: stdin, stdout and stderr, the overlay and the seed (each an
# fd of its fd set and QEMU's dup of it for the block node), and the base,
# which QEMU opens itself by the name in the overlay's header
want=$(printf '%s\n' /dev/null "$T/s.err" "$T/s.err" \
	"$T/images/s/root.qcow2" "$T/images/s/root.qcow2" "$STATE/s/seed.iso" "$STATE/s/seed.iso" \
	"$T/base.qcow2" | sort)
is "$(grep -v '^socket:\|^anon_inode:\|^pipe:' <<<"$fds" | sort)" "$want" \
	"QEMU's files: std fds, the overlay and seed from their fd sets, the base"
# sockets: QMP and console, each the listening socket vmrun bound and the
# connection QEMU accepted from the supervisor
is "$(grep -c '^socket:' <<<"$fds")" 4 "four sockets: QMP and console, listening and accepted"
is "$(grep -v '^socket:\|^/' <<<"$fds" | sed 's/^anon_inode:\[\?\([a-z_]*\)\]\?$/\1/' | sort -u | tr '\n' ' ')" \
	"eventfd signalfd " "the rest is QEMU's own: eventfds and its signalfd"
diag "QEMU's fds: $(tr '\n' ' ' <<<"$fds")"

# --- QEMU's command line: nothing of the state or image directories by name
cmdline=$(tr '\0' '\n' <"/proc/$q/cmdline")
! grep -qF -e "$STATE" -e "$T/images" <<<"$cmdline"
ok $? "no path into the state or image directory on QEMU's command line"
is "$(grep -c '"filename":"/dev/fdset/[0-9]*"' <<<"$cmdline")" 2 "the overlay and the seed are fd sets"

run_wait_grep "$T/s.out" "vmrun-testguest: booted" 60
ok $? "the guest boots"
grep -q "vmrun-testguest: seed /dev/sr0" "$T/s.out"
ok $? "it reads its seed"
grep -q "vmrun-testguest: disk vda 16777216" "$T/s.out"
ok $? "and its root overlay"
kill -TERM "${RUN_PID[s]}"
run_wait_exit s 30
is "$RC" 0 "the guest powers off, exit 0"
torn_down s
ok $? "torn down"
done_testing
