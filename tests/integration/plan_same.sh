#!/usr/bin/env bash
# One plan builder (docs/architecture.md): a real guest started by
# `vmrun run` -- two macvtap NICs in a network namespace this test creates,
# a root overlay on `image:`, a qcow2 overlay disk, a raw disk, a cdrom, a
# cloud-init seed, an rng -- executes exactly the command line `vmrun args`
# prints for it: /proc/QEMU/cmdline equals `vmrun args`, byte for byte,
# fd numbers and the seed's path included, and /proc/QEMU/environ equals
# the environment `vmrun args --env` prints.  Needs `make testguest`,
# qemu-img and root.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash

ns=vmrt-same-$$
same_cleanup() {
	run_cleanup
	ip netns del "$ns" 2>/dev/null
}
trap same_cleanup EXIT

skip_all() {
	skip "$1" "the command line run executes is the one args prints"
	done_testing
	exit 0
}
[ -f "$TESTGUEST/vmlinuz" ] || skip_all "no test guest in $TESTGUEST (run make testguest)"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (a network namespace, macvtap)"
command -v qemu-img >/dev/null || skip_all "qemu-img is not installed (make deps)"
why=$("$VMRUN" probe macvtap) || skip_all "${why#macvtap: no: }"
unset VMRUN_QEMU

ip netns add "$ns" &&
	ip -n "$ns" link add v0 type veth peer name v1 &&
	ip -n "$ns" link set v0 up && ip -n "$ns" link set v1 up
ok $? "namespace $ns with a veth pair"

# the files the guest names, and a configuration whose image_dir is ours
qemu-img create -q -f qcow2 "$T/base.qcow2" 64M &&
	qemu-img create -q -f raw "$T/data.raw" 8M &&
	chmod 0666 "$T/data.raw" && # a file: disk QEMU's user (not root) writes
	cp "$TESTGUEST/initrd.img" "$T/cd.iso"
ok $? "base image, raw disk and cdrom file"
printf '[vmrun]\nimage_dir = %s/images\n' "$T" >"$T/vmrun.conf"
cat >"$T/same.yaml" <<EOF
version: 1
guests:
  s:
    accel: tcg
    memory: 256M
    cpuset: "0"
    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
    append: console=ttyS0 quiet
    image: base.qcow2
    rng: true
    disks:
      - {file: over.qcow2, backing: base.qcow2, bus: scsi}
      - {file: data.raw, bus: nvme, cache: none, aio: native}
      - {cdrom: cd.iso}
    nics:
      - {name: vmctrl, macvtap: v0, ip: 10.78.0.2/24, mac: "52:54:00:78:00:02"}
      - {name: n6, macvtap: v1, queues: 2, mac: "52:54:00:78:00:06"}
EOF

v() { ip netns exec "$ns" "$VMRUN" --config "$T/vmrun.conf" --state-dir "$STATE" "$@"; }
: >"$T/s.out"
: >"$T/s.err"
# not through v(): a function in the background is a subshell, and $! would be
# its pid, not the supervisor's (run_cleanup's SIGKILL would leave vmrun running)
ip netns exec "$ns" "$VMRUN" --config "$T/vmrun.conf" --state-dir "$STATE" \
	run "$T/same.yaml" s >>"$T/s.out" 2>>"$T/s.err" &
RUN_PID[s]=$!
run_wait_ready s s 60
r=$?
ok $r "the guest runs"
[ $r -ne 0 ] && sed 's/^/# /' "$T/s.err"
qpid=$(json_get "$STATE/s/status.json" 'j["qemu_pid"]' 2>/dev/null)
if [ -n "$qpid" ] && [ -r "/proc/$qpid/cmdline" ]; then
	tr '\0' '\n' <"/proc/$qpid/cmdline" >"$T/cmdline"
	tr '\0' '\n' <"/proc/$qpid/environ" >"$T/environ"
	v args "$T/same.yaml" s >"$T/args" 2>"$T/args.err"
	is "$?" 0 "vmrun args prints the guest's command line"
	cmp -s "$T/cmdline" "$T/args"
	ok $? "/proc/QEMU/cmdline is what vmrun args prints, byte for byte"
	diff "$T/args" "$T/cmdline" | sed 's/^/# /' | head -20
	grep -q "^{\"type\":\"tap\",\"id\":\"net-n6\",\"fds\":\"4:5\"" "$T/cmdline"
	ok $? "with the fd numbers run passes (the second NIC's two queues on fds 4 and 5)"
	# the seed in the state directory reaches QEMU as an fd set: its number is
	# the one after QMP's and the console's, and no path of the state directory shows
	grep -q '^fd=[0-9]*,set=[0-9]*,opaque=seed$' "$T/cmdline" &&
		grep -q '^{"driver":"file","filename":"/dev/fdset/[0-9]*","node-name":"seed-file","read-only":true}$' "$T/cmdline" &&
		! grep -qF "$STATE/" "$T/cmdline"
	ok $? "and the seed of the state directory as an fd set, with no state path"
	v args --env "$T/same.yaml" s | grep -v '^[^=]*$' | grep -E '^[A-Z_]+=' >"$T/env"
	cmp -s "$T/env" "$T/environ"
	ok $? "/proc/QEMU/environ is the environment vmrun args --env prints"
	diff "$T/env" "$T/environ" | sed 's/^/# /' | head -10
else
	ok 1 "QEMU's pid in status.json"
fi
kill -TERM "${RUN_PID[s]}"
run_wait_exit s 30
ok $? "the supervisor stops"
done_testing
