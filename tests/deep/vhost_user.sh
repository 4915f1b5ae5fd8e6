#!/usr/bin/env bash
# vhost-user NICs with a real backend: dpdk-testpmd (no hugepages, as
# nobody, io forwarding between two vhost-user ports) and two test guests
# started by `vmrun run`, one a client of testpmd's socket (mode client,
# the default), the other listening for testpmd (mode server).  The guests
# ping each other through testpmd, which proves the shared guest memory
# (a memfd with share=on) and the TCG workaround ("vectors": 0).  A client
# guest whose backend socket does not exist is refused with exit 2 before
# anything is created.  Needs `make testguest`, dpdk-testpmd (Debian's
# dpdk-dev) and root (setpriv to nobody).  In `make check-deep`, not `make
# check`: about 45 s, with testpmd busy-polling one of the two cores.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash

tp=
vu_cleanup() {
	if [ -n "$tp" ]; then
		kill -INT "$tp" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$tp" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$tp" 2>/dev/null
	fi
	run_cleanup
}
trap vu_cleanup EXIT

skip_all() {
	skip "$1" "two guests ping each other through a vhost-user backend"
	done_testing
	exit 0
}
[ -f "$TESTGUEST/vmlinuz" ] || skip_all "no test guest in $TESTGUEST (run make testguest)"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (setpriv to run testpmd as nobody)"
command -v dpdk-testpmd >/dev/null || skip_all "dpdk-testpmd is not installed (Debian's dpdk-dev; make deps)"
[ "$(nproc)" -ge 2 ] || skip_all "testpmd needs 2 CPUs (a main and a forwarding core)"
unset VMRUN_QEMU

# testpmd's sockets and runtime files in a directory nobody owns, which
# QEMU (root without capabilities after vmrun's privilege drop) may write
# too; testpmd's sockets get mode 0777 from its umask
chmod a+x "$T"
mkdir -p "$T/vu" && chown 65534:65534 "$T/vu" && chmod 0777 "$T/vu"
mkfifo "$T/tp.in"
# testpmd ends at EOF on its stdin: hold the fifo open (read-write, no block)
# shellcheck disable=SC2034 # tpin only holds the fifo open
exec {tpin}<>"$T/tp.in"
(umask 0 && exec env XDG_RUNTIME_DIR="$T/vu" setpriv --reuid=65534 --regid=65534 --clear-groups \
	dpdk-testpmd -l 0-1 --no-huge -m 256 --no-pci --file-prefix "vmrt$$" \
	--vdev "net_vhost0,iface=$T/vu/a.sock,queues=1" \
	--vdev "net_vhost1,iface=$T/vu/b.sock,queues=1,client=1" \
	-- --forward-mode=io --auto-start --nb-cores=1 --total-num-mbufs=8192 \
	<"$T/tp.in" >"$T/testpmd.log" 2>&1) &
tp=$!
run_wait_grep "$T/testpmd.log" "vhost-user server: socket created" 30
ok $? "dpdk-testpmd listens on $T/vu/a.sock"

guest() { # NAME MAC ADDR PEER MODE
	cat >"$T/$1.yaml" <<EOF
version: 1
guests:
  $1:
    accel: tcg
    memory: 256M
    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
    append: console=ttyS0 quiet vmrun.ip=$2,$3/24 vmrun.ping=$4,3
    nics:
      - {name: n1, mac: "$2", vhost_user: {socket: $T/vu/$1.sock, mode: $5}}
EOF
}

# --- a client guest without its backend's socket: refused before anything
guest c 52:54:00:99:00:03 10.99.0.3 10.99.0.1 client
"$VMRUN" --state-dir "$STATE" run "$T/c.yaml" c >"$T/c.out" 2>"$T/c.err"
is $? 2 "a client guest whose backend socket is missing: exit 2"
grep -q "vhost-user socket '$T/vu/c.sock': No such file or directory" "$T/c.err"
ok $? "the error names the socket"
[ ! -e "$STATE/c" ]
ok $? "nothing created (no state directory)"

# --- a: QEMU connects to testpmd; b: QEMU listens, testpmd connects
guest a 52:54:00:99:00:01 10.99.0.1 10.99.0.2 client
guest b 52:54:00:99:00:02 10.99.0.2 10.99.0.1 server
run_start a "$T/a.yaml" a
run_start b "$T/b.yaml" b
# testpmd (nobody) connects to b's socket, which QEMU (root) creates
for _ in $(seq 200); do
	[ -S "$T/vu/b.sock" ] && chmod 0666 "$T/vu/b.sock" 2>/dev/null && break
	sleep 0.05
done
run_wait_ready a a 90
ok $? "guest a runs (vhost-user client)"
run_wait_ready b b 90
r=$?
ok $r "guest b runs (vhost-user server)"
[ $r -ne 0 ] && sed 's/^/# /' "$T/b.err" && tail -n 20 "$T/testpmd.log" | sed 's/^/# /'
q=$(qemu_pid a 2>/dev/null)
[ -n "$q" ] && grep -q '"share":true' "/proc/$q/cmdline"
ok $? "guest a's RAM is a shared memfd"

for g in a b; do
	peer=10.99.0.2
	[ $g = b ] && peer=10.99.0.1
	run_wait_grep "$STATE/$g/console.log" "vmrun-testguest: ping $peer " 150
	grep -q "vmrun-testguest: ping $peer ok" "$STATE/$g/console.log"
	ok $? "guest $g pings $peer through testpmd"
done
grep -q "new vhost user connection" "$T/testpmd.log"
ok $? "testpmd saw the vhost-user connections"

for g in a b; do
	kill -TERM "${RUN_PID[$g]}"
done
run_wait_exit a 60
is "$RC" 0 "guest a powers off on SIGTERM"
run_wait_exit b 60
is "$RC" 0 "guest b powers off on SIGTERM"
done_testing
