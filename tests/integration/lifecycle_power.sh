#!/usr/bin/env bash
# Readiness, observability and power with real QEMU under TCG and the test
# guest (docs/testguest.md), inside a network namespace this test creates
# (a bridge with an address, the guest's NIC on it): `up --wait` until a
# TCP port of the guest answers (ready_when tcp), health, inspect and stats
# checked against /proc, QMP and the link's counters, the exporter scraped
# with curl and parsed by prometheus_client, pause and resume, reboot
# (ACPI, then readiness again), restart: on-failure after kill -9 of QEMU
# with the backoff seen in the log and the count in ps, and a guest that
# never gets ready (up --wait fails naming what it saw last), readiness by
# the guest agent (ready_when agent) and the reboot of a guest that ignores
# the power button (system_reset after the timeout).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/verbs_lib.bash
. tests/integration/verbs_lib.bash

need_testguest "readiness, inspect, stats, exporter, reboot, restart policy"
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v curl >/dev/null; then
	skip "needs root, iproute2 and curl" "readiness, inspect, stats, exporter, reboot, restart"
	done_testing
	exit
fi
# Debian's python3-prometheus-client, also when python3 on PATH is another Python
prompy=
for py in python3 /usr/bin/python3; do
	if "$py" -c 'import prometheus_client.parser' 2>/dev/null; then
		prompy=$py
		break
	fi
done
unset VMRUN_QEMU

NS=vmrt-life-$$
net=10.$((($$ >> 8) % 200 + 20)).$(($$ % 250)).
ip netns add "$NS" &&
	ip -n "$NS" link set lo up &&
	ip -n "$NS" link add br0 type bridge &&
	ip -n "$NS" addr add "${net}1/24" dev br0 &&
	ip -n "$NS" link set br0 up
ok $? "namespace $NS with bridge br0 (${net}1/24)"
nsx() { ip netns exec "$NS" "$@"; }
vn() { nsx "$VMRUN" --state-dir "$STATE" "$@"; }

cat >"$T/lab.yaml" <<YAML
version: 1
defaults:
  accel: tcg
  memory: 256M
  kernel: $TESTGUEST/vmlinuz
  initrd: $TESTGUEST/initrd.img
  stop_timeout: 30
guests:
  p:
    append: console=ttyS0 quiet vmrun.listen=8080
    ready_when: {tcp: 8080}
    restart: on-failure
    agent: true
    nics: [{name: n1, bridge: br0, mac: "52:54:00:7e:00:02", ip: ${net}2/24}]
  q:
    append: console=ttyS0 quiet
    ready_when: {tcp: 9}
    nics: [{name: n1, bridge: br0, mac: "52:54:00:7e:00:03", ip: ${net}3/24}]
  r:
    append: console=ttyS0 quiet vmrun.noacpi=1
    ready_when: agent
    agent: true
YAML

# --- up --wait: returns once the guest's TCP port answers, not when QEMU runs
vn up --wait --timeout 240 "$T/lab.yaml" p >"$T/up.out" 2>"$T/up.err"
rc=$?
is "$rc" 0 "up --wait returns 0"
[ "$rc" -eq 0 ] || show "$T/up.out" "$T/up.err" "$STATE/p/supervisor.log" "$STATE/p/console.log"
grep -q "^guest 'p' is ready (supervisor pid" "$T/up.out"
ok_or_show $? "up says the guest is ready" "$T/up.out"
grep -q "vmrun-testguest: listening on 8080" "$STATE/p/console.log"
ok_or_show $? "the guest's server was up when up returned" "$STATE/p/console.log"
grep -q "is ready (ready_when tcp: ${net}2:8080)" "$STATE/p/supervisor.log"
ok_or_show $? "the supervisor logged the readiness" "$STATE/p/supervisor.log"
[ -e "$STATE/p/healthy" ]
ok $? "STATE/p/healthy exists"
v health p >"$T/h.out" 2>&1
is "$?" 0 "health: ready"

# --- inspect --json against /proc, QMP and the agent
v inspect --json p >"$T/i.json"
is "$?" 0 "inspect --json returns 0"
qemu=$(json_get "$T/i.json" 'j["qemu_pid"]')
is "$(cat "/proc/$qemu/comm" 2>/dev/null)" "qemu-system-x86" "inspect: qemu_pid is QEMU"
tid=$(json_get "$T/i.json" 'j["vcpus"][0]["thread"]')
[ -d "/proc/$qemu/task/$tid" ]
ok $? "inspect: vCPU 0's thread is a thread of QEMU"
is "$(json_get "$T/i.json" 'j["vcpus"][0]["affinity"]')" "$(thread_cpus "$qemu" "$tid")" \
	"inspect: vCPU 0's affinity is /proc's"
