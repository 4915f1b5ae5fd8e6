#!/usr/bin/env bash
# Guest startup: the time from starting a launcher to the guest running with
# its vCPUs pinned (QEMU resumed by `cont`), side by side in one run:
#
#   vmrun    `vmrun up TOPOLOGY` (returns once the detached supervisor has
#            pinned the vCPUs and resumed the guest)
#   direct   bench/startup_direct.c: the same QEMU argv (from `vmrun args`),
#            the same QMP handshake, pinning and `cont`, nothing else
#   libvirt  `virsh start` of the same guest (same kernel, initrd, command
#            line, machine, memory, vCPU pinning), when libvirt is installed
#            and its daemon answers; skipped with the reason otherwise
#
# plus the supervisor's memory (VmRSS and its parts from /proc, Pss from
# smaps_rollup) while the guest runs.  The guest is the test guest under
# TCG, 2 vCPUs pinned to CPUs 0 and 1, 256 MiB.  Rounds alternate the order
# of the launchers after one warm-up of each; prints the medians and ratios.
# Needs root, `make` and `make testguest` first.
#
#   bench/startup.sh [ROUNDS]            (default 11)
#   VMRUN_BASE=/other/vmrun bench/startup.sh 21
#
# Also measured: `vmrun run TOPOLOGY GUEST` in the foreground (the
# container path), to its "running" line on stderr; and, with VMRUN_BASE,
# `up` of another vmrun build (e.g. main's) as one more side of the same
# run, to compare two trees under the same load.
#
# libvirt: bench/libvirt-setup.sh installs a minimal libvirt (QEMU driver,
# virsh, no default network) and starts its daemons without systemd; the
# benchmark defines a transient-named domain without NICs and undefines it.
set -eu
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
rounds=${1:-11}
bench_init startup
dom=vmrt-bench-$$
virsh_ok=""
cleanup() {
	"$vmrun" --state-dir "$tmp/state" kill s >/dev/null 2>&1 || true
	if [ -n "$virsh_ok" ]; then
		virsh -q -c qemu:///system destroy "$dom" >/dev/null 2>&1 || true
		virsh -q -c qemu:///system undefine "$dom" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
qemu=${VMRUN_QEMU:-/usr/bin/qemu-system-x86_64}
unset VMRUN_QEMU

# shellcheck disable=SC2046 # pkg-config output is a word list
cc -std=gnu11 -O2 -Wall -o "$tmp/startup_direct" bench/startup_direct.c \
	$(pkg-config --cflags --libs jansson)

bench_guest_yaml "$tmp/guest.yaml"
"$vmrun" --state-dir "$tmp/state" args "$tmp/guest.yaml" s >"$tmp/argv"
mkdir -p "$tmp/direct"

libvirt_why=""
if ! command -v virsh >/dev/null; then
	libvirt_why="virsh not installed (apt-get install libvirt-daemon-system libvirt-clients)"
elif ! virsh -q -c qemu:///system version >/dev/null 2>&1; then
	libvirt_why="libvirt's daemon does not answer on qemu:///system (start libvirtd or virtqemud)"
else
	cat >"$tmp/dom.xml" <<XML
<domain type='qemu'>
  <name>$dom</name>
  <memory unit='MiB'>256</memory>
  <vcpu placement='static' cpuset='0-1'>2</vcpu>
  <cputune>
    <vcpupin vcpu='0' cpuset='0'/>
    <vcpupin vcpu='1' cpuset='1'/>
    <emulatorpin cpuset='0-1'/>
  </cputune>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$guest/vmlinuz</kernel>
    <initrd>$guest/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet</cmdline>
  </os>
  <cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>$qemu</emulator>
    <controller type='usb' model='none'/>
    <serial type='pty'/>
    <console type='pty'/>
    <memballoon model='none'/>
  </devices>
</domain>
XML
	if virsh -q -c qemu:///system define "$tmp/dom.xml" >"$tmp/define.log" 2>&1; then
		virsh_ok=1
	else
		libvirt_why="virsh define failed: $(tail -1 "$tmp/define.log")"
	fi
fi

python3 - "$rounds" "$vmrun" "$tmp" "$dom" "$virsh_ok" "$libvirt_why" "${VMRUN_BASE:-}" <<'PY'
import os, statistics, subprocess, sys, time

rounds, vmrun, tmp, dom, virsh_ok, why, base = sys.argv[1:8]
rounds = int(rounds)
state = f"{tmp}/state"
DEV = subprocess.DEVNULL

def ms(t0):
    return (time.monotonic_ns() - t0) / 1e6

def proc_kb(pid, path, keys):
    out = {}
    with open(f"/proc/{pid}/{path}") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in keys:
                out[k] = int(v.split()[0])
    return out

rss = []

def open_maps(pid):
    try:
        with open(f"/proc/{pid}/maps") as f:
            return f.read()
    except OSError:
        return ""

def shared_lib_kb(pid):
    # what of the supervisor's libraries other processes map too (Shared_Clean
    # + Shared_Dirty of each library's mappings, libc and ld.so aside, which
    # every process maps): pages a supervisor alone on the host would hold by
    # itself, so they count in its USS there; here other jobs' vmrun
    # processes map the same libraries and make them shared
    total, name = 0, None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            first = line.split(None, 6)
            if "-" in first[0] and len(first) >= 5 and ":" in first[3]:
                path = first[5].strip() if len(first) > 5 else ""
                base = path.rsplit("/", 1)[-1]
                name = base if base.startswith("lib") and not base.startswith(("libc.so", "ld-linux")) else None
            elif name and first[0] in ("Shared_Clean:", "Shared_Dirty:"):
                total += int(first[1])
    return total

def sched_ns(pid):
    # CPU time of a (single-threaded) process so far, in ns
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])

