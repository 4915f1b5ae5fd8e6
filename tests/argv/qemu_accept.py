#!/usr/bin/env python3
"""Check that QEMU accepts a command line printed by `vmrun args`.

The golden files prove the command line is what we meant; this proves QEMU
means the same.  Usage (as root, inside a scratch network namespace, since
tap fds are made with TUNSETIFF):

    qemu_accept.py WORKDIR < ARGS        (one argument per line)

It provides what `vmrun run` would: every fd the command line names (taps,
with IFF_MULTI_QUEUE for "fds": "a:b"; listening unix sockets for the qmp and
console chardevs; for a client chardev -- swtpm's control socket -- a
connection to a real swtpm, started here as vmrun starts it; a read-write fd
for each -add-fd), image files at the paths of the -blockdev file nodes
(redirected into WORKDIR; qcow2 made with qemu-img; OVMF's code as it is,
its variables a copy of Debian's template), the VNC unix socket's directory
(redirected into WORKDIR) and a loopback for a TCP one, and it drops what
cannot exist here: vfio-pci and usb-host devices (no hardware; QEMU still
parses -add-fd) and -kernel/-initrd/-append (no kernel needed for a paused
guest).  Then it runs QEMU, talks QMP (qmp_capabilities, query-block,
query-pci, quit) and expects exit 0.  Prints one line and exits 0 when QEMU
accepted everything.
"""
import fcntl
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
IFF_MULTI_QUEUE = 0x0100


def fail(msg):
    print("qemu rejected or failed: " + msg)
    sys.exit(1)


def open_tap(name, multi):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (IFF_MULTI_QUEUE if multi else 0)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
    return fd