ticks=$(getconf CLK_TCK)
read -r ut st < <(awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$qemu/task/$tid/stat")
python3 -c "import sys; a=float(sys.argv[1]); b=(int(sys.argv[2])+int(sys.argv[3]))/int(sys.argv[4]); sys.exit(0 if 0 <= b - a <= 5 else 1)" \
	"$(json_get "$T/i.json" 'j["vcpus"][0]["cpu_seconds"]')" "$ut" "$st" "$ticks"
ok $? "inspect: vCPU 0's CPU time is /proc's (read a moment before)"
rss=$(awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$qemu/status")
python3 -c "import sys; a=int(sys.argv[1]); b=int(sys.argv[2]); sys.exit(0 if abs(a-b) <= b/4 else 1)" \
	"$(json_get "$T/i.json" 'j["memory"]["qemu_rss_bytes"]')" "$rss"
ok $? "inspect: QEMU's RSS is /proc's VmRSS (within 25%)"
is "$(json_get "$T/i.json" 'j["memory"]["size_bytes"]')" 268435456 "inspect: memory size"
is "$(json_get "$T/i.json" 'j["readiness"]["healthy"]')" True "inspect: ready"
is "$(json_get "$T/i.json" 'j["nics"][0]["addresses_from"]')" agent \
	"inspect: the guest's addresses come from its agent"
is "$(json_get "$T/i.json" '"'"${net}2/24"'" in j["nics"][0]["addresses"]')" True \
	"inspect: the agent reports the seed's address"
ifname=$(json_get "$T/i.json" 'j["nics"][0]["ifname"]')
nsx ip link show "$ifname" >/dev/null 2>&1
ok $? "inspect: the NIC's host interface $ifname exists in the namespace"
is "$(json_get "$T/i.json" 'j["config"]["topology"]')" "$T/lab.yaml" "inspect: the topology"
json_get "$T/i.json" '" ".join(j["config"]["argv"])' | grep -q "virtserialport"
ok $? "inspect: the command line (with the agent channel)"
v inspect p >"$T/i.txt"
grep -q "^readiness: *ready, ready_when tcp: ${net}2:8080" "$T/i.txt"
ok_or_show $? "inspect: the table says it is ready" "$T/i.txt"

# --- stats --json against /proc, QMP and the link's counters
nsx ping -c 2 -W 2 "${net}2" >/dev/null 2>&1
vn stats --json p >"$T/s.json"
is "$?" 0 "stats --json returns 0"
v qmp p query-blockstats >"$T/bs.json"
is "$(json_get "$T/s.json" 'sorted(d["id"] for d in j[0]["disks"])')" \
	"$(json_get "$T/bs.json" 'sorted(b["node-name"] or b["device"] for b in j)')" \
	"stats: one disk entry per device query-blockstats knows"
rx_sys=$(nsx cat "/sys/class/net/$ifname/statistics/rx_bytes")
rx=$(json_get "$T/s.json" 'j[0]["nics"][0]["rx_bytes"]')
python3 -c "import sys; a=int(sys.argv[1]); b=int(sys.argv[2]); sys.exit(0 if 0 < a <= b else 1)" \
	"$rx" "$rx_sys"
ok $? "stats: the NIC's rx_bytes over netlink ($rx) agree with sysfs ($rx_sys, read later)"
is "$(json_get "$T/s.json" 'j[0]["qemu_pid"]')" "$qemu" "stats: QEMU's pid"
vn stats --interval 1 --count 1 p >"$T/rate.txt"
grep -Eq "^p +running +[0-9.]+%" "$T/rate.txt"
ok_or_show $? "stats --interval: a line of rates" "$T/rate.txt"

# --- the exporter, scraped with curl, parsed by prometheus_client
# not through nsx: $! must be the exporter itself (ip netns exec execs it)
ip netns exec "$NS" "$VMRUN" --state-dir "$STATE" exporter --listen 127.0.0.1:0 2>"$T/ex.err" &
ex=$!
wait_grep "$T/ex.err" "listening on 127.0.0.1:" 10
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/ex.err")
[ -n "$port" ]
ok_or_show $? "the exporter listens (port $port)" "$T/ex.err"
nsx curl -sS -o "$T/metrics" -w '%{http_code} %{content_type}\n' "http://127.0.0.1:$port/metrics" >"$T/curl.out" 2>&1
grep -q "^200 text/plain; version=0.0.4" "$T/curl.out"
ok_or_show $? "GET /metrics: 200, the text format's content type" "$T/curl.out"
is "$(nsx curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")" 404 "GET /nope: 404"
is "$(nsx curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")" 405 \
	"POST /metrics: 405"
