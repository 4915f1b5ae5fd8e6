#!/usr/bin/env bash
# QEMU's private mount namespace and cgroup (private_mounts, cgroup;
# docs/security.md) with the real QEMU under TCG and the test guest: QEMU's
# /dev is a read-only tmpfs holding only the nodes it needs, the images it
# only reads are read-only bind mounts, the guest boots; its cgroup leaf
# (in a fake cgroup v2 tree: this suite must not depend on, or change, the
# machine's cgroups) has the limits while it runs and is gone after a stop,
# and a dead supervisor's is reclaimed by the next start.  Where the machine
# has cgroup v1, the qemu_user run uses its real v1 controllers.  Also as
# qemu_user, and the errors of an explicit `true` that cannot work.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash

why=""
[ "$(id -u)" -eq 0 ] || why="needs root (mount namespaces)"
[ -n "$why" ] || [ -f "$TESTGUEST/vmlinuz" ] || why="no test guest in $TESTGUEST (run make testguest)"
[ -n "$why" ] || command -v qemu-img >/dev/null || why="qemu-img is missing"
[ -n "$why" ] || unshare -m true 2>/dev/null || why="this process cannot make a mount namespace"
if [ -n "$why" ]; then
	skip "$why" "private mounts and cgroup suite"
	done_testing
	exit
fi
unset VMRUN_QEMU VMRUN_CGROUP_ROOT

# a fake cgroup v2 root with the controllers enabled for its children
CG=$T/cg
mkdir -p "$CG"
echo "cpuset cpu io memory hugetlb pids" >"$CG/cgroup.controllers"
echo "cpuset memory pids" >"$CG/cgroup.subtree_control"
printf '[vmrun]\nprivate_mounts = true\ncgroup = true\ncgroup_root = %s\n' "$CG" >"$T/on.conf"

qemu-img create -q -f qcow2 "$T/base.qcow2" 16M
truncate -s 1M "$T/ro.img" "$T/tools.iso"
cat >"$T/s.yaml" <<EOF
version: 1
guests:
  s:
    accel: tcg
    cpuset: "0"
    memory: 256M
    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
    append: console=ttyS0 quiet
    stop_timeout: 20
    disks:
      - {file: $T/ov.qcow2, backing: $T/base.qcow2}
      - {file: $T/ro.img, readonly: true}
      - {cdrom: $T/tools.iso}
EOF

# mount_opts PID PATH: the per-mount options of the topmost mount at PATH in PID's namespace
mount_opts() {
	awk -v p="$2" '$5 == p { o = $6 } END { print o }' "/proc/$1/mountinfo"
}
# mount_fs PID PATH: the file system type of the topmost mount at PATH
mount_fs() {
	awk -v p="$2" '$5 == p { for (i = 7; $i != "-"; i++); t = $(i + 1) } END { print t }' \
		"/proc/$1/mountinfo"
}
# ns_users INODE-LINK: how many processes are in that mount namespace
ns_users() {
	local n=0 f
	for f in /proc/[0-9]*/ns/mnt; do
		[ "$(readlink "$f" 2>/dev/null)" = "$1" ] && n=$((n + 1))
	done
	echo "$n"
}

start() { # start NAME CONF
	: >"$T/$1.out"
	: >"$T/$1.err"
	"$VMRUN" --config "$2" --state-dir "$STATE" run "$T/s.yaml" s >>"$T/$1.out" 2>>"$T/$1.err" &
	RUN_PID[$1]=$!
}

# --- a guest with both: the private /dev, read-only images, the cgroup's limits
start a "$T/on.conf"
run_wait_ready a s 60
ok $? "guest with private_mounts and cgroup reaches ready" || sed 's/^/# /' "$T/a.err"
q=$(qemu_pid s)
is "$(mount_fs "$q" /dev) $(mount_opts "$q" /dev)" "tmpfs ro,nosuid,noexec,relatime" \
	"/proc/QEMU/mountinfo: /dev is a read-only tmpfs, nosuid, noexec"
is "$(stat -c '%a %U' "/proc/$q/root/dev")" "755 root" "the private /dev is 0755 root"
is "$(ls "/proc/$q/root/dev" | tr '\n' ' ')" "full null random urandom zero " \
	"QEMU's /dev holds only null, zero, full, random, urandom (TCG: no kvm)"
