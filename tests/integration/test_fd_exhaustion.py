#!/usr/bin/env python3
"""Out of file descriptors, the daemon neither spins nor floods its log: with
RLIMIT_NOFILE lowered under it (prlimit) and hundreds of clients connecting
for three seconds, accept() failures cost a handful of formatted lines (ours,
never libevent's raw "[warn] Error from accept()"), and once descriptors are
free again the daemon answers as before."""
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main  # noqa: E402


def test(d):
    d.wait_running("echo")
    pid = d.proc.pid
    start = len(d.snapshot())
    used = len(os.listdir("/proc/%d/fd" % pid))
    old = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (used + 4, old[1]))
    socks = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3:
        try:
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", d.port))
            socks.append(s)
        except OSError:
            pass
        if len(socks) >= 400:
            time.sleep(0.05)
    lines = d.snapshot()[start:]
    accept_lines = [l for l in lines if "accept" in l]
    raw = [l for l in lines if l.startswith("[")]
    check(accept_lines, "no accept failure reported (did the limit take?)")
    check(len(accept_lines) <= 40, "%d lines about accept() in 3 s: %s", len(accept_lines),
          accept_lines[:5])
    check(not raw, "libevent wrote to stderr itself: %s", raw[:3])
    check(all(l.startswith(("warn ", "info ", "error ", "debug ")) for l in accept_lines),
          "unformatted lines: %s", accept_lines[:3])
    for s in socks:
        s.close()
    resource.prlimit(pid, resource.RLIMIT_NOFILE, old)
    d.wait_until("the daemon answers again", d.healthy, timeout=10)
    d.post_event("session.created", {"after": "fd exhaustion"})


main(test, plugins=["echo"], log_level="info")
