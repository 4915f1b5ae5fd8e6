#!/usr/bin/env python3
"""vnccapture.py HOST:DISPLAY OUT.png PASSWORD_FILE

Run gvnccapture (Debian's gvncviewer) against a VNC server and type the
password it asks for.  gvnccapture reads a password only from a terminal, so
it runs on a pty; the password is the first line of PASSWORD_FILE and is
never on a command line.  Prints gvnccapture's output and exits with its
status (0: authenticated and OUT.png saved).
"""
import os
import pty
import select
import sys
import time


def main():
    target, out, pwfile = sys.argv[1:4]
    with open(pwfile) as f:
        password = f.readline().rstrip("\n")
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("gvnccapture", ["gvnccapture", target, out])
    buf, sent, start = b"", False, time.time()
    while time.time() - start < 60:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            continue
        try:
            data = os.read(fd, 1024)
        except OSError:
            break
        if not data:
            break
        buf += data
        if not sent and b"Password:" in buf:
            time.sleep(0.2)  # it flushes pending input after the prompt
            os.write(fd, password.encode() + b"\n")
            sent = True
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(buf.decode(errors="replace").replace(password, "***"))
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
