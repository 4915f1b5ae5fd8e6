#!/usr/bin/env python3
"""Check that QEMU accepts a command line printed by `vmrun args`.

The golden files prove the command line is what we meant; this proves QEMU
means the same.  Usage (as root, inside a scratch network namespace, since
tap fds are made with TUNSETIFF):

    qemu_accept.py WORKDIR < ARGS        (one argument per line)

It provides what `vmrun run` would: every fd the command line names (taps,
with IFF_MULTI_QUEUE for "fds": "a:b"; listening unix sockets for the qmp and
console chardevs), image files at the paths of the -blockdev file nodes
(redirected into WORKDIR; qcow2 made with qemu-img), and it drops what cannot
exist here: vfio-pci devices (no hardware) and -kernel/-initrd/-append (no
kernel needed for a paused guest).  Then it runs QEMU, talks QMP
(qmp_capabilities, query-block, query-pci, quit) and expects exit 0.
Prints one line and exits 0 when QEMU accepted everything.
"""
import fcntl
import json
import os
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
        if a == "-device" and v and v.startswith("{") and json.loads(v)["driver"] == "vfio-pci":
            i += 2
            continue
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
        if formats.get(name) == "qcow2":
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, "64M"], check=True)
        else:
            with open(path, "wb") as f:
                f.truncate(16 << 20)
        renamed[o["filename"]] = path
    for k, a in enumerate(out):
        if a.startswith("{") and out[k - 1] == "-blockdev":
            o = json.loads(a)
            if o["driver"] == "file":
                o["filename"] = renamed[o["filename"]]
                out[k] = json.dumps(o)

    # fds: taps for -netdev tap, listening sockets for the chardevs
    fds, keep, qmp_path = {}, [], None
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
            fds[int(opts["fd"])] = s.fileno()
            if opts["id"] == "qmp":
                qmp_path = path
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
    ndev = sum(len(b["devices"]) for b in replies["query-pci"]["return"])
    print("qemu accepted: %d arguments, %d block devices, %d pci devices"
          % (len(out), len(replies["query-block"]["return"]), ndev))


if __name__ == "__main__":
    main()
