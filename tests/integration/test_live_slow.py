#!/usr/bin/env python3
"""A state stream client that stops reading is dropped once the events it
left unread pass --stream-max-pending, and what the daemon held for it is
bounded by that: the client, reading again, gets far less than a client that
kept reading, then the end of the stream, and nothing after. The reader is never dropped, and
a new client gets its snapshot. SIGHUP restarts the plugins, which makes
state events; the stalled client's socket has a small window and segment
size, so the kernel holds little of what the daemon sends."""
import os
import signal
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, test_plugin_path  # noqa: E402

PENDING = 4096
PLUGINS = ["hello", "echo", "counter"]
TEST_PLUGINS = ["picky", "caller", "clock"]
NAMES = PLUGINS + TEST_PLUGINS
PATH = "/api/plugins/marketplace/stream"
ROUNDS_MAX = 200


def open_stream(d, small=False):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if small:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    s.settimeout(30)
    s.connect(("127.0.0.1", d.port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n" % PATH).encode())
    buf = b""
    while b"event: ready\n" not in buf:
        b = s.recv(65536)
        check(b, "the stream closed before its snapshot: %r", buf[:300])
        buf += b
    check(buf.startswith(b"HTTP/1.1 200 "), "stream: %r", buf[:300])
    return s, buf


def reader(s, box):
    while True:
        try:
            b = s.recv(65536)
        except OSError:
            break
        if not b:
            break
        box["bytes"] += len(b)
        box["states"] += b.count(b"event: state\n")


def restarted(d, name, pid):
    st = d.status(name)
    return st["state"] == "running" and st["pid"] not in (None, pid)


def sighup_round(d, what):
    """SIGHUP, then every plugin running again in a new host."""
    pids = {n: d.status(n)["pid"] for n in NAMES}
    d.signal(signal.SIGHUP)
    d.wait_until("every plugin running again after %s" % what,
                 lambda: all(restarted(d, n, pids[n]) for n in NAMES))


def test(d):
    for n in NAMES:
        d.wait_running(n)
    fast, first = open_stream(d)
    got = {"bytes": len(first), "states": 0}
    t = threading.Thread(target=reader, args=(fast, got), daemon=True)
    t.start()
    slow, head = open_stream(d, small=True)
    slow_bytes = len(head)
    dropped = r"a state stream client did not keep up: disconnected"
    rounds = 0
    # Restart every plugin until the stalled client is dropped (each round queues state
    # events to both clients; the stalled one reads nothing).
    while not d.matches(dropped):
        check(rounds < ROUNDS_MAX, "the stalled client was not dropped after %d rounds "
              "(%d bytes of events sent to the reader)", rounds, got["bytes"])
        sighup_round(d, "SIGHUP %d" % rounds)
        rounds += 1
    check(len(d.matches(dropped)) == 1, "more than one client dropped: %s", d.matches(dropped))
    # The stalled client reads again: what was in the kernel and the daemon's bounded
    # queue, then the end of the stream.
    slow.settimeout(30)
    while True:
        b = slow.recv(65536)
        if not b:
            break
        slow_bytes += len(b)
    slow.close()
    # More rounds: the reader gets them all, the dropped client nothing: the daemon holds
    # nothing more for it however long it runs.
    for _ in range(3):
        before = got["states"]
        sighup_round(d, "the drop")
        d.wait_until("the reader sees the restarts",
                     lambda: got["states"] >= before + len(NAMES))
    check(got["bytes"] > slow_bytes + 3 * len(NAMES) * 100,
          "the stalled client got %d bytes, the reader %d", slow_bytes, got["bytes"])
    check(len(d.matches(dropped)) == 1, "the reader was dropped too: %s", d.matches(dropped))
    check(t.is_alive(), "the reading client's stream ended")
    again, snap = open_stream(d)
    check(snap.count(b"event: state\n") == len(NAMES), "a new client's snapshot: %r", snap[:500])
    again.close()
    fast.close()


main(test, plugins=PLUGINS + [test_plugin_path(n) for n in TEST_PLUGINS],
     extra_args=["--stream-max-pending", str(PENDING)])