is "$(stat -c '%t:%T %a' "/proc/$q/root/dev/null")" "$(stat -c '%t:%T %a' /dev/null)" \
	"its null is the host's node (same device, same mode)"
for f in "$T/base.qcow2" "$T/ro.img" "$T/tools.iso" "$TESTGUEST/vmlinuz" "$TESTGUEST/initrd.img"; do
	# mountinfo names the mount point by its real path (TESTGUEST may be a symlink: build/asan)
	is "$(mount_opts "$q" "$(readlink -f "$f")" | cut -d, -f1)" ro "read-only bind mount in QEMU's namespace: ${f##*/}"
done
is "$(mount_opts "$q" "$T/ov.qcow2")" "" "the guest's overlay is not bound (QEMU writes it)"
is "$(mount_opts "${RUN_PID[a]}" "$T/base.qcow2")$(mount_fs "${RUN_PID[a]}" /dev)" \
	"$(mount_fs $$ /dev)" "the supervisor's namespace is untouched"
run_wait_grep "$T/a.out" "vmrun-testguest: booted" 60
ok $? "the guest boots"
grep -q "vmrun-testguest: disk vda 16777216" "$T/a.out"
ok $? "QEMU opened the overlay on its read-only base"
is "$(cat "$CG/vmrun/s/cpuset.cpus") $(cat "$CG/vmrun/s/memory.max") $(cat "$CG/vmrun/s/pids.max")" \
	"0 805306368 260" "cgroup leaf: cpuset.cpus 0, memory.max 256M + 512M, pids.max 260"
is "$(cat "$CG/vmrun/s/cgroup.procs")" 0 "QEMU's child wrote itself into cgroup.procs"
is "$(cat "$CG/vmrun/cgroup.subtree_control")" "+cpuset +memory +pids" \
	"the controllers enabled for the leaves"
grep -q "\"type\":\"cgroup\",\"path\":\"$CG/vmrun/s\"" "$STATE/s/journal.jsonl"
ok $? "the journal records the leaf"
mns=$(readlink "/proc/$q/ns/mnt")
# the namespace dies with QEMU when QEMU is its only process and nothing pins
# it (counted now: once freed, its inode number may go to another test's)
is "$(ns_users "$mns")" 1 "QEMU is the only process in its mount namespace"
kill -TERM "${RUN_PID[a]}"
run_wait_exit a 40
is "$RC" 0 "SIGTERM: the guest powers off, exit 0"
torn_down s
ok $? "torn down"
ok "$([ ! -e "$CG/vmrun" ] && echo 0 || echo 1)" "no cgroup directory left"
pid_gone "$q" 2
ok $? "QEMU is gone"
! grep -qF "$mns" /proc/self/mountinfo
ok $? "its mount namespace is gone with it (no nsfs mount pins it)"

# --- a dead supervisor's cgroup is reclaimed by the next start
start b "$T/on.conf"
run_wait_ready b s 60
ok $? "second run ready"
q=$(qemu_pid s)
kill -KILL "${RUN_PID[b]}"
run_wait_exit b 10
pid_gone "$q" 5
ok $? "supervisor SIGKILLed: QEMU dies with it"
ok "$([ -d "$CG/vmrun/s" ] && echo 0 || echo 1)" "its cgroup leaf is left behind"
start c "$T/on.conf"
run_wait_ready c s 60
ok $? "the next start is ready"
grep -q "guest 's': undid 1 host change left by a previous run" "$T/c.err"
ok $? "and undid the dead run's cgroup" || sed 's/^/# /' "$T/c.err"
is "$(grep -c '"type":"cgroup"' "$STATE/s/journal.jsonl")" 1 "one cgroup entry: its own"
# the power button works once the guest's acpid runs
run_wait_grep "$T/c.out" "vmrun-testguest: booted" 60
kill -TERM "${RUN_PID[c]}"
run_wait_exit c 40
is "$RC" 0 "stopped"
ok "$([ ! -e "$CG/vmrun" ] && echo 0 || echo 1)" "no cgroup directory left"

