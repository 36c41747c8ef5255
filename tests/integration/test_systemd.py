#!/usr/bin/env python3
"""The systemd side of the daemon (Type=notify): READY=1 once it listens,
WATCHDOG=1 at half of WATCHDOG_USEC while the reactor runs, STOPPING=1 on
SIGTERM, and exit 0 after. The notify socket is a real AF_UNIX datagram
socket, as systemd's is."""
import os
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, check, main  # noqa: E402

work = tempfile.mkdtemp(prefix="ss-notify-")
path = os.path.join(work, "notify")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
sock.settimeout(0.2)
os.environ["NOTIFY_SOCKET"] = path
os.environ["WATCHDOG_USEC"] = "400000"  # the daemon pings every 200 ms


def received(seconds):
    """Datagrams that arrive within seconds, in order."""
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            out.append(sock.recv(4096).decode())
        except socket.timeout:
            pass
    return out


def test(d):
    got = received(1.5)
    check(got and got[0] == "READY=1", "first notification %r, want READY=1", got[:1])
    pings = [m for m in got if m == "WATCHDOG=1"]
    # 1.5 s at one ping per 200 ms: about seven; a stalled reactor sends none.
    check(4 <= len(pings) <= 10, "%d watchdog pings in 1.5 s: %r", len(pings), got)
    d.wait_running("echo")
    d.signal(signal.SIGTERM)
    rc = d.wait_exit()
    check(rc == 0, "exit status %s after SIGTERM", rc)
    after = received(0.3)
    check("STOPPING=1" in after, "no STOPPING=1 after SIGTERM: %r", after)


try:
    main(test, plugins=["echo"])
finally:
    sock.close()
    os.unlink(path)
    os.rmdir(work)
