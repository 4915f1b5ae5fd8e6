#!/usr/bin/env bash
# `vmrun run` against a fake QEMU (tests/integration/fakeqemu.py): what QEMU
# inherits, exit statuses, escalation, the control and console sockets,
# supervisor death, and refusals before anything is started.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash

if ! command -v python3 >/dev/null; then
	skip "python3 is missing (the fake QEMU is a Python script)" "fake QEMU suite"
	done_testing
	exit
fi
# QEMU runs as the default qemu_user (vmrun, or nobody): run_lib.bash staged
# the fake QEMU where that user can run it; what it writes goes to $P
export VMRUN_QEMU=$FAKEQEMU
P=$T/pub
mkdir -m 1777 "$P"

# guest NAME CPUSET STOP_TIMEOUT FAKE-OPTIONS...: one topology file per guest
guest() {
	local name=$1 cpus=$2 stop=$3 args="" a
	shift 3
	for a in "$@"; do args+=", \"-fake\", \"$a\""; done
	cat >"$T/$name.yaml" <<EOF
version: 1
guests:
  $name:
    accel: tcg
    cpuset: "$cpus"
    memory: 64M
    stop_timeout: $stop
    qemu_args: [${args#, }]
EOF
}

# --- what QEMU inherits; console, control, events; SIGTERM -> poweroff -> 0
guest a 0-1 5 "report=$P/a.report"
run_start a "$T/a.yaml" a --events
run_wait_ready a a 20
ok $? "fake guest reaches ready"
is "$(json_get "$P/a.report" 'j["fds"]')" "[0, 1, 2, 3, 4]" "QEMU holds exactly fds 0-2 and the QMP and console sockets"
is "$(json_get "$P/a.report" 'j["status"]["NoNewPrivs"]')" "1" "QEMU runs with NoNewPrivs"
if [ "$(id -u)" -eq 0 ]; then
	is "$(json_get "$P/a.report" 'j["status"]["CapBnd"]')" "0000000000000000" \
		"QEMU as the default qemu_user: empty bounding set"
	is "$(json_get "$P/a.report" 'j["status"]["Uid"].split()[0]')" "$(id -u vmrun 2>/dev/null || id -u nobody)" \
		"QEMU runs as the default qemu_user (vmrun, else nobody)"
else
	skip "needs root" "QEMU as the default qemu_user"
fi
is "$(json_get "$P/a.report" 'j["status"]["SigBlk"]')" "0000000000000000" "QEMU starts with no blocked signal"
is "$(json_get "$P/a.report" 'sorted(k for k in j["env"] if k != "LC_CTYPE")')" "['PATH']" \
	"QEMU's environment is PATH only (LC_CTYPE is Python's own)"
is "$(json_get "$P/a.report" 'j["ppid"]')" "${RUN_PID[a]}" "QEMU is the supervisor's child"
is "$(awk '/^Seccomp:/ { print $2 }' "/proc/${RUN_PID[a]}/status")" 2 \
	"the supervisor runs under its own seccomp filter once the guest runs"
is "$(json_get "$P/a.report" 'j["status"]["Seccomp"]')" 0 "QEMU does not inherit the supervisor's filter"
grep -q "^vmrun: guest 'a' running (qemu pid [0-9]*, vCPUs pinned to CPUs 0-1)$" "$T/a.err"
ok $? "ready line on stderr"
run_wait_grep "$T/a.out" "fakeqemu: guest running" 5
ok $? "console output reaches stdout"
grep -q "fakeqemu: guest running" "$STATE/a/console.log"
ok $? "console output reaches console.log"
grep -q '"event":"RESUME"' "$STATE/a/events.jsonl"
ok $? "events.jsonl records RESUME"
grep -q '"event":"RESUME"' "$T/a.err"
ok $? "--events prints events to stderr"
reply=$(ctl a '{"status": null}')
is "$(python3 -c 'import json,sys; r=json.loads(sys.argv[1])["return"]; print(r["state"], r["qemu_state"], [v["affinity"] for v in r["vcpus"]])' "$reply")" \
	"running running ['0', '1']" "control status: state, QEMU state, live vCPU affinities"
reply=$(ctl a '{"qmp": {"execute": "query-status"}}')
is "$reply" '{"return":{"status":"running","running":true,"singlestep":false}}' "control qmp proxies the reply"
reply=$(ctl a '{"qmp": {"execute": "no-such-command"}}')
case $reply in *'"class":"CommandNotFound"'*) r=0 ;; *) r=1 ;; esac
ok $r "control qmp passes QEMU's error class"
reply=$(ctl a 'not json')
case $reply in '{"error":{"class":"VmrunError"'*) r=0 ;; *) r=1 ;; esac
ok $r "malformed request gets an error reply"