# --- killed between the leaf and QEMU (fault point `isolated`, a test build): `down` removes it
FVMRUN=$top/${BUILD:-build}/fault/vmrun
if [ -x "$FVMRUN" ]; then
	VMRUN_FAULT=isolated=die "$FVMRUN" --config "$T/on.conf" --state-dir "$STATE" run "$T/s.yaml" s \
		>/dev/null 2>"$T/f.err"
	is "$?" 137 "supervisor killed at 'isolated'"
	ok "$([ -d "$CG/vmrun/s" ] && echo 0 || echo 1)" "the leaf is there, without QEMU"
	"$VMRUN" --config "$T/on.conf" --state-dir "$STATE" down "$T/s.yaml" >/dev/null 2>"$T/fd.err"
	is "$?" 0 "down for the dead run" || sed 's/^/# /' "$T/fd.err"
	ok "$([ ! -e "$CG/vmrun" ] && echo 0 || echo 1)" "down removed its cgroup leaf"
	torn_down s
	ok $? "and its journal is empty"
else
	skip "no $FVMRUN (make faults)" "killed at the fault point 'isolated'"
fi

# --- QEMU as qemu_user in its private namespace, in the machine's real
# cgroups where they are v1 (this suite's own: under the supervisor's
# cgroup of each controller, removed at the end, whatever happens)
REAL_CG=() NEW_PARENTS=()
real_cg_cleanup() {
	local d
	[ "$BASHPID" = "$$" ] || return 0
	run_cleanup
	for d in "${REAL_CG[@]}"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
	# the vmrun/ directories this suite made (empty: rmdir refuses others)
	for d in "${NEW_PARENTS[@]}"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
	return 0
}
trap real_cg_cleanup EXIT
v1=0
[ ! -e /sys/fs/cgroup/cgroup.controllers ] && [ -e /sys/fs/cgroup/cpuset/cgroup.procs ] &&
	[ -e /sys/fs/cgroup/memory/cgroup.procs ] && [ -e /sys/fs/cgroup/pids/cgroup.procs ] &&
	[ -w /sys/fs/cgroup/memory ] && v1=1
if [ "$v1" = 1 ]; then
	for c in cpuset memory pids; do
		own=$(awk -F: -v c="$c" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup)
		[ "$own" = / ] && own=
		[ -d "/sys/fs/cgroup/$c$own/vmrun" ] || NEW_PARENTS+=("/sys/fs/cgroup/$c$own/vmrun")
	done