cpu = {"vmrun": [], "direct": [], "run": []}
if base:
    cpu["base"] = []

def up_with(binary, side, sample):
    t0 = time.monotonic_ns()
    p = subprocess.Popen([binary, "--state-dir", state, "up", f"{tmp}/guest.yaml"], stdout=DEV)
    _, status, ru = os.wait4(p.pid, 0)
    t = ms(t0)
    if status != 0:
        sys.exit(f"bench: vmrun up failed ({status}), see {state}/s/supervisor.log")
    pid = int(open(f"{state}/s/lock").read())
    if sample:
        cpu[side].append((ru.ru_utime + ru.ru_stime) * 1e3 + sched_ns(pid) / 1e6)
    if side != "vmrun":
        subprocess.run([binary, "--state-dir", state, "kill", "s"], stdout=DEV, check=True)
    return t

def run_base(sample):
    return up_with(base, "base", sample)

def run_run(sample):
    # the container path: `vmrun run` in the foreground, to its "running" line
    t0 = time.monotonic_ns()
    p = subprocess.Popen([vmrun, "--state-dir", state, "run", f"{tmp}/guest.yaml", "s"],
                         stdout=DEV, stderr=subprocess.PIPE, start_new_session=True)
    for line in p.stderr:
        if b"running (qemu pid" in line:
            break
    else:
        sys.exit("bench: vmrun run ended before its running line")
    t = ms(t0)
    if sample:
        cpu["run"].append(sched_ns(p.pid) / 1e6)
    subprocess.run([vmrun, "--state-dir", state, "kill", "s"], stdout=DEV, check=True)
    p.stderr.close()
    p.wait()
    return t

def run_vmrun(sample):
    t = up_with(vmrun, "vmrun", sample)
    pid = int(open(f"{state}/s/lock").read())
    if sample:
        # steady state while the guest runs (it boots under TCG meanwhile)
        time.sleep(1.0)
        m = proc_kb(pid, "status", {"VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"})
        m.update(proc_kb(pid, "smaps_rollup", {"Pss", "Private_Clean", "Private_Dirty"}))
        m["libs_shared"] = shared_lib_kb(pid)
        exe = os.readlink(f"/proc/{pid}/exe")
        m["exe_elsewhere"] = sum(1 for d in os.listdir("/proc") if d.isdigit() and d != str(pid)
                                 and exe in open_maps(d))
        rss.append(m)
    subprocess.run([vmrun, "--state-dir", state, "kill", "s"], stdout=DEV, check=True)
    return t

