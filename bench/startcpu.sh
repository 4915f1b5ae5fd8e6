#!/usr/bin/env bash
# Where one guest's launcher CPU goes: the parts of bench/startup.sh's
# "launcher CPU" figure, measured apart, medians of ROUNDS (default 21):
#
#   exec    `vmrun --version` (rusage, counted from Python's fork)
#   true    `/bin/true` the same way: what any exec costs here
#   run     `vmrun run` to its "running" line (/proc/PID/schedstat)
#   up      `vmrun up`'s own process (rusage), to its return
#   sup     the supervisor `up` forked, to the same moment (schedstat)
#
# with each process's minor page faults.  The test guest under TCG, as in
# bench/startup.sh, the state directory on tmpfs.  Needs root, `make` and
# `make testguest`.
#
#   bench/startcpu.sh [ROUNDS]
#   VMRUN=/other/vmrun bench/startcpu.sh 21
set -eu
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
rounds=${1:-21}
bench_init startcpu
trap '"$vmrun" --state-dir "$tmp/state" kill s >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
bench_guest_yaml "$tmp/guest.yaml"

python3 - "$rounds" "$vmrun" "$tmp" <<'PY'
import os, statistics, subprocess, sys, time

rounds, vmrun, tmp = int(sys.argv[1]), sys.argv[2], sys.argv[3]
state, topo, DEV = f"{tmp}/state", f"{tmp}/guest.yaml", subprocess.DEVNULL

def sched_ms(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e6

def minflt(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])

res = {k: [] for k in ("exec", "true", "run", "run_flt", "up", "up_flt", "sup", "sup_flt")}
for _ in range(rounds):
    for cmd, k in (([vmrun, "--version"], "exec"), (["/bin/true"], "true")):
        p = subprocess.Popen(cmd, stdout=DEV)
        _, _, ru = os.wait4(p.pid, 0)
        res[k].append((ru.ru_utime + ru.ru_stime) * 1e3)
    p = subprocess.Popen([vmrun, "--state-dir", state, "run", topo, "s"], stdout=DEV,
                         stderr=subprocess.PIPE, start_new_session=True)
    for line in p.stderr:
        if b"running (qemu pid" in line:
            break
    else:
        sys.exit("bench: vmrun run ended before its running line")
    res["run"].append(sched_ms(p.pid))
    res["run_flt"].append(minflt(p.pid))
    subprocess.run([vmrun, "--state-dir", state, "kill", "s"], stdout=DEV, check=True)
    p.stderr.close()
    p.wait()
    p = subprocess.Popen([vmrun, "--state-dir", state, "up", topo], stdout=DEV)
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit(f"bench: vmrun up failed, see {state}/s/supervisor.log")
    pid = int(open(f"{state}/s/lock").read())
    res["up"].append((ru.ru_utime + ru.ru_stime) * 1e3)
    res["up_flt"].append(ru.ru_minflt)
    res["sup"].append(sched_ms(pid))
    res["sup_flt"].append(minflt(pid))
    subprocess.run([vmrun, "--state-dir", state, "kill", "s"], stdout=DEV, check=True)
    time.sleep(0.1)

med = {k: statistics.median(v) for k, v in res.items()}
print(f"launcher CPU of one guest's start, medians of {rounds} (ms; page faults):")
print(f"  exec of vmrun --version  {med['exec']:6.2f}   (/bin/true {med['true']:.2f})")
print(f"  vmrun run                {med['run']:6.2f}   {med['run_flt']:.0f} faults")
print(f"  vmrun up, its process    {med['up']:6.2f}   {med['up_flt']:.0f} faults")
print(f"  its supervisor           {med['sup']:6.2f}   {med['sup_flt']:.0f} faults")
print(f"  up + supervisor          {med['up'] + med['sup']:6.2f}")
PY