if [ -n "$prompy" ]; then
	"$prompy" - "$T/metrics" "$qemu" "$tid" "$ticks" >"$T/prom.out" 2>&1 <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
fams = {f.name: f for f in text_string_to_metric_families(text)}
def val(name, **labels):
    # counters' families drop _total; their samples keep it
    for f in fams.values():
        for s in f.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    raise SystemExit(f"no sample {name} {labels}")
assert all(n.startswith("vmrun_") for n in fams), sorted(fams)
assert fams["vmrun_guest_up"].type == "gauge"
assert fams["vmrun_vcpu_cpu_seconds"].type == "counter"
assert val("vmrun_guest_up", guest="p") == 1
assert val("vmrun_guest_ready", guest="p") == 1
assert val("vmrun_guest_memory_bytes", guest="p") == 268435456
stat = open(f"/proc/{sys.argv[2]}/task/{sys.argv[3]}/stat").read().rsplit(")", 1)[1].split()
cpu = (int(stat[11]) + int(stat[12])) / int(sys.argv[4])
assert 0 <= cpu - val("vmrun_vcpu_cpu_seconds_total", guest="p", vcpu="0") <= 5
assert val("vmrun_host_interface_receive_bytes_total", guest="p", nic="n1") > 0
print("parsed", len(fams), "families")
PY
	ok_or_show $? "prometheus_client parses /metrics; values agree with /proc" "$T/prom.out"
else
	skip "python3-prometheus-client is not installed" "prometheus_client parses /metrics"
fi
kill -TERM "$ex"
wait "$ex"
is "$?" 0 "the exporter ends on SIGTERM with status 0"

# --- pause and resume: a paused guest is not healthy
v pause p >/dev/null
is "$?" 0 "pause"
is "$(json_get <(v qmp p query-status) 'j["status"]')" paused "QEMU is paused"
v health p >"$T/h.out" 2>&1
is "$?" 1 "health: a paused guest is not healthy"
grep -q "guest 'p' is paused" "$T/h.out"
ok_or_show $? "health says it is paused" "$T/h.out"
v resume p >/dev/null
is "$?" 0 "resume"
v health p >/dev/null 2>&1
is "$?" 0 "health: healthy again"

# --- reboot: ACPI, QEMU paused at the poweroff, reset, resumed; readiness again
v reboot p >"$T/rb.out" 2>&1
is "$?" 0 "reboot returns 0"
grep -q "^guest 'p' rebooted (ACPI" "$T/rb.out"
ok_or_show $? "reboot: by ACPI" "$T/rb.out"
is "$(json_get <(v ps --json p) 'j[0]["qemu_pid"]')" "$qemu" "reboot: the same QEMU"
vn up --wait --timeout 240 "$T/lab.yaml" p >"$T/up2.out" 2>&1
is "$?" 0 "up --wait after the reboot: ready again"
# readiness is the port: the guest listens a moment before it says "booted"
is "$(grep -c 'vmrun-testguest: listening on 8080' "$STATE/p/console.log")" 2 \
	"the guest's server started again before up returned"
for _ in $(seq 300); do
	[ "$(grep -c 'vmrun-testguest: booted' "$STATE/p/console.log")" -ge 2 ] && break
	sleep 0.1
done
is "$(grep -c 'vmrun-testguest: booted' "$STATE/p/console.log")" 2 "the guest booted twice"
grep -q "vmrun-testguest: powering off" "$STATE/p/console.log"
ok $? "it powered off on the ACPI button before"