def listening_socket(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    return s


OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


class Conn(socket.socket):
    """A connected socket that knows the swtpm behind it."""


def swtpm(work, listener, path):
    """Start swtpm on listener (its control channel) as vmrun does; our connection."""
    state = os.path.join(work, "tpm")
    os.makedirs(state, exist_ok=True)
    subprocess.run(["swtpm_setup", "--tpm2", "--tpmstate", state, "--createek",
                    "--pcr-banks", "sha256", "--not-overwrite"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lfd = listener.fileno()
    proc = subprocess.Popen(["swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + state,
                             "--ctrl", "type=unixio,fd=3", "--terminate"],
                            preexec_fn=lambda: os.dup2(lfd, 3), pass_fds=[3])
    c = Conn(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    c.swtpm = proc
    return c


def main():
    work = sys.argv[1]
    argv = [line.rstrip("\n") for line in sys.stdin]
    if not argv:
        fail("empty command line")

    # pass 1: drop what cannot exist here, collect blockdev nodes
    out, nodes, i = [argv[0]], {}, 1
    while i < len(argv):
        a = argv[i]
        v = argv[i + 1] if i + 1 < len(argv) else None
        if a in ("-kernel", "-initrd", "-append"):
            i += 2
            continue
        if (a == "-device" and v and v.startswith("{")
                and json.loads(v)["driver"] in ("vfio-pci", "usb-host")):
            i += 2
            continue
        if a == "-vnc" and v and v.startswith("unix:"):
            # the state directory is vmrun's: a socket of the same name here
            out += [a, "unix:" + os.path.join(work, "vnc.sock") + v[v.index(".sock") + 5:]]
            i += 2
            continue
        if a == "-vnc" and v:
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        if a == "-blockdev" and v and v.startswith("{"):
            o = json.loads(v)
            nodes[o["node-name"]] = o
        out.append(a)
        i += 1

    # image files: one per file node, in the format of the node above it
    formats = {o["file"]: o["driver"] for o in nodes.values() if isinstance(o.get("file"), str)}
    renamed = {}
    for name, o in nodes.items():
        if o["driver"] != "file":
            continue
        path = os.path.join(work, name + ".img")
        if name == "fw-code-file" and o.get("read-only") and os.path.exists(o["filename"]):
            continue  # OVMF's code, read-only, as installed
        if name == "fw-vars-file":
            # the guest's variables: a copy of the template, flash-sized
            shutil.copyfile(OVMF_VARS, path)
        elif formats.get(name) == "qcow2":
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, "64M"], check=True)
        else:
            with open(path, "wb") as f:
                f.truncate(16 << 20)
        renamed[o["filename"]] = path
    for k, a in enumerate(out):
        if a.startswith("{") and out[k - 1] == "-blockdev":
            o = json.loads(a)
            if o["driver"] == "file" and o["filename"] in renamed:
                o["filename"] = renamed[o["filename"]]
                out[k] = json.dumps(o)

    # fds: taps for -netdev tap, listening sockets for the chardevs
    fds, keep, qmp_path, helpers = {}, [], None, []
    for k, a in enumerate(out):
        prev = out[k - 1]
        if prev == "-netdev" and a.startswith("{"):
            opts = json.loads(a)
            if opts.get("type") != "tap":
                continue
            name = "vt" + opts["id"][4:][:11]
            if "vhost" in opts:
                fail("vhost fds cannot be provided here: render with --vhost off")
            nums = [int(x) for x in (opts.get("fds") or opts["fd"]).split(":")]
            for n in nums:
                fds[n] = open_tap(name, len(nums) > 1)
        if prev == "-chardev" and a.startswith("socket,"):
            opts = dict(kv.split("=", 1) for kv in a.split(",")[1:])
            path = os.path.join(work, opts["id"] + ".sock")
            s = listening_socket(path)
            keep.append(s)
            if opts.get("server") != "on":
                # a client chardev: swtpm's control socket (lib/devices/tpm.c)
                s = swtpm(work, s, path)
                keep.append(s)
                helpers.append(s.swtpm)
            fds[int(opts["fd"])] = s.fileno()
            if opts["id"] == "qmp":
                qmp_path = path
        if prev == "-add-fd":
            opts = dict(kv.split("=", 1) for kv in a.split(","))
            fd = os.open("/dev/null", os.O_RDWR)
            fds[int(opts["fd"])] = fd
    want = sorted(fds)
    if want != list(range(3, 3 + len(want))):
        fail("fds are not 3..N in order: %s" % want)
    if not qmp_path:
        fail("no qmp chardev")

    def child_fds():
        # move each fd to its number, leaving the others to close on exec
        tmp = {n: fcntl.fcntl(fd, fcntl.F_DUPFD, 1000) for n, fd in fds.items()}
        for n, fd in tmp.items():
            os.dup2(fd, n, inheritable=True)

    proc = subprocess.Popen(out, preexec_fn=child_fds, pass_fds=list(range(3, 3 + len(want))),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(30)
    deadline = time.time() + 30
    while True:
        try:
            c.connect(qmp_path)
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                _, err = proc.communicate()
                fail(err.strip() or "qemu exited %s before qmp" % proc.returncode)
            time.sleep(0.05)
    f = c.makefile("rw")
    replies = {}

    def cmd(name, i):
        f.write(json.dumps({"execute": name, "id": i}) + "\n")
        f.flush()
        while True:
            line = f.readline()
            if not line:
                return None
            m = json.loads(line)
            if m.get("id") == i:
                return m

    f.readline()  # greeting
    for i, name in enumerate(["qmp_capabilities", "query-block", "query-pci"]):
        try:
            replies[name] = cmd(name, i)
        except OSError as e:
            replies[name] = str(e)
        if not isinstance(replies[name], dict) or "error" in replies[name]:
            proc.kill()
            _, err = proc.communicate()
            fail("%s: %s %s" % (name, replies[name], err.strip()))
    try:
        cmd("quit", 99)
    except OSError:
        pass  # QEMU may reset the connection as it exits (ECONNRESET, not EOF)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("qemu did not quit")
    if proc.returncode != 0:
        fail("exit status %d: %s" % (proc.returncode, err.strip()))
    for h in helpers:
        try:
            h.wait(timeout=10)  # swtpm --terminate: gone with QEMU's connection
        except subprocess.TimeoutExpired:
            h.kill()
            fail("swtpm did not end with QEMU")
    ndev = sum(len(b["devices"]) for b in replies["query-pci"]["return"])
    print("qemu accepted: %d arguments, %d block devices, %d pci devices"
          % (len(out), len(replies["query-block"]["return"]), ndev))


if __name__ == "__main__":
    main()
