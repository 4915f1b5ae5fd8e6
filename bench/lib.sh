# shellcheck shell=bash
# What the guest benchmarks share (startup.sh, startcpu.sh, stoplat.sh):
# source it, then call bench_init.

# bench_init NAME: set top (and cd there), build, vmrun, guest and tmp, a
# new directory on tmpfs (the state directory goes there, as /run/vmrun is
# on tmpfs on a normal host: status.json and the journal are fsynced, which
# tmpfs makes free); exit 1 when vmrun or the test guest is not built.
# The caller removes tmp (its EXIT trap).
# shellcheck disable=SC2034 # the variables are the caller's
bench_init() {
	local shm=/dev/shm

	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	cd "$top" || exit 1
	build=${BUILD:-build}
	vmrun=${VMRUN:-$top/$build/vmrun}
	guest=$top/$build/testguest
	[ -f "$guest/vmlinuz" ] || guest=$top/build/testguest
	if [ ! -x "$vmrun" ] || [ ! -f "$guest/vmlinuz" ]; then
		echo "bench: build first (make && make testguest)" >&2
		exit 1
	fi
	[ -d "$shm" ] || shm=/tmp
	tmp=$(mktemp -d "$shm/vmrt-$1.XXXXXX")
}

# bench_guest_yaml FILE [APPEND...]: a topology of one guest, s: the test
# guest under TCG, 2 vCPUs pinned to CPUs 0 and 1, 256 MiB, no NICs; APPEND
# adds to its kernel command line
bench_guest_yaml() {
	local file=$1

	shift
	cat >"$file" <<YAML
version: 1
guests:
  s:
    accel: tcg
    cpuset: "0-1"
    memory: 256M
    kernel: $guest/vmlinuz
    initrd: $guest/initrd.img
    append: console=ttyS0 quiet${*:+ $*}
YAML
}