# requests sent at once, then the end of input: every one is answered
replies=$(python3 - "$STATE/a/control.sock" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(sys.argv[1])
s.sendall(b'{"status": null}\n{"qmp": {"execute": "query-status"}}\n{"status": null}\n')
s.shutdown(socket.SHUT_WR)
buf = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    buf += d
print(" ".join(list(json.loads(l))[0] for l in buf.decode().splitlines()))
EOF
)
is "$replies" "return return return" "pipelined requests before EOF: one reply each"

# a client that sends requests and never reads the replies: the supervisor
# stops taking its requests instead of queueing replies without bound, so
# most of what the client sent is still unread in its socket (SIOCOUTQ)
unread=$(python3 - "$STATE/a/control.sock" <<'EOF'
import fcntl, socket, struct, sys, termios, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.setblocking(False)
data = b"{}\n" * 100000  # 300 KB of requests, about 9 MB of error replies
sent = 0
end = time.time() + 5
while sent < len(data) and time.time() < end:
    try:
        sent += s.send(data[sent:sent + 65536])
    except BlockingIOError:
        time.sleep(0.05)
time.sleep(0.5)  # what the supervisor takes of them, it takes meanwhile
outq = struct.unpack("i", fcntl.ioctl(s, termios.TIOCOUTQ, b"\0" * 4))[0]
print("%d of %d" % (outq, sent))
EOF
)
[ "${unread%% *}" -ge 65536 ]
ok $? "a client not reading its replies: its further requests wait unread ($unread bytes)"
reply=$(ctl a '{"status": null}')
case $reply in '{"return":{"guest":"a"'*) r=0 ;; *) r=1 ;; esac
ok $r "and the control socket still answers"

# a console client: sees output, and its input reaches the guest
python3 - "$STATE/a/console.sock" >"$T/console.txt" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"hello guest\n")
buf = b""
end = time.time() + 10
while b"echo: hello guest" not in buf and time.time() < end:
    d = s.recv(4096)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode(errors="replace"))
EOF
wait $!
grep -q "echo: hello guest" "$T/console.txt"
ok $? "console client input reaches the guest and its output comes back"

# two clients: both see the output, only the first one's input reaches the guest
python3 - "$STATE/a/console.sock" >"$T/console2.txt" <<'EOF'
import socket, sys, time
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[1])
    return s
first = conn()
time.sleep(0.2)  # connection order decides the writer
second = conn()
time.sleep(0.2)
second.sendall(b"from second\n")
first.sendall(b"from first\n")
def read_until(s, marker):
    buf = b""
    end = time.time() + 10
    while marker not in buf and time.time() < end:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    return buf
a = read_until(first, b"echo: from first")
b = read_until(second, b"echo: from first")
print("first-sees-echo" if b"echo: from first" in a else "first-missed")
print("second-sees-echo" if b"echo: from first" in b else "second-missed")
print("second-typed" if b"from second" in a + b else "second-ignored")
EOF
is "$(tr '\n' ' ' <"$T/console2.txt")" "first-sees-echo second-sees-echo second-ignored " \
	"every console client reads; only the oldest one types"

# a second supervisor for the same guest fails clearly
"$VMRUN" --state-dir "$STATE" run "$T/a.yaml" a >/dev/null 2>"$T/a2.err"
is "$?" 1 "second supervisor exits 1"
grep -q "^vmrun: error: guest 'a' is already running (supervisor pid ${RUN_PID[a]})" "$T/a2.err"
ok $? "second supervisor names the running one"
[ -S "$STATE/a/control.sock" ] && [ -e "$STATE/a/ready" ]
ok $? "the running guest is untouched by the second attempt"

