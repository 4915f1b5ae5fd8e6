#!/usr/bin/env bash
# Two vmrun builds side by side, for a change too small for startup.sh's
# noise: ROUNDS rounds alternating which build goes first, each round an
# `up` of the test guest (CPU of `up`'s process from rusage, of its
# supervisor from /proc/PID/schedstat) and a `vmrun run` to its running line
# (its schedstat); prints the medians of each build.  Needs root, `make` and
# `make testguest` first.
#
#   bench/startab.sh ROUNDS OLD-VMRUN [NEW-VMRUN]   (NEW: this tree's build)
set -eu
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
rounds=${1:?usage: bench/startab.sh ROUNDS OLD-VMRUN [NEW-VMRUN]}
old=${2:?usage: bench/startab.sh ROUNDS OLD-VMRUN [NEW-VMRUN]}
bench_init startab
new=${3:-$vmrun}
trap '"$new" --state-dir "$tmp/state" kill s >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
chmod 0755 "$tmp" # QEMU runs as the vmrun user
bench_guest_yaml "$tmp/guest.yaml"

python3 - "$rounds" "$tmp" "$old" "$new" <<'PY'
import os, statistics, subprocess, sys, time

rounds, tmp, bins = int(sys.argv[1]), sys.argv[2], sys.argv[3:5]
state, topo, DEV = f"{tmp}/state", f"{tmp}/guest.yaml", subprocess.DEVNULL

def sched_ms(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e6

res = {b: {"up": [], "sup": [], "run": []} for b in bins}
for r in range(rounds):
    for b in (bins if r % 2 == 0 else bins[::-1]):
        p = subprocess.Popen([b, "--state-dir", state, "up", topo], stdout=DEV)
        _, status, ru = os.wait4(p.pid, 0)
        if status != 0:
            sys.exit(f"bench: {b} up failed, see {state}/s/supervisor.log")
        pid = int(open(f"{state}/s/lock").read())
        res[b]["up"].append((ru.ru_utime + ru.ru_stime) * 1e3)
        res[b]["sup"].append(sched_ms(pid))
        subprocess.run([b, "--state-dir", state, "kill", "s"], stdout=DEV, check=True)
        p = subprocess.Popen([b, "--state-dir", state, "run", topo, "s"], stdout=DEV,
                             stderr=subprocess.PIPE, start_new_session=True)
        for line in p.stderr:
            if b"running (qemu pid" in line:
                break
        else:
            sys.exit(f"bench: {b} run ended before its running line")
        res[b]["run"].append(sched_ms(p.pid))
        subprocess.run([b, "--state-dir", state, "kill", "s"], stdout=DEV, check=True)
        p.stderr.close()
        p.wait()
        time.sleep(0.05)
print(f"launcher CPU to running, medians of {rounds} alternating rounds (ms):")
for name, b in zip(("old", "new"), bins):
    m = {k: statistics.median(v) for k, v in res[b].items()}
    print(f"  {name} {b}\n    up {m['up']:.2f}  supervisor {m['sup']:.2f}  "
          f"up + supervisor {m['up'] + m['sup']:.2f}  run {m['run']:.2f}")
PY
