#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A stand-in for qemu-system-x86_64 in the supervisor's fault tests.

It takes the argv vmrun builds, serves QMP on the listening socket passed as
`-chardev socket,id=qmp,fd=N` and a console on `id=console,fd=M`, and runs
one vCPU thread per `-smp` CPU.  Behaviour is chosen with `-fake KEY=VALUE`
arguments (a guest's qemu_args), since vmrun gives QEMU no environment:

  report=PATH        write what the process inherited (fds, status fields) and
                     whether it can open its -blockdev files, as JSON
  startup=exit1      exit 1 before the QMP greeting
  greeting=never     accept the QMP connection but never greet
  threads=single     report one thread id for every vCPU (like tcg,thread=single)
  acpi=ignore        system_powerdown only emits POWERDOWN (default: power off)
  quit=ignore        answer quit but keep running
  mute=CMD           never answer CMD (a QEMU whose monitor is stuck)
  freeze=CMD         stop itself with SIGSTOP on receiving CMD
  cmdlog=PATH        append the name of every QMP command received to PATH
  orphan=S           after cont, leave a double-forked orphan that exits S
                     seconds later (its pid in REPORT.orphan)
  poweroff_after=S   the guest powers itself off S seconds after cont
  exit_after=S:CODE  exit with CODE S seconds after cont
  panic_after=S      the guest panics S seconds after cont (GUEST_PANICKED,
                     SHUTDOWN guest-panic, exit 0: QEMU's default panic action)
  flood=BYTES        after cont, write BYTES of console output
  watchdog_after=S:ACTION  the guest's watchdog fires S seconds after cont
                     (WATCHDOG event): ACTION reset resets the guest (RESET),
                     poweroff exits 0 at once without SHUTDOWN, as QEMU 7.2
                     does with -action watchdog=poweroff
"""
import errno
import fcntl
import json
import os
import select
import signal
import socket
import sys
import threading
import time

START = time.monotonic()


def snapshot_fds():
    # first thing, before we open anything; the listing's own fd is closed
    # again by the time fstat runs, which filters it out
    out = []
    for f in os.listdir("/proc/self/fd"):
        try:
            os.fstat(int(f))
            out.append(int(f))
        except OSError:
            pass
    return sorted(out)


FDS_AT_START = snapshot_fds()


def status_fields():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("NoNewPrivs", "SigBlk", "SigIgn", "Uid", "Cpus_allowed_list", "CapBnd",
                     "Seccomp"):
                out[k] = v.strip()
    return out


def parse_args(argv):
    fake, fds, smp, name = {}, {}, 1, None
    i = 1
    while i < len(argv):
        a = argv[i]
        v = argv[i + 1] if i + 1 < len(argv) else ""
        if a == "-fake":
            k, _, val = v.partition("=")
            fake[k] = val
            i += 2
        elif a == "-chardev":
            opts = dict(o.partition("=")[::2] for o in v.split(",")[1:])
            if "fd" in opts:
                fds[opts.get("id")] = int(opts["fd"])
            i += 2
        elif a == "-smp":
            smp = int(v.split(",")[0])
            i += 2
        elif a == "-name":
            name = v.split(",")[0]
            i += 2
        else:
            i += 1
    return fake, fds, smp, name


fake, chardev_fds, smp, name = parse_args(sys.argv)

def fd_sets(argv):
    # -add-fd fd=N,set=S,opaque=X: the fds of each set
    sets = {}
    for i, a in enumerate(argv[:-1]):
        if a == "-add-fd":
            opts = dict(o.partition("=")[::2] for o in argv[i + 1].split(","))
            sets.setdefault(int(opts["set"]), []).append(int(opts["fd"]))
    return sets


def open_files(argv):
    # what QEMU would open itself: each -blockdev file, read-only or not;
    # "ok" or the errno name, by path.  /dev/fdset/S as QEMU 7.2 does it:
    # an fd of set S whose access mode is the one asked for, else EACCES
    out = {}
    sets = fd_sets(argv)
    for i, a in enumerate(argv[:-1]):
        if a != "-blockdev" or not argv[i + 1].startswith("{"):
            continue
        b = json.loads(argv[i + 1])
        if b.get("driver") != "file":
            continue
        want = os.O_RDONLY if b.get("read-only") else os.O_RDWR
        name = b["filename"]
        if name.startswith("/dev/fdset/"):
            modes = []
            for fd in sets.get(int(name[len("/dev/fdset/"):]), []):
                try:
                    modes.append(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE)
                except OSError:
                    pass
            out[name] = "ok" if want in modes else "EACCES"
            continue
        try:
            os.close(os.open(name, want))
            out[name] = "ok"
        except OSError as e:
            out[name] = errno.errorcode.get(e.errno, str(e.errno))
    return out


if "report" in fake:
    with open(fake["report"] + ".tmp", "w") as f:
        json.dump({"fds": FDS_AT_START, "status": status_fields(), "env": dict(os.environ),
                   "argv": sys.argv, "pid": os.getpid(), "ppid": os.getppid(),
                   "files": open_files(sys.argv)}, f)
    os.rename(fake["report"] + ".tmp", fake["report"])

if fake.get("startup") == "exit1":
    sys.stderr.write("fakeqemu: failing at startup as asked\n")
    sys.exit(1)

vcpu_tids = []
tid_lock = threading.Lock()


def vcpu(i):
    with tid_lock:
        vcpu_tids.append((i, threading.get_native_id()))
    while True:
        time.sleep(3600)


for i in range(smp):
    threading.Thread(target=vcpu, args=(i,), daemon=True).start()
while len(vcpu_tids) < smp:
    time.sleep(0.001)

qmp_listen = socket.socket(fileno=chardev_fds["qmp"])
con_listen = socket.socket(fileno=chardev_fds["console"])
qmp = None
con = None
qmp_buf = b""
running = False
timers = []  # (when, fn)
exiting = None


def send(obj):
    if qmp is not None:
        try:
            qmp.sendall(json.dumps(obj).encode() + b"\r\n")
        except OSError:
            pass


def event(name_, data=None):
    now = time.time()
    e = {"event": name_, "timestamp": {"seconds": int(now), "microseconds": int(now % 1 * 1e6)}}
    if data is not None:
        e["data"] = data
    send(e)


def console_write(data):
    if con is not None:
        try:
            con.sendall(data)
        except OSError:
            pass


def shutdown(guest, reason, code=0):
    global exiting
    event("SHUTDOWN", {"guest": guest, "reason": reason})
    exiting = code


def on_sigterm(signum, frame):
    shutdown(False, "host-signal")


signal.signal(signal.SIGTERM, on_sigterm)
signal.signal(signal.SIGINT, on_sigterm)


def make_orphan():
    pid = os.fork()
    if pid == 0:
        gpid = os.fork()
        if gpid == 0:
            time.sleep(float(fake["orphan"]))
            os._exit(0)
        if "report" in fake:
            with open(fake["report"] + ".orphan", "w") as f:
                f.write("%d\n" % gpid)
        os._exit(0)
    os.waitpid(pid, 0)


def after_cont():
    console_write(b"fakeqemu: guest running\r\n")
    if "orphan" in fake:
        make_orphan()
    if "poweroff_after" in fake:
        timers.append((time.monotonic() + float(fake["poweroff_after"]),
                       lambda: (console_write(b"fakeqemu: powering off\r\n"),
                                shutdown(True, "guest-shutdown"))))
    if "panic_after" in fake:
        timers.append((time.monotonic() + float(fake["panic_after"]),
                       lambda: (event("GUEST_PANICKED", {"action": "poweroff"}),
                                shutdown(True, "guest-panic"))))
    if "exit_after" in fake:
        secs, _, code = fake["exit_after"].partition(":")
        timers.append((time.monotonic() + float(secs), lambda: os._exit(int(code))))
    if "watchdog_after" in fake:
        secs, _, action = fake["watchdog_after"].partition(":")

        def fire():
            event("WATCHDOG", {"action": action})
            if action == "poweroff":
                os._exit(0)
            event("RESET", {"guest": True, "reason": "guest-reset"})
        timers.append((time.monotonic() + float(secs), fire))
    if "flood" in fake:
        left = int(fake["flood"])
        chunk = b"x" * 1023 + b"\n"
        while left > 0:
            console_write(chunk[:left])
            left -= len(chunk)
        console_write(b"fakeqemu: flood done\r\n")


def command(msg):
    global running
    cmd = msg.get("execute")
    mid = msg.get("id")

    def ret(value):
        r = {"return": value}
        if mid is not None:
            r["id"] = mid
        send(r)

    if "cmdlog" in fake:
        with open(fake["cmdlog"], "a") as f:
            f.write("%s\n" % cmd)
    if fake.get("freeze") == cmd:
        os.kill(os.getpid(), signal.SIGSTOP)
    if fake.get("mute") == cmd:
        return
    if cmd == "qmp_capabilities":
        ret({})
    elif cmd == "query-cpus-fast":
        tids = sorted(vcpu_tids)
        if fake.get("threads") == "single":
            tids = [(i, tids[0][1]) for i, _ in tids]
        ret([{"cpu-index": i, "thread-id": t, "target": "x86_64",
              "qom-path": "/machine/unattached/device[%d]" % i} for i, t in tids])
    elif cmd == "cont":
        running = True
        event("RESUME")
        ret({})
        after_cont()
    elif cmd == "query-status":
        ret({"status": "running" if running else "prelaunch", "running": running,
             "singlestep": False})
    elif cmd == "system_powerdown":
        event("POWERDOWN")
        ret({})
        if fake.get("acpi") != "ignore":
            console_write(b"fakeqemu: powering off\r\n")
            shutdown(True, "guest-shutdown")
    elif cmd == "quit":
        ret({})
        if fake.get("quit") != "ignore":
            shutdown(False, "host-qmp-quit")
    else:
        e = {"error": {"class": "CommandNotFound", "desc": "The command %s has not been found" % cmd}}
        if mid is not None:
            e["id"] = mid
        send(e)


while exiting is None:
    rl = [qmp_listen, con_listen] + [s for s in (qmp, con) if s is not None]
    now = time.monotonic()
    timeout = min([w - now for w, _ in timers] + [1.0])
    try:
        r, _, _ = select.select(rl, [], [], max(timeout, 0))
    except InterruptedError:
        continue
    for w, fn in list(timers):
        if time.monotonic() >= w:
            timers.remove((w, fn))
            fn()
    for s in r:
        if s is qmp_listen:
            qmp, _ = qmp_listen.accept()
            if fake.get("greeting") == "never":
                continue
            send({"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0},
                                      "package": "fakeqemu"}, "capabilities": ["oob"]}})
        elif s is con_listen:
            con, _ = con_listen.accept()
        elif s is qmp:
            data = qmp.recv(65536)
            if not data:
                qmp.close()
                qmp = None
                continue
            qmp_buf += data
            while b"\n" in qmp_buf:
                line, _, qmp_buf = qmp_buf.partition(b"\n")
                if line.strip():
                    command(json.loads(line))
        elif s is con:
            data = con.recv(4096)
            if not data:
                con.close()
                con = None
                continue
            console_write(b"echo: " + data)
sys.exit(exiting)