kill -TERM "${RUN_PID[a]}"
run_wait_exit a 20
is "$RC" 0 "SIGTERM: guest powers off on ACPI, exit 0"
torn_down a
ok $? "sockets, ready file and journal cleaned up"
is "$(json_get "$STATE/a/status.json" '(j["state"], j["exit_status"])')" "('exited', 0)" "status.json records the exit"

# --- qemu_user: QEMU runs as that user, without capabilities
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	printf '[vmrun]\nqemu_user = nobody\nimage_dir = %s\n' "$T/images" >"$T/u.conf"
	guest u 0-1 5 "report=$T/pub/u.report"
	# and the files QEMU opens itself: a root overlay, a blank disk, the seed
	if command -v qemu-img >/dev/null; then
		qemu-img create -q -f qcow2 "$T/ubase.qcow2" 16M
		cat >>"$T/u.yaml" <<EOF
    image: $T/ubase.qcow2
    disks:
      - file: $T/pub/data.qcow2
        size: 8M
    cloud_init: true
EOF
	fi
	: >"$T/u.err"
	"$VMRUN" --config "$T/u.conf" --state-dir "$STATE" run "$T/u.yaml" u \
		>/dev/null 2>>"$T/u.err" &
	RUN_PID[u]=$!
	run_wait_ready u u 20
	r=$?
	ok $r "guest with qemu_user ready"
	[ $r -ne 0 ] && sed 's/^/# /' "$T/u.err"
	is "$(json_get "$T/pub/u.report" 'j["status"]["Uid"].split()')" "['65534', '65534', '65534', '65534']" \
		"QEMU runs as nobody (real, effective, saved, fs uid)"
	is "$(json_get "$T/pub/u.report" 'j["status"]["CapBnd"]')" "0000000000000000" \
		"QEMU's capability bounding set is empty"
	is "$(stat -c '%a %U %G' "$STATE/u")" "700 root root" "state directory 0700, root's: QEMU gets nothing there by name"
	if command -v qemu-img >/dev/null; then
		is "$(json_get "$T/pub/u.report" 'sorted(v for k, v in j["files"].items() if k.startswith("/dev/fdset/"))')" \
			"['ok', 'ok', 'ok']" \
			"QEMU as nobody gets its overlay, blank disk (read-write) and seed (read-only) as fd sets"
		is "$(json_get "$T/pub/u.report" '[a for a in j["argv"] if a.startswith("{") and "\"filename\"" in a and "/dev/fdset/" not in a]')" \
			"[]" "no file vmrun made is opened by name"
		is "$(json_get "$T/pub/u.report" 'j["fds"]')" "[0, 1, 2, 3, 4, 5, 6, 7]" \
			"QEMU holds fds 0-2, QMP, console and the three files"
		is "$(stat -c '%U' "$T/images/u/root.qcow2" "$T/pub/data.qcow2" "$T/ubase.qcow2" | sort -u)" \
			"root" "the disks vmrun made and the base stay root's"
	else
		skip "qemu-img is missing" "qemu_user: disks and seed readable by QEMU"
	fi
	kill -TERM "${RUN_PID[u]}"
	run_wait_exit u 20
	is "$RC" 0 "guest with qemu_user stops cleanly"
else
	skip "needs root and a user 'nobody'" "qemu_user"
fi

# --- sandbox = false: no filter (for debugging); teardown as usual
printf '[vmrun]\nsandbox = false\n' >"$T/nosandbox.conf"
guest s 0 5
: >"$T/s.err"
"$VMRUN" --config "$T/nosandbox.conf" --state-dir "$STATE" run "$T/s.yaml" s >/dev/null 2>>"$T/s.err" &
RUN_PID[s]=$!
run_wait_ready s s 20
ok $? "guest with sandbox = false ready"
is "$(awk '/^Seccomp:/ { print $2 }' "/proc/${RUN_PID[s]}/status")" 0 "sandbox = false: the supervisor loads no filter"
kill -TERM "${RUN_PID[s]}"
run_wait_exit s 20
is "$RC" 0 "and stops cleanly"

