#!/usr/bin/env bash
# Stop latency: SIGTERM to a guest's supervisor until the supervisor has
# exited, for a guest that powers off on the ACPI power button, against the
# guest's own poweroff time taken from its console timestamps.
#
# Each round starts the test guest (docs/testguest.md) with `vmrun up`
# (TCG, 2 vCPUs pinned to CPUs 0 and 1, 256 MiB, no NICs, `printk.time=1`),
# waits for its "booted" line, sends SIGTERM to the supervisor and waits for
# its exit on a pidfd (the moment it exits, not when someone reaps it).
# From the same stop:
#
#   guest     the guest's own poweroff time, from its console timestamps:
#             its power button handler's first line ("vmrun-testguest: power
#             button", written through /dev/kmsg) to the kernel's last line
#             ("reboot: Power down"), both stamped by the guest's kernel
#   overhead  total - guest: everything that is not the guest's own
#             poweroff (target <= 50 ms, issue 14)
#
# and, on the host's clock, where the overhead goes: SIGTERM to QEMU's
# POWERDOWN event (the supervisor reacting, `system_powerdown` over QMP),
# POWERDOWN to SHUTDOWN (the guest: ACPI interrupt, acpid, its handler, its
# poweroff; includes the part above), SHUTDOWN to QEMU's exit (QEMU's own
# teardown, seen on a pidfd of QEMU), QEMU's exit to the supervisor's
# (the supervisor: reaping, undoing its host changes, status.json, exit).
# QMP events carry QEMU's CLOCK_REALTIME timestamps (events.jsonl), as the
# host side here does.
#
# Prints medians over ROUNDS rounds (default 11) and the load average.
# Needs root, `make` and `make testguest` first.
#
#   bench/stoplat.sh [ROUNDS]
set -eu
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
rounds=${1:-11}
bench_init stoplat
cleanup() {
	"$vmrun" --state-dir "$tmp/state" kill s >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
if ! zcat "$guest/initrd.img" | cpio -i --to-stdout --quiet etc/acpi/PWRF/00000080 2>/dev/null |
	grep -q /dev/kmsg; then
	echo "bench: the test guest predates its timestamped power button line: make testguest" >&2
	exit 1
fi

bench_guest_yaml "$tmp/guest.yaml" printk.time=1

python3 - "$rounds" "$vmrun" "$tmp" <<'PY'
import json, os, re, select, signal, statistics, subprocess, sys, time

rounds, vmrun, tmp = int(sys.argv[1]), sys.argv[2], sys.argv[3]
state = f"{tmp}/state"
gdir = f"{state}/s"
STAMP = re.compile(rb"^\[\s*(\d+\.\d+)\] (.*?)\r?$")

def wait_for(path, marker, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                if marker in f.read():
                    return
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    sys.exit(f"bench: no {marker!r} in {path} after {seconds} s")

def one_round():
    subprocess.run([vmrun, "--state-dir", state, "up", f"{tmp}/guest.yaml"],
                   stdout=subprocess.DEVNULL, check=True)
    wait_for(f"{gdir}/console.log", b"vmrun-testguest: booted", 120)
    st = json.load(open(f"{gdir}/status.json"))
    sup, qemu = st["supervisor_pid"], st["qemu_pid"]
    sfd, qfd = os.pidfd_open(sup), os.pidfd_open(qemu)
    p = select.poll()
    p.register(sfd, select.POLLIN)
    p.register(qfd, select.POLLIN)
    t_sig = time.time_ns()
    os.kill(sup, signal.SIGTERM)
    t_qexit = t_exit = None
    while t_exit is None:
        if not p.poll(20000):
            sys.exit(f"bench: supervisor {sup} still runs 20 s after SIGTERM")
        now = time.time_ns()
        for fd, _ in p.poll(0):
            if fd == qfd and t_qexit is None:
                t_qexit = now
                p.unregister(qfd)
            elif fd == sfd:
                t_exit = now
    if t_qexit is None:
        t_qexit = t_exit
    os.close(sfd)
    os.close(qfd)
    ev = {}
    for line in open(f"{gdir}/events.jsonl"):
        e = json.loads(line)
        ts = e["timestamp"]
        ev.setdefault(e["event"], ts["seconds"] * 10**9 + ts["microseconds"] * 1000)
    g = {}
    for line in open(f"{gdir}/console.log", "rb"):
        m = STAMP.match(line)
        if m:
            g.setdefault(m.group(2), float(m.group(1)))
    try:
        g_button = g[b"vmrun-testguest: power button"]
        g_off = g[b"reboot: Power down"]
    except KeyError as e:
        sys.exit(f"bench: no timestamped {e} line in {gdir}/console.log")
    if "POWERDOWN" not in ev or "SHUTDOWN" not in ev:
        sys.exit(f"bench: no POWERDOWN or SHUTDOWN event in {gdir}/events.jsonl")
    final = json.load(open(f"{gdir}/status.json"))
    if final.get("exit_status") != 0:
        sys.exit(f"bench: the stop ended with exit status {final.get('exit_status')}, not 0")
    ms = lambda a, b: (b - a) / 1e6
    return {
        "total": ms(t_sig, t_exit),
        "guest": (g_off - g_button) * 1e3,
        "sig->POWERDOWN": ms(t_sig, ev["POWERDOWN"]),
        "POWERDOWN->SHUTDOWN": ms(ev["POWERDOWN"], ev["SHUTDOWN"]),
        "SHUTDOWN->qemu exit": ms(ev["SHUTDOWN"], t_qexit),
        "qemu exit->sup exit": ms(t_qexit, t_exit),
    }

load = [os.getloadavg()]
one_round()  # warm-up: page cache
res = []
for r in range(rounds):
    x = one_round()
    x["overhead"] = x["total"] - x["guest"]
    res.append(x)
    print(f"  round {r + 1:2d}: total {x['total']:7.1f}  guest {x['guest']:7.1f}  "
          f"overhead {x['overhead']:6.1f} ms", flush=True)
load.append(os.getloadavg())
med = {k: statistics.median(x[k] for x in res) for k in res[0]}
print(f"stop latency, SIGTERM to supervisor exit, median of {rounds} rounds (ms):")
print(f"  total (SIGTERM -> supervisor exited)        {med['total']:8.1f}")
print(f"  guest's own poweroff (console timestamps)   {med['guest']:8.1f}")
print(f"  overhead (median of total - guest)          {med['overhead']:8.1f}   "
      f"(target <= 50: {'met' if med['overhead'] <= 50 else 'missed'}; "
      f"min {min(x['overhead'] for x in res):.1f}, max {max(x['overhead'] for x in res):.1f})")
print("  on the host's clock:")
for k in ["sig->POWERDOWN", "POWERDOWN->SHUTDOWN", "SHUTDOWN->qemu exit", "qemu exit->sup exit"]:
    print(f"    {k:24s} {med[k]:8.1f}")
print(f"  supervisor's own part (sig->POWERDOWN + qemu exit->sup exit): "
      f"{statistics.median(x['sig->POWERDOWN'] + x['qemu exit->sup exit'] for x in res):.1f}")
print("load average before / after: " + " / ".join(" ".join(f"{v:.2f}" for v in l) for l in load))
PY