fi
if id nobody >/dev/null 2>&1; then
	run_stage "$TESTGUEST/vmlinuz" "$TESTGUEST/initrd.img" >/dev/null
	sed -e "s|$TESTGUEST/|$T/stage/|" -e '/disks:/,$d' "$T/s.yaml" >"$T/u.yaml"
	if [ "$v1" = 1 ]; then
		printf '[vmrun]\nprivate_mounts = true\ncgroup = true\nqemu_user = nobody\n' >"$T/u.conf"
	else
		printf 'qemu_user = nobody\n' | cat "$T/on.conf" - >"$T/u.conf"
	fi
	: >"$T/u.out"
	: >"$T/u.err"
	"$VMRUN" --config "$T/u.conf" --state-dir "$STATE" run "$T/u.yaml" s >>"$T/u.out" 2>>"$T/u.err" &
	RUN_PID[u]=$!
	run_wait_ready u s 60
	ok $? "qemu_user = nobody: ready" || sed 's/^/# /' "$T/u.err"
	q=$(qemu_pid s)
	is "$(awk '/^Uid:/ { print $2 }' "/proc/$q/status") $(mount_fs "$q" /dev)" "65534 tmpfs" \
		"QEMU as nobody with the private /dev"
	is "$(mount_opts "$q" "$T/stage/vmlinuz" | cut -d, -f1)" ro "and its kernel read-only"
	if [ "$v1" = 1 ]; then
		for c in cpuset memory pids; do
			p=$(awk -F: -v c="$c" '$2 == c { print $3 }' "/proc/$q/cgroup")
			REAL_CG+=("/sys/fs/cgroup/$c$p")
			case $p in */vmrun/s) r=0 ;; *) r=1 ;; esac
			ok $r "cgroup v1: QEMU in its $c leaf ($p)"
		done
		is "$(cat "${REAL_CG[0]}/cpuset.cpus") $(cat "${REAL_CG[0]}/cpuset.mems" | tr -d '\n')" \
			"0 $(cat "${REAL_CG[0]%/vmrun/s}/cpuset.mems")" "cgroup v1: cpuset.cpus 0, cpuset.mems the parent's"
		is "$(cat "${REAL_CG[1]}/memory.limit_in_bytes") $(cat "${REAL_CG[2]}/pids.max")" \
			"805306368 260" "cgroup v1: memory.limit_in_bytes 768M, pids.max 260"
	fi
	run_wait_grep "$T/u.out" "vmrun-testguest: booted" 60
	ok $? "the guest boots"
	kill -TERM "${RUN_PID[u]}"
	run_wait_exit u 40
	is "$RC" 0 "stopped"
	ok "$([ ! -e "$CG/vmrun" ] && echo 0 || echo 1)" "no cgroup directory left"
	if [ "$v1" = 1 ]; then
		left=0
		for d in "${REAL_CG[@]}"; do
			[ -e "$d" ] && left=1
			# vmrun/ too, unless another guest's leaf is in it or its parent is a
			# 0555 hierarchy top (the supervisor keeps no CAP_DAC_OVERRIDE for it)
			[ -d "${d%/*}" ] && [ -z "$(find "${d%/*}" -mindepth 1 -maxdepth 1 -type d)" ] &&
				[ "$(stat -c %a "${d%/vmrun/s}")" != 555 ] && left=1
		done
		ok $left "cgroup v1: every leaf removed, and vmrun/ where the supervisor may"
		grep -q "^vmrun: guest 's': the supervisor keeps only CAP_KILL$" "$T/u.err"
		ok $? "the supervisor kept only CAP_KILL (for nobody's QEMU): the cgroup's undo needs nothing more" ||
			grep 'keeps' "$T/u.err" | sed 's/^/# /'
	fi
else
	skip "no user 'nobody'" "QEMU as qemu_user in its private namespace"
fi

# --- an explicit true that cannot work fails before any host change
printf '[vmrun]\ncgroup = true\ncgroup_root = %s\n' "$T/nocg" >"$T/v1.conf"
mkdir -p "$T/nocg"
"$VMRUN" --config "$T/v1.conf" --state-dir "$T/state2" run "$T/s.yaml" s >/dev/null 2>"$T/v1.err"
is "$?" 1 "cgroup = true without cgroup v2 or v1: exit 1"
grep -qx "vmrun: error: guest 's': cgroup = true: no cgroup v2 hierarchy at '$T/nocg', and no cgroup v1 cpuset controller at '$T/nocg/cpuset'" "$T/v1.err"
ok $? "the error says why" || sed 's/^/# /' "$T/v1.err"
ok "$([ ! -e "$T/state2/s" ] && [ -z "$(ls "$T/nocg")" ] && echo 0 || echo 1)" "nothing was made"
printf '[vmrun]\nprivate_mounts = true\n' >"$T/nocap.conf"
capsh --drop=cap_sys_admin -- -c "exec '$VMRUN' --config '$T/nocap.conf' --state-dir '$T/state2' run '$T/s.yaml' s" \
	>/dev/null 2>"$T/nocap.err"
is "$?" 1 "private_mounts = true without CAP_SYS_ADMIN: exit 1"
grep -qx "vmrun: error: guest 's': private_mounts = true: private mounts: unshare(CLONE_NEWNS): Operation not permitted" "$T/nocap.err" &&
	grep -q "^vmrun: hint: a mount namespace needs CAP_SYS_ADMIN" "$T/nocap.err"
ok $? "the error names the step, the hint the capability" || sed 's/^/# /' "$T/nocap.err"
ok "$([ ! -e "$T/state2/s" ] && echo 0 || echo 1)" "nothing was made"
printf '[vmrun]\nprivate_mounts = auto\ncgroup = auto\n' >"$T/auto.conf"
if [ -e /.dockerenv ] || [ -e /run/.containerenv ] || [ -n "${container:-}" ]; then
	# in a container, auto means off, silently; the stop comes from a bad kernel path
	sed 's|initrd: .*|initrd: /nonexistent/initrd.img|' "$T/s.yaml" >"$T/bad.yaml"
	"$VMRUN" --config "$T/auto.conf" --state-dir "$T/state2" run "$T/bad.yaml" s >/dev/null 2>"$T/auto.err"
	is "$(grep -c "private_mounts\|cgroup" "$T/auto.err")" 0 "in a container, auto says nothing"
else
	skip "not in a container" "auto in a container"
fi
done_testing