def run_direct(sample):
    t0 = time.monotonic_ns()
    # its own session, as vmrun's supervisor: the same autogroup share of the CPUs
    p = subprocess.Popen([f"{tmp}/startup_direct", f"{tmp}/argv", "0,1", f"{tmp}/direct"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
    line = p.stdout.readline()
    t = ms(t0)
    if sample and line.startswith(b"running"):
        cpu["direct"].append(sched_ns(p.pid) / 1e6)
    p.stdin.close()
    p.wait()
    if not line.startswith(b"running"):
        sys.exit("bench: startup_direct failed")
    return t

def run_virsh(sample):
    t0 = time.monotonic_ns()
    subprocess.run(["virsh", "-q", "-c", "qemu:///system", "start", dom], stdout=DEV, check=True)
    t = ms(t0)
    subprocess.run(["virsh", "-q", "-c", "qemu:///system", "destroy", dom], stdout=DEV, check=True)
    return t

def run_start(sample):
    # what starting the vmrun executable costs (dynamic linking): `up` pays it
    # once (the supervisor is a forked child, no second exec)
    t0 = time.monotonic_ns()
    subprocess.run([vmrun, "--version"], stdout=DEV, check=True)
    return ms(t0)

def run_true(sample):
    t0 = time.monotonic_ns()
    subprocess.run(["/bin/true"], stdout=DEV, check=True)
    return ms(t0)

sides = [("vmrun", run_vmrun), ("direct", run_direct), ("run", run_run)]
if base:
    sides.append(("base", run_base))
if virsh_ok:
    sides.append(("libvirt", run_virsh))
times = {name: [] for name, _ in sides}
for name, fn in sides:
    fn(False)  # warm-up: page cache, libvirt's capability cache
for r in range(rounds):
    order = sides[r % len(sides):] + sides[:r % len(sides)]
    for name, fn in order:
        times[name].append(fn(True))

med = {k: statistics.median(v) for k, v in times.items()}
pairs = [(run_start(False), run_true(False)) for _ in range(31)]
start = statistics.median(a for a, _ in pairs)
true = statistics.median(b for _, b in pairs)
print(f"guest startup to running with vCPUs pinned, {rounds} rounds (ms):")
for k, v in times.items():
    print(f"  {k:8s} median {med[k]:8.1f}   min {min(v):8.1f}   max {max(v):8.1f}")
print(f"  vmrun / direct   = {med['vmrun'] / med['direct']:.3f}  (target <= 1.10)")
print(f"  run / direct     = {med['run'] / med['direct']:.3f}  (`vmrun run` to its running line)")
if base:
    print(f"  base / vmrun     = {med['base'] / med['vmrun']:.3f}  (VMRUN_BASE's up)")
print(f"  vmrun - direct   = {med['vmrun'] - med['direct']:.1f} ms; starting the vmrun executable"
      f" costs {start - true:.1f} ms over /bin/true ({true:.1f} ms), paid once by `up`")
if virsh_ok:
    print(f"  libvirt / vmrun  = {med['libvirt'] / med['vmrun']:.1f}x (target >= 6)")
else:
    print(f"  libvirt: skipped: {why}")
print("launcher CPU time to running (ms, median; QEMU's own excluded):")
for k, v in cpu.items():
    print(f"  {k:8s} {statistics.median(v):8.2f}   ({statistics.median(v) / statistics.median(cpu['direct']):.2f}x direct)")
print("supervisor memory while the guest runs (KiB, median):")
for k in ["VmRSS", "RssAnon", "RssFile", "RssShmem", "Pss", "Private_Clean", "Private_Dirty", "VmHWM"]:
    print(f"  {k:14s} {statistics.median(m[k] for m in rss):8.0f}")
uss = statistics.median(m["Private_Clean"] + m["Private_Dirty"] for m in rss)
print(f"  USS (Private_Clean + Private_Dirty) {uss:.0f} KiB: target <= 1024 KiB "
      f"{'met' if uss <= 1024 else 'missed'}")
lone = statistics.median(m["Private_Clean"] + m["Private_Dirty"] + m["libs_shared"] for m in rss)
print(f"  + its libraries' pages that other processes map too (libc, ld.so aside): "
      f"{statistics.median(m['libs_shared'] for m in rss):.0f} KiB; USS if nothing else mapped "
      f"them: {lone:.0f} KiB")
if any(m["exe_elsewhere"] for m in rss):
    print("  (another process mapped the vmrun executable too: its pages were shared, the USS is low)")
PY