# --- qemu_user = root: QEMU stays root, with CAP_IPC_LOCK only in its bounding set
if [ "$(id -u)" -eq 0 ]; then
	printf '[vmrun]\nqemu_user = root\n' >"$T/root.conf"
	guest rt 0 5 "report=$P/rt.report"
	: >"$T/rt.err"
	"$VMRUN" --config "$T/root.conf" --state-dir "$STATE" run "$T/rt.yaml" rt >/dev/null 2>>"$T/rt.err" &
	RUN_PID[rt]=$!
	run_wait_ready rt rt 20
	ok $? "guest with qemu_user = root ready"
	is "$(json_get "$P/rt.report" '(j["status"]["Uid"].split()[0], j["status"]["CapBnd"])')" \
		"('0', '0000000000004000')" "qemu_user = root: QEMU is root and keeps only CAP_IPC_LOCK"
	kill -TERM "${RUN_PID[rt]}"
	run_wait_exit rt 20
	is "$RC" 0 "and stops cleanly"
else
	skip "needs root" "qemu_user = root"
fi

# --- image: a root overlay on the base, prepared by the supervisor and on QEMU's command line
if command -v qemu-img >/dev/null; then
	qemu-img create -q -f qcow2 "$T/base.qcow2" 16M
	printf '[vmrun]\nimage_dir = %s\n' "$T/images" >"$T/img.conf"
	guest r 0 5 "report=$P/r.report"
	echo "    image: $T/base.qcow2" >>"$T/r.yaml"
	: >"$T/r.err"
	"$VMRUN" --config "$T/img.conf" --state-dir "$STATE" run "$T/r.yaml" r >/dev/null 2>>"$T/r.err" &
	RUN_PID[r]=$!
	run_wait_ready r r 20
	ok $? "guest with image: ready"
	is "$(qemu-img info --output=json "$T/images/r/root.qcow2" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["backing-filename"])')" \
		"$T/base.qcow2" "root overlay made on the base"
	is "$(json_get "$P/r.report" '[json.loads(a)["filename"] for a in j["argv"] if a.startswith("{") and json.loads(a).get("driver") == "file"]')" \
		"['/dev/fdset/5']" "QEMU's command line has the overlay as an fd set, not the base"
	is "$(json_get "$P/r.report" 'j["files"]')" "{'/dev/fdset/5': 'ok'}" "the overlay's fd is read-write"
	kill -TERM "${RUN_PID[r]}"
	run_wait_exit r 20
	is "$RC" 0 "guest with image: stops cleanly"
else
	skip "qemu-img is missing" "image: root overlay"
fi

# --- the guest powers itself off
guest b 1 5 "poweroff_after=0.2"
run_start b "$T/b.yaml" b
run_wait_exit b 20
is "$RC" 0 "guest powered itself off: exit 0"

# --- ACPI ignored and quit ignored: escalation ends with SIGKILL
guest c 0 1 "acpi=ignore" "quit=ignore"
run_start c "$T/c.yaml" c
run_wait_ready c c 20
ok $? "guest c ready"
kill -TERM "${RUN_PID[c]}"
run_wait_exit c 20
is "$RC" 143 "guest ignoring ACPI and quit: stopped by SIGKILL, exit 143"
grep -q "no poweroff within 1 s: sending quit" "$T/c.err" && grep -q "QEMU did not quit: killing QEMU" "$T/c.err"
ok $? "escalation steps are logged"
torn_down c
ok $? "teardown after escalation"

# --- second SIGTERM skips the wait
guest d 0 600 "acpi=ignore"
run_start d "$T/d.yaml" d
run_wait_ready d d 20
ok $? "guest d ready"
kill -TERM "${RUN_PID[d]}"
run_wait_grep "$T/d.err" "pressing the ACPI power button" 10
kill -TERM "${RUN_PID[d]}"
run_wait_exit d 20
is "$RC" 143 "second SIGTERM escalates at once, exit 143"
grep -q "second SIGTERM, not waiting: sending quit" "$T/d.err"
ok $? "second signal logged"

# --- QEMU frozen with SIGSTOP: QMP deadlines pass, SIGKILL still ends it
guest f 0 1
run_start f "$T/f.yaml" f
run_wait_ready f f 20
ok $? "guest f ready"
kill -STOP "$(qemu_pid f)"
kill -TERM "${RUN_PID[f]}"
run_wait_exit f 30
is "$RC" 143 "stopped QEMU: escalated to SIGKILL, exit 143"
grep -q "QEMU did not quit: killing QEMU" "$T/f.err"
ok $? "escalation reached SIGKILL"
torn_down f
ok $? "teardown after a frozen QEMU"

# --- QEMU killed with SIGKILL -> 137; control kill -> 137
guest e 0-1 5
run_start e "$T/e.yaml" e
run_wait_ready e e 20
ok $? "guest e ready"
kill -KILL "$(qemu_pid e)"
run_wait_exit e 20
is "$RC" 137 "QEMU killed by SIGKILL: exit 137"
torn_down e
ok $? "teardown after QEMU died"
run_start e "$T/e.yaml" e
run_wait_ready e e 20
ok $? "guest e ready again"
is "$(ctl e '{"kill": null}')" '{"return":{}}' "control kill accepted"
run_wait_exit e 20
is "$RC" 137 "control kill: exit 137"

# --- QEMU told to stop from outside (SIGTERM to QEMU): not a guest poweroff
run_start e "$T/e.yaml" e
run_wait_ready e e 20
kill -TERM "$(qemu_pid e)"
run_wait_exit e 20
is "$RC" 143 "QEMU terminated by the host: exit 143"

# --- QEMU's own end, as documented: a non-zero exit is 3, whatever the
# code; exit 0 without a guest poweroff is 143; death by signal N is 128+N
for code in 1 2 3 126 127 128 137 143 255; do
	guest g 0 5 "exit_after=0.1:$code"
	run_start g "$T/g.yaml" g
	run_wait_exit g 20
	is "$RC" 3 "QEMU exits $code while running: exit 3"
done
grep -q "^vmrun: guest 'g': QEMU exited with status 255, exit status 3$" "$T/g.err"
ok $? "QEMU's own status is logged"
guest g 0 5 "exit_after=0.1:0"
run_start g "$T/g.yaml" g
run_wait_exit g 20
is "$RC" 143 "QEMU exits 0 without SHUTDOWN from the guest: exit 143"
for sig in USR1 ALRM; do
	run_start e "$T/e.yaml" e
	run_wait_ready e e 20
	kill -"$sig" "$(qemu_pid e)"
	run_wait_exit e 20
	is "$RC" $((128 + $(kill -l "$sig"))) "QEMU killed by SIG$sig: exit 128+$(kill -l "$sig")"
done
guest g 0 5 "panic_after=0.1"
run_start g "$T/g.yaml" g
run_wait_exit g 20
is "$RC" 4 "guest panic: exit 4"
grep -q '"event":"GUEST_PANICKED"' "$STATE/g/events.jsonl"
ok $? "the panic is in events.jsonl"

# --- not PID 1: QEMU's orphans still come to the supervisor (a child
# subreaper), which reaps them
guest w 0 5 "report=$P/w.report" "orphan=1"
run_start w "$T/w.yaml" w
run_wait_ready w w 20
ok $? "guest w ready"
run_wait_grep "$P/w.report.orphan" "[0-9]" 10
orphan=$(cat "$P/w.report.orphan")
for ((i = 0; i < 100; i++)); do
	ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$orphan/status" 2>/dev/null)
	[ "$ppid" = "${RUN_PID[w]}" ] && break
	sleep 0.01
done
is "$ppid" "${RUN_PID[w]}" "QEMU's orphan is re-parented to the supervisor"
for ((i = 0; i < 100; i++)); do
	[ -e "/proc/$orphan" ] || break
	sleep 0.05
done
[ ! -e "/proc/$orphan" ]
ok $? "and reaped when it exits (no zombie left)"
kill -TERM "${RUN_PID[w]}"
run_wait_exit w 20
is "$RC" 0 "guest w stops cleanly"

# --- startup failures: exit 1, nothing left
guest h 0 5 "startup=exit1"
run_start h "$T/h.yaml" h
run_wait_exit h 20
is "$RC" 1 "QEMU failing at startup: exit 1"
grep -q "^vmrun: error: guest 'h': QEMU exited with status 1 before the guest was ready$" "$T/h.err" &&
	one_error "$T/h.err"
ok $? "startup failure names QEMU's exit, once"
torn_down h
ok $? "nothing left after a startup failure"
is "$(json_get "$STATE/h/status.json" '(j["state"], j["exit_status"])')" "('exited', 1)" \
	"status.json records the startup failure"

guest i 0-1 5 "threads=single"
run_start i "$T/i.yaml" i
run_wait_exit i 20
is "$RC" 1 "shared vCPU thread: exit 1"
grep -q "^vmrun: error: guest 'i': vCPU threads are not distinct (TCG thread=single?): cannot pin$" "$T/i.err" &&
	one_error "$T/i.err"
ok $? "shared vCPU thread refused with one clear message"
torn_down i
ok $? "nothing left after a pinning failure"

# a QEMU that never greets: SIGTERM is handled during startup, not after
# the greeting deadline
guest n 0 5 "greeting=never"
run_start n "$T/n.yaml" n
run_wait_grep "$STATE/n/status.json" '"state": "starting"' 20
ok $? "guest n started, waiting for QMP"
kill -TERM "${RUN_PID[n]}"
run_wait_exit n 10
is "$RC" 143 "SIGTERM while waiting for the greeting: exit 143"
grep -q "^vmrun: guest 'n': stopped before it ran, exit status 143$" "$T/n.err"
ok $? "stop before the guest ran is logged"
torn_down n
ok $? "nothing left after a stop during startup"

# a monitor that stops answering during startup (stuck, or QEMU stopped):
# SIGTERM ends the start at once, not after the command's 30 s deadline
for stuck in mute=qmp_capabilities mute=query-cpus-fast freeze=cont; do
	cmd=${stuck#*=}
	rm -f "$P/o.cmds"
	guest o 0 5 "cmdlog=$P/o.cmds" "$stuck"
	run_start o "$T/o.yaml" o
	run_wait_grep "$P/o.cmds" "^$cmd\$" 20
	ok $? "$stuck: QEMU got '$cmd' during startup"
	q=$(qemu_pid o)
	kill -TERM "${RUN_PID[o]}"
	run_wait_exit o 10
	is "$RC" 143 "$stuck: SIGTERM while waiting for '$cmd': exit 143"
	pid_gone "$q" 1
	ok $? "$stuck: QEMU is gone"
	torn_down o
	ok $? "$stuck: nothing left"
done

VMRUN_QEMU=/nonexistent/qemu run_start j "$T/b.yaml" b
run_wait_exit j 20
is "$RC" 1 "missing QEMU binary: exit 1"
grep -q "^vmrun: error: guest 'b': exec '/nonexistent/qemu': No such file or directory$" "$T/j.err" &&
	one_error "$T/j.err"
ok $? "exec failure reported once"

guest k 7 5
run_start k "$T/k.yaml" k
run_wait_exit k 20
is "$RC" 2 "cpuset outside the allowed CPUs: exit 2"
grep -q "^vmrun: error: guest 'k': cpuset '7': CPU 7 is not available here" "$T/k.err" &&
	one_error "$T/k.err"
ok $? "one error naming the CPU"
[ ! -e "$STATE/k" ]
ok $? "nothing created for an invalid cpuset"

guest x 0 5
printf '    kernel: no-such-vmlinuz\n' >>"$T/x.yaml"
run_start x "$T/x.yaml" x
run_wait_exit x 20
is "$RC" 2 "missing kernel: exit 2"
grep -q "^vmrun: error: guest 'x': kernel '$T/no-such-vmlinuz': No such file or directory$" "$T/x.err" &&
	one_error "$T/x.err"
ok $? "one error naming the kernel, resolved from the topology's directory"
[ ! -e "$STATE/x" ]
ok $? "nothing created for a missing kernel"

# --- a read-only state directory: vmrun fails closed, before QEMU starts
if [ "$(id -u)" -eq 0 ] && unshare -m --propagation private true 2>/dev/null; then
	mkdir -p "$T/ro"
	guest q 0 5 "poweroff_after=0.1"
	"$VMRUN" --state-dir "$T/ro/state" run "$T/q.yaml" q >/dev/null 2>&1
	is "$?" 0 "guest q ran once, leaving its state directory"
	guest q 0 5 "report=$P/q.report"
	# ro_run STATE: `vmrun run` in a mount namespace of its own where $T/ro is read-only
	ro_run() {
		# shellcheck disable=SC2016 # the inner bash expands $1 and $@
		unshare -m --propagation private bash -c \
			'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' \
			- "$T/ro" "$VMRUN" --state-dir "$1" run "$T/q.yaml" q
	}
	ro_run "$T/ro/state" >/dev/null 2>"$T/q1.err"
	is "$?" 1 "read-only guest state directory: exit 1"
	grep -q "^vmrun: error: lock '$T/ro/state/q/lock': Read-only file system$" "$T/q1.err" &&
		one_error "$T/q1.err"
	ok $? "one error naming the lock file"
	ro_run "$T/ro/new" >/dev/null 2>"$T/q2.err"
	is "$?" 1 "read-only state root: exit 1"
	grep -q "^vmrun: error: create state directory '$T/ro/new': Read-only file system$" "$T/q2.err" &&
		one_error "$T/q2.err"
	ok $? "one error naming the state directory"
	grep -q "^vmrun: hint: choose a state directory this user can write: --state-dir DIR or VMRUN_STATE_DIR$" \
		"$T/q2.err"
	ok $? "and a hint saying how to choose another"
	[ ! -e "$P/q.report" ]
	ok $? "QEMU was never started"
else
	skip "needs root and unshare -m" "read-only state directory"
fi

# --- a console client that never reads must not stall the supervisor
guest l 0 5 "flood=4000000"
run_start l "$T/l.yaml" l
run_wait_ready l l 20
ok $? "guest l ready"
python3 - "$STATE/l/console.sock" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(30)
EOF
stuck=$!
run_wait_grep "$STATE/l/console.log" "flood done" 20
ok $? "output keeps flowing to console.log past a stuck client"
reply=$(ctl l '{"status": null}')
case $reply in '{"return":{"guest":"l"'*) r=0 ;; *) r=1 ;; esac
ok $r "control socket answers while a console client is stuck"
kill "$stuck" 2>/dev/null
kill -TERM "${RUN_PID[l]}"
run_wait_exit l 20
is "$RC" 0 "guest l stops cleanly"
[ -s "$STATE/l/console.log.1" ] && [ "$(stat -c %s "$STATE/l/console.log")" -le $((1 << 20)) ]
ok $? "console.log is capped and rotated"

