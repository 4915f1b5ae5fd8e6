#!/usr/bin/env bash
# Many guests: `vmrun up` of N idle guests, then `vmrun down --timeout 0`,
# side by side in one run with the same N launches by the minimal launcher
# (bench/startup_direct.c) at the same concurrency:
#
#   vmrun    `vmrun up TOPOLOGY g0 .. gN-1 --parallel P` (returns once every
#            guest runs with its vCPU pinned), then `vmrun down TOPOLOGY
#            g0 .. gN-1 --timeout 0 --parallel P` (returns once every
#            supervisor has quit QEMU and undone its host changes)
#   direct   N startup_direct processes, at most P of them starting at once
#            (the next starts when one prints "running"), each running the
#            argv `vmrun args` prints for its guest, pinning and resuming it;
#            then all of them told to stop (stdin closed: SIGKILL to QEMU)
#            and waited for.  Each runs in its own session, as each vmrun
#            supervisor does: with the scheduler's autogroups
#            (/proc/sys/kernel/sched_autogroup_enabled) a session is what
#            shares the CPUs fairly with other users' load, so both sides get
#            the same share per guest
#
# The guest is built here from source: a multiboot kernel of a few
# instructions that halts with interrupts off (bench/tiny-guest.S), 1 vCPU,
# 16 MiB, TCG, no NICs, so that booting costs next to nothing and what is
# measured is the launchers.  The guests are not pinned (a topology refuses
# two guests on one CPU, and 64 guests share 2 here): vmrun's `up` returns
# once each runs, startup_direct runs with "-" (no affinity calls).
#
# Reported per N: wall time of up / start and of down / stop (medians over
# ROUNDS rounds, alternating which side goes first), each launcher's CPU per
# guest to running (vmrun: `up`'s rusage plus every supervisor's
# /proc/PID/schedstat when `up` returns; direct: every startup_direct's
# schedstat when it printed "running"; QEMU's own time is not counted), and
# the ratios vmrun / direct.
#
#   bench/scale.sh [N...]        (default: 1 8 32 64; root; after make)
#   ROUNDS=3 PARALLEL=2 bench/scale.sh 64
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD:-build}
vmrun=${VMRUN:-$top/$build/vmrun}
rounds=${ROUNDS:-3}
parallel=${PARALLEL:-$(nproc)}
ncpu=$(nproc)
[ $# -gt 0 ] || set -- 1 8 32 64
max=0
for n in "$@"; do [ "$n" -gt "$max" ] && max=$n; done

if [ ! -x "$vmrun" ]; then
	echo "bench: build first (make)" >&2
	exit 1
fi
for tool in as ld cc python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "bench: $tool is needed (apt-get install binutils gcc python3)" >&2
		exit 1
	fi
done
shm=/dev/shm
[ -d "$shm" ] || shm=/tmp
tmp=$(mktemp -d "$shm/vmrt-scale.XXXXXX")
# QEMU runs as the vmrun user by default (docs/security.md): it opens tiny.elf by name
chmod 0755 "$tmp"
guests=()
for ((i = 0; i < max; i++)); do guests+=("g$i"); done
cleanup() {
	"$vmrun" --state-dir "$tmp/state" down "$tmp/guests.yaml" --timeout 0 \
		--parallel 64 >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# the guest: 32-bit ELF with a multiboot header, which QEMU's -kernel boots
as --32 -o "$tmp/tiny.o" bench/tiny-guest.S
ld -m elf_i386 -Ttext=0x100000 -e _start -o "$tmp/tiny.elf" "$tmp/tiny.o"
# shellcheck disable=SC2046 # pkg-config output is a word list
cc -std=gnu11 -O2 -Wall -o "$tmp/startup_direct" bench/startup_direct.c \
	$(pkg-config --cflags --libs jansson)

{
	echo "version: 1"
	echo "guests:"
	for ((i = 0; i < max; i++)); do
		cat <<YAML
  g$i:
    accel: tcg
    vcpus: 1
    memory: 16M
    kernel: $tmp/tiny.elf
YAML
	done
} >"$tmp/guests.yaml"
for ((i = 0; i < max; i++)); do
	"$vmrun" --state-dir "$tmp/state" args "$tmp/guests.yaml" "g$i" >"$tmp/argv.g$i"
	mkdir -p "$tmp/direct/g$i"
done

python3 - "$vmrun" "$tmp" "$rounds" "$parallel" "$ncpu" "$@" <<'PY'
import os, selectors, statistics, subprocess, sys, time

vmrun, tmp, rounds, parallel, ncpu = sys.argv[1:6]
rounds, parallel, ncpu = int(rounds), int(parallel), int(ncpu)
ns = [int(a) for a in sys.argv[6:]]
state = f"{tmp}/state"
topo = f"{tmp}/guests.yaml"
DEV = subprocess.DEVNULL

def ms(t0):
    return (time.monotonic_ns() - t0) / 1e6

def sched_ms(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e6

def vmrun_side(n):
    names = [f"g{i}" for i in range(n)]
    t0 = time.monotonic_ns()
    p = subprocess.Popen([vmrun, "--state-dir", state, "up", topo, *names,
                          "--parallel", str(parallel), "--timeout", "600"], stdout=DEV)
    _, status, ru = os.wait4(p.pid, 0)
    up = ms(t0)
    if status != 0:
        sys.exit(f"bench: vmrun up failed ({status}), see {state}/*/supervisor.log")
    cpu = (ru.ru_utime + ru.ru_stime) * 1e3
    for g in names:
        cpu += sched_ms(int(open(f"{state}/{g}/lock").read()))
    t0 = time.monotonic_ns()
    r = subprocess.run([vmrun, "--state-dir", state, "down", topo, *names, "--timeout", "0",
                        "--parallel", str(parallel)], stdout=DEV)
    down = ms(t0)
    if r.returncode != 0:
        sys.exit(f"bench: vmrun down failed ({r.returncode})")
    return up, down, cpu / n

def direct_side(n):
    sel = selectors.DefaultSelector()
    procs, cpu, started, running = [], 0.0, 0, 0
    t0 = time.monotonic_ns()

    def start(i):
        p = subprocess.Popen([f"{tmp}/startup_direct", f"{tmp}/argv.g{i}", "-",
                              f"{tmp}/direct/g{i}"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, start_new_session=True)
        sel.register(p.stdout, selectors.EVENT_READ, p)
        procs.append(p)

    while running < n:
        while started < n and started - running < parallel:
            start(started)
            started += 1
        for key, _ in sel.select():
            p = key.data
            line = p.stdout.readline()
            sel.unregister(p.stdout)
            if not line.startswith(b"running"):
                sys.exit("bench: startup_direct failed")
            cpu += sched_ms(p.pid)
            running += 1
    up = ms(t0)
    # stopped at the same concurrency: the next told as one is gone
    t0 = time.monotonic_ns()
    stopping = []
    for p in procs:
        if len(stopping) >= parallel:
            stopping.pop(0).wait()
        p.stdin.close()
        stopping.append(p)
    for p in stopping:
        p.wait()
    down = ms(t0)
    return up, down, cpu / n

print(f"{ncpu} online CPUs, --parallel {parallel}, {rounds} rounds per N, load "
      f"{os.getloadavg()[0]:.1f} at the start", flush=True)
rows = []
for n in ns:
    res = {"vmrun": [], "direct": []}
    vmrun_side(n)  # warm-up of both
    direct_side(n)
    for r in range(rounds):
        order = [("vmrun", vmrun_side), ("direct", direct_side)]
        if r % 2:
            order.reverse()
        for name, fn in order:
            res[name].append(fn(n))
    med = {k: [statistics.median(x[j] for x in v) for j in range(3)] for k, v in res.items()}
    v, d = med["vmrun"], med["direct"]
    rows.append((n, v, d))
    print(f"N={n:3d}  up {v[0]:8.1f} ms vs start {d[0]:8.1f} ms ({v[0] / d[0]:.2f}x)   "
          f"down {v[1]:8.1f} ms vs stop {d[1]:8.1f} ms ({v[1] / d[1]:.2f}x)   "
          f"CPU/guest {v[2]:6.2f} vs {d[2]:6.2f} ms ({v[2] / d[2]:.2f}x)", flush=True)
print(f"load {os.getloadavg()[0]:.1f} at the end")
print()
print("| N | vmrun up | direct start | ratio | vmrun down | direct stop | ratio |"
      " CPU/guest vmrun | direct | ratio |")
print("|---|---|---|---|---|---|---|---|---|---|")
for n, v, d in rows:
    print(f"| {n} | {v[0]:.0f} ms | {d[0]:.0f} ms | {v[0] / d[0]:.2f}× | {v[1]:.0f} ms | "
          f"{d[1]:.0f} ms | {v[1] / d[1]:.2f}× | {v[2]:.2f} ms | {d[2]:.2f} ms | "
          f"{v[2] / d[2]:.2f}× |")
PY