# --- restart: on-failure: kill -9 of QEMU twice, the backoff doubles
kill -KILL "$qemu"
wait_grep "$STATE/p/supervisor.log" "restarting in .* (restart 1," 30
ok_or_show $? "after kill -9 of QEMU the manager restarts the guest" "$STATE/p/supervisor.log"
for _ in $(seq 600); do
	[ "$(grep -c "running (qemu pid" "$STATE/p/supervisor.log")" -ge 2 ] && break
	sleep 0.1
done
q2=$(sed -n "s/^vmrun: guest 'p' running (qemu pid \([0-9]*\),.*/\1/p" "$STATE/p/supervisor.log" | tail -1)
[ -n "$q2" ] && [ "$q2" != "$qemu" ] && alive "$q2"
ok $? "a new QEMU runs ($q2)"
kill -KILL "$q2"
wait_grep "$STATE/p/supervisor.log" "restarting in .* (restart 2," 30
ok_or_show $? "the second kill -9: restart 2" "$STATE/p/supervisor.log"
grep "restarting in" "$STATE/p/supervisor.log" >"$T/backoff.txt"
python3 - "$T/backoff.txt" >"$T/backoff.out" 2>&1 <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
d = [(float(m.group(1)), float(m.group(2))) for m in
     (re.search(r"restarting in ([0-9.]+) s .* after ([0-9.]+) s\)", l) for l in lines)]
assert len(d) == 2, d
assert d[0][0] == 0.1, d
# Docker's backoff: doubled after a short run, back to 100 ms after a run of 10 s
assert d[1][0] == (0.2 if d[1][1] < 10 else 0.1), d
print(d)
PY
ok_or_show $? "the delay is 0.1 s, then doubled after a run under 10 s" "$T/backoff.out" "$T/backoff.txt"
for _ in $(seq 600); do
	[ "$(grep -c "running (qemu pid" "$STATE/p/supervisor.log")" -ge 3 ] && break
	sleep 0.1
done
vn ps p >"$T/ps.txt"
grep -Eq "^p +running +[0-9]+ +[0-9]+ +[0-9a-z]+ +2 " "$T/ps.txt"
ok_or_show $? "ps shows 2 restarts" "$T/ps.txt"
is "$(json_get <(v ps --json p) 'j[0]["restart_count"]')" 2 "ps --json: restart_count 2"

# --- a guest that never gets ready: up --wait names it and what it saw;
# meanwhile r, ready when its agent answers guest-ping
vn up --wait --timeout 240 "$T/lab.yaml" r >"$T/upr.out" 2>"$T/upr.err" &
upr=$!
vn up --wait --timeout 40 "$T/lab.yaml" q >"$T/upq.out" 2>"$T/upq.err"
is "$?" 1 "up --wait: a guest that is not ready in time fails"
wait "$upr"
is "$?" 0 "up --wait: r is ready"
grep -q "guest 'r' is ready (ready_when agent)" "$STATE/r/supervisor.log" &&
	grep -q "vmrun-testguest: agent on /dev/vport" "$STATE/r/console.log"
ok_or_show $? "readiness by the guest agent's guest-ping" "$STATE/r/supervisor.log" "$T/upr.err"
is "$(json_get <(v qmp r query-status) 'j["status"]')" running "r runs"
v health r >/dev/null 2>&1
is "$?" 0 "health: r is ready"
# r ignores the power button: reboot resets it once the timeout is over
v reboot --timeout 2 r >"$T/rbr.out" 2>&1
is "$?" 0 "reboot of a guest that ignores the power button"
grep -q "^guest 'r' reset (no ACPI poweroff in time)" "$T/rbr.out" &&
	grep -q "guest 'r': reboot: no poweroff in time: system_reset" "$STATE/r/supervisor.log"
ok_or_show $? "reset by system_reset after 2 s" "$T/rbr.out" "$STATE/r/supervisor.log"
grep -q "vmrun-testguest: ignoring the power button" "$STATE/r/console.log"
ok $? "the guest had said it ignores the button"
v health r >"$T/hr.out" 2>&1
is "$?" 1 "health: r is not ready right after its reset (it boots again)"
is "$(json_get <(v qmp r query-status) 'j["status"]')" running "r runs on after the reset"
v kill r >/dev/null 2>&1
grep -q "^vmrun: error: guest 'q' running but not ready after 40 s (ready_when tcp: ${net}3:9)" "$T/upq.err"
ok_or_show $? "the error names the guest and its readiness condition" "$T/upq.err"
grep -Eq "^vmrun: guest 'q': last seen: connect ${net}3:9: (Connection refused|No route to host|no answer within 3 s)" "$T/upq.err"
ok_or_show $? "and what its last attempt saw" "$T/upq.err"
grep -q "^vmrun: stopped guest 'q' (started by this command)" "$T/upq.err"
ok_or_show $? "and stops it" "$T/upq.err"
vn health q >/dev/null 2>&1
is "$?" 1 "q is not running afterwards"

# --- stop: no restart after a stop asked from outside
vn stop p >"$T/stop.out" 2>&1
is "$?" 0 "stop p"
wait_grep "$STATE/p/supervisor.log" "not restarting (stopped from outside)" 10
ok_or_show $? "the manager does not restart a guest stopped from outside" "$STATE/p/supervisor.log"
[ -z "$(held_pids)" ]
ok $? "no supervisor left"
links=$(nsx ip -o link show | grep -c "vm-" || true)
is "$links" 0 "the guests' taps are gone from the namespace"
done_testing
