#!/usr/bin/env python3
"""Delivery under many HTTP connections (issue 8, item 6). 1000 keep-alive
connections on loopback post single events, each a few requests deep
(pipelined), as fast as the daemon answers, while one fast plugin (counter)
is subscribed with the default queue and window. Before, every loop turn read
every ready connection (thousands of events a turn) while the host got one
window of 32: its queue overflowed and a healthy plugin lost most events.
Now a turn hands the API about a window's worth of requests, and:
every accepted event is accounted (delivered + dropped == accepted, nothing
failed, poisoned, queued or in flight), and the plugin saw at least 99 % of
them (its own count). Bounded by the number of requests, not by time: the
figures (requests per second) are bench/conns.sh's."""
import os
import re
import resource
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import WAIT, check, main  # noqa: E402

CONNS = 1000
DEPTH = 4   # requests written at once on each connection
ROUNDS = 5  # CONNS * DEPTH * ROUNDS events in all
EVENT = b'{"type":"session.created","data":{"id":"s1","user":"u1"}}'


class Conn:
    def __init__(self, sock, request):
        self.sock = sock
        self.request = request
        self.out = b""
        self.buf = b""
        self.waiting = 0  # answers still due for what was written
        self.rounds = 0


def answers(c, statuses):
    """Takes every whole answer out of c.buf; returns how many."""
    n = 0
    while True:
        end = c.buf.find(b"\r\n\r\n")
        if end < 0:
            return n
        head = c.buf[:end].decode("latin-1")
        m = re.search(r"(?im)^content-length:\s*(\d+)\s*$", head)
        size = end + 4 + (int(m.group(1)) if m else 0)
        if len(c.buf) < size:
            return n
        statuses.append(int(head.split(" ", 2)[1]))
        c.buf = c.buf[size:]
        n += 1


def load(port, token):
    """Posts CONNS * DEPTH * ROUNDS events; returns the status of every answer."""
    auth = b"Authorization: Bearer %s\r\n" % token.encode() if token else b""
    request = (b"POST /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
               % (auth, len(EVENT), EVENT))
    sel = selectors.DefaultSelector()
    conns = []
    for _ in range(CONNS):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        c = Conn(s, request)
        conns.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    statuses = []
    # Every connection's first requests at once: the daemon sees them all ready.
    for c in conns:
        c.out = request * DEPTH
        c.waiting = DEPTH
    deadline = time.monotonic() + 20 * WAIT
    busy = CONNS
    while busy > 0:
        check(time.monotonic() < deadline, "%d connections still waiting for answers", busy)
        for c in conns:
            if c.out:
                try:
                    sent = c.sock.send(c.out)
                    c.out = c.out[sent:]
                except BlockingIOError:
                    pass
        for key, _ in sel.select(1.0):
            c = key.data
            data = c.sock.recv(65536)
            check(data, "the daemon closed a connection after %d answers", len(statuses))
            c.buf += data
            c.waiting -= answers(c, statuses)
            if c.waiting == 0:
                c.rounds += 1
                if c.rounds == ROUNDS:
                    sel.unregister(c.sock)
                    c.sock.close()
                    busy -= 1
                else:
                    c.out = request * DEPTH
                    c.waiting = DEPTH
    sel.close()
    return statuses


def test(d):
    check(HARD == resource.RLIM_INFINITY or HARD >= CONNS + 256,
          "RLIMIT_NOFILE hard limit %d is below %d", HARD, CONNS + 256)
    d.wait_running("counter")
    statuses = load(d.port, d.token)
    total = CONNS * DEPTH * ROUNDS
    check(len(statuses) == total, "%d answers to %d requests", len(statuses), total)
    accepted = statuses.count(202)
    others = sorted(set(s for s in statuses if s != 202))
    check(accepted == total, "%d of %d answered 202 (others: %s)", accepted, total, others)

    st = d.wait_status("counter", lambda s: s["queue_depth"] == 0 and s["inflight"] == 0,
                       "queue drained", timeout=10 * WAIT)
    check(st["accepted"] == accepted, "counter accepted %d of the %d answered 202",
          st["accepted"], accepted)
    check(st["failed"] == 0 and st["poisoned"] == 0 and st["crashes"] == 0,
          "a healthy plugin failed: %s", st)
    check(st["delivered"] + st["dropped"] == accepted,
          "delivered %d + dropped %d != accepted %d", st["delivered"], st["dropped"], accepted)
    check(st["dropped"] == sum(st["dropped_by"].values()), "dropped_by: %s", st)
    check(st["delivered"] * 100 >= accepted * 99,
          "the plugin got %d of %d events (%.1f %%); dropped by reason: %s", st["delivered"],
          accepted, 100.0 * st["delivered"] / accepted, st["dropped_by"])

    # What the plugin itself counted, not only what the daemon says it acknowledged.
    d.post_event("plugin.counter.report")
    rep = d.wait_line(r"^info counter: count=(\d+) ")
    check(int(rep.group(1)) == st["delivered"], "counter counted %s, the daemon says %d",
          rep.group(1), st["delivered"])


# This process holds 1000 connections and so does the daemon (which inherits the limit).
_, HARD = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (HARD, HARD))
main(test, plugins=["counter"], log_level="info")
