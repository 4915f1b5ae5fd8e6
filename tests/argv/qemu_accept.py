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
its variables a copy of Debian's template), a loopback for a TCP VNC server
(`-vnc none`, whose clients the supervisor passes as fds, needs nothing), a vhost-user backend
for the vhost-user NICs (dpdk-testpmd as nobody, its sockets redirected
into WORKDIR; exit 77 "skip: ..." without it), and it drops what cannot
exist here: vfio-pci and usb-host devices (no hardware; QEMU still parses
-add-fd), -kernel/-initrd/-append (no kernel needed for a paused guest) and
a memory backend's hugetlb when the host has too few free hugepages (the
suite must not reserve them: that is machine-wide;
tests/integration/hugepages.sh runs a guest in them).  Then it runs QEMU,
talks QMP (qmp_capabilities, query-block, query-pci, quit) and expects exit
0.  Prints one line and exits 0 when QEMU accepted everything.
"""
import atexit
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


BACKEND = [None]  # the vhost-user backend, ended on any exit


def end_backend():
    tp = BACKEND[0]
    if tp and tp.poll() is None:
        tp.send_signal(2)
        try:
            tp.wait(timeout=30)
        except subprocess.TimeoutExpired:
            tp.kill()
            tp.wait()


atexit.register(end_backend)


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


def skip(msg):
    print("skip: " + msg)
    sys.exit(77)


def chardev_opts(a):
    """socket,K=V,... with QemuOpts' ",," for a comma in a value"""
    items, cur, i = [], "", 0
    while i < len(a):
        if a[i] == "," and a[i + 1:i + 2] == ",":
            cur += ","
            i += 2
            continue
        if a[i] == ",":
            items.append(cur)
            cur = ""
        else:
            cur += a[i]
        i += 1
    items.append(cur)
    return dict(kv.split("=", 1) for kv in items[1:])


def free_hugepages(size):
    d = "/sys/kernel/mm/hugepages/hugepages-%dkB/" % (size >> 10)
    try:
        free = int(open(d + "free_hugepages").read())
        resv = int(open(d + "resv_hugepages").read())
    except OSError:
        return 0
    return free - resv


def vhost_backend(work, out):
    """Start dpdk-testpmd for the vhost-user chardevs of out (rewritten in
    place to sockets in work); returns the process or None."""
    vus = []
    for k, a in enumerate(out):
        if out[k - 1] == "-chardev" and a.startswith("socket,") and "fd=" not in a:
            opts = chardev_opts(a)
            vus.append((k, opts))
    if not vus:
        return None
    queues = {}
    for k, a in enumerate(out):
        if out[k - 1] == "-netdev" and a.startswith("{"):
            o = json.loads(a)
            if o.get("type") == "vhost-user":
                queues[o["chardev"]] = o.get("queues", 1)
    exe = shutil.which("dpdk-testpmd")
    if not exe:
        skip("dpdk-testpmd is not installed (a vhost-user NIC needs a backend; make deps)")
    vudir = os.path.join(work, "vu")
    os.chmod(work, 0o755)
    os.mkdir(vudir)
    os.chown(vudir, 65534, 65534)
    vdevs = []
    for n, (k, opts) in enumerate(vus):
        path = os.path.join(vudir, "%d.sock" % n)
        server = opts.get("server") == "on"
        out[k] = "socket,id=%s,path=%s%s" % (opts["id"], path,
                                           ",server=on,wait=off" if server else "")
        vdevs += ["--vdev", "net_vhost%d,iface=%s,queues=%d%s"
                  % (n, path, queues.get(opts["id"], 1), ",client=1" if server else "")]
    env = dict(os.environ, XDG_RUNTIME_DIR=vudir)
    log = open(os.path.join(work, "testpmd.log"), "w")
    tp = BACKEND[0] = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           exe, "-l", "0-1", "--no-huge", "-m", "256", "--no-pci",
                           "--file-prefix", "vmrt%d" % os.getpid()] + vdevs +
                          # one forwarding queue per port: the vdev's queues= is what
                          # the backend offers QEMU (VHOST_USER_GET_QUEUE_NUM)
                          ["--", "--forward-mode=io", "--auto-start", "--nb-cores=1",
                           "--total-num-mbufs=8192"],
                          # testpmd ends at EOF on its stdin ("Press enter to exit")
                          env=env, stdin=subprocess.PIPE, stdout=log, stderr=log)
    deadline = time.time() + 30
    for n, (k, opts) in enumerate(vus):
        if opts.get("server") == "on":
            continue
        while not os.path.exists(os.path.join(vudir, "%d.sock" % n)):
            if tp.poll() is not None or time.time() > deadline:
                tp.kill()
                fail("dpdk-testpmd did not make its sockets: " +
                     open(os.path.join(work, "testpmd.log")).read()[-500:])
            time.sleep(0.05)
    return tp


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
        if a == "-vnc" and v and not v.startswith("none"):
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        if a == "-blockdev" and v and v.startswith("{"):
            o = json.loads(v)
            nodes[o["node-name"]] = o
        if a == "-object" and v and v.startswith("{"):
            o = json.loads(v)
            if o.get("hugetlb"):
                need = o["size"] // o.get("hugetlbsize", 2 << 20)
                have = free_hugepages(o.get("hugetlbsize", 2 << 20))
                if have < need:
                    print("# hugetlb dropped: %d pages needed, %d free" % (need, have))
                    del o["hugetlb"]
                    o.pop("hugetlbsize", None)
                    argv[i + 1] = json.dumps(o)
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
        if prev == "-chardev" and a.startswith("socket,") and "fd=" in a:
            opts = chardev_opts(a)
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
        # the vhost-user sockets QEMU listens on must take the backend's (nobody's) connect
        os.umask(0)
        # move each fd to its number, leaving the others to close on exec
        tmp = {n: fcntl.fcntl(fd, fcntl.F_DUPFD, 1000) for n, fd in fds.items()}
        for n, fd in tmp.items():
            os.dup2(fd, n, inheritable=True)

    backend = vhost_backend(work, out)
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
    end_backend()
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