# --- stdout a pipe nobody reads (a stuck `docker logs`): the supervisor
# drops console output for it rather than waiting
mkfifo "$T/stuck.fifo"
exec 7<>"$T/stuck.fifo" # holds the read end open, never reads
guest l2 0 5 "flood=4000000"
: >"$T/l2.err"
"$VMRUN" --state-dir "$STATE" run "$T/l2.yaml" l2 >"$T/stuck.fifo" 2>>"$T/l2.err" &
RUN_PID[l2]=$!
run_wait_ready l2 l2 20
ok $? "guest l2 ready with stdout a pipe nobody reads"
run_wait_grep "$STATE/l2/console.log" "flood done" 20
ok $? "console.log gets everything while stdout is stuck"
reply=$(ctl l2 '{"status": null}')
case $reply in '{"return":{"guest":"l2"'*) r=0 ;; *) r=1 ;; esac
ok $r "control socket answers while stdout is stuck"
kill -TERM "${RUN_PID[l2]}"
run_wait_exit l2 20
is "$RC" 0 "guest l2 stops cleanly"
exec 7<&-

# --- supervisor killed with SIGKILL: QEMU dies with it, the next run starts
guest m 0 5 "report=$P/m.report"
run_start m "$T/m.yaml" m
run_wait_ready m m 20
ok $? "guest m ready"
qpid=$(qemu_pid m)
kill -KILL "${RUN_PID[m]}"
run_wait_exit m 5
pid_gone "$qpid" 1
ok $? "QEMU gone within 1 s of the supervisor's SIGKILL"
run_start m "$T/m.yaml" m
run_wait_ready m m 20
ok $? "next run of the guest starts over the leftovers"
kill -TERM "${RUN_PID[m]}"
run_wait_exit m 20
is "$RC" 0 "and stops cleanly" || sed 's/^/# /' "$T/m.err"

done_testing
