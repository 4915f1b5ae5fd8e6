#!/usr/bin/env bash
# `memory: {size, hugepages: 2M, numa_node: 0, prealloc: true}` with a real
# guest: HugePages_Free drops by the guest's size while it runs and comes
# back when it stops; a guest that needs more hugepages than are free is
# refused before anything is created (exit 2, the shortfall named, no
# state directory, no QEMU).  It uses 64 free 2 MiB pages the machine
# already has.  nr_hugepages is machine-wide, so the test changes it only
# when asked (VMRUN_TEST_RESERVE_HUGEPAGES=1, as .ci/run does): it then adds
# the pages it needs and puts back exactly the previous value at its end.
# Needs `make testguest` and root.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash

hp=/sys/kernel/mm/hugepages/hugepages-2048kB
orig=
huge_cleanup() {
	run_cleanup
	if [ -n "$orig" ]; then
		echo "$orig" >"$hp/nr_hugepages" 2>/dev/null
	fi
}
trap huge_cleanup EXIT

skip_all() {
	skip "$1" "a guest in 2 MiB hugepages"
	done_testing
	exit 0
}
[ -f "$TESTGUEST/vmlinuz" ] || skip_all "no test guest in $TESTGUEST (run make testguest)"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (nr_hugepages)"
[ -w "$hp/nr_hugepages" ] || skip_all "no writable $hp/nr_hugepages (no 2 MiB hugepages here)"
[ -d /sys/devices/system/node/node0 ] || skip_all "no NUMA node 0 in sysfs"
unset VMRUN_QEMU

pages=64 # the guest's 128 MiB
free_pages() { cat "$hp/free_hugepages"; }
if [ "$(free_pages)" -ge $pages ]; then
	ok 0 "$(free_pages) free 2 MiB hugepages, $pages needed"
elif [ "${VMRUN_TEST_RESERVE_HUGEPAGES:-}" != 1 ]; then
	skip_all "$(free_pages) free 2 MiB hugepages, $pages needed (reserve them: echo $pages >$hp/nr_hugepages, or VMRUN_TEST_RESERVE_HUGEPAGES=1 lets the test add and remove them)"
else
	orig=$(cat "$hp/nr_hugepages")
	if ! echo $((orig + pages)) >"$hp/nr_hugepages" 2>/dev/null ||
		[ "$(cat "$hp/nr_hugepages")" -ne $((orig + pages)) ]; then
		echo "$orig" >"$hp/nr_hugepages" 2>/dev/null
		[ "$(cat "$hp/nr_hugepages")" -eq "$orig" ] || diag "nr_hugepages is now $(cat "$hp/nr_hugepages"), was $orig"
		orig=
		skip_all "the kernel did not give $pages more 2 MiB hugepages (memory too fragmented?)"
	fi
	ok 0 "nr_hugepages $orig -> $((orig + pages)) for the test"
fi

guest() { # NAME SIZE
	cat >"$T/$1.yaml" <<EOF
version: 1
guests:
  $1:
    accel: tcg
    memory: {size: $2, hugepages: 2M, numa_node: 0, prealloc: true}
    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
    append: console=ttyS0 quiet
EOF
}

# --- too few pages: refused before anything is created
guest big "$(((pages + $(free_pages)) * 2 + 2))M"
"$VMRUN" --state-dir "$STATE" run "$T/big.yaml" big >"$T/big.out" 2>"$T/big.err"
is $? 2 "a guest needing more hugepages than are free: exit 2"
grep -q "hugepages needed, [0-9]* free on the host: [0-9]* short" "$T/big.err"
ok $? "the error names the shortfall"
sed 's/^/# /' "$T/big.err"
[ ! -e "$STATE/big" ]
ok $? "nothing created (no state directory)"

# --- the guest runs in hugepages
before=$(free_pages)
guest h 128M
run_start h "$T/h.yaml" h
run_wait_ready h h 90
r=$?
ok $r "the guest runs in 2 MiB hugepages"
[ $r -ne 0 ] && sed 's/^/# /' "$T/h.err"
during=$(free_pages)
is "$((before - during))" "$pages" "HugePages_Free dropped by the guest's 128 MiB ($before -> $during)"
q=$(qemu_pid h 2>/dev/null)
if [ -n "$q" ]; then
	grep -q "memory-backend-memfd" "/proc/$q/cmdline"
	ok $? "QEMU's RAM is a memfd backend"
	# a 128 MiB mapping of 2048 kB pages: the guest's RAM
	awk '/^[0-9a-f]+-[0-9a-f]+ / { size = 0 } /^Size:/ { size = $2 }
		/^KernelPageSize:/ && $2 == 2048 && size == 131072 { n++ } END { print n + 0 }' \
		"/proc/$q/smaps" >"$T/maps"
	is "$(cat "$T/maps")" 1 "QEMU maps the guest's 128 MiB in 2048 kB pages"
fi
# the power button needs the guest's acpid
run_wait_grep "$STATE/h/console.log" "vmrun-testguest: booted" 90
ok $? "the guest booted"
kb=$(sed -n 's/.*vmrun-testguest: memory \([0-9]*\) kB.*/\1/p' "$STATE/h/console.log" | head -n 1)
ok "$([ "${kb:-0}" -gt $((64 * 1024)) ] && [ "${kb:-0}" -le $((128 * 1024)) ] && echo 0 || echo 1)" \
	"the guest runs in its 128 MiB (MemTotal ${kb:-?} kB: more than 64 MiB, at most 128)"
kill -TERM "${RUN_PID[h]}"
run_wait_exit h 60
is "$RC" 0 "the guest stops"
is "$(free_pages)" "$before" "HugePages_Free back to $before"

echo "$orig" >"$hp/nr_hugepages"
is "$(cat "$hp/nr_hugepages")" "$orig" "nr_hugepages restored to $orig"
orig=
done_testing
