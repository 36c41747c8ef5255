#!/usr/bin/env python3
"""The HTTP side under abuse that is not a bad body: hundreds of idle
connections, a request trickled byte by byte, bytes that are not HTTP,
headers over the limit, a body shorter than its Content-Length, pipelined
requests. The daemon answers everyone else meanwhile, never with a 5xx,
accepts no event it did not get whole, and keeps delivering."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, echo_ids, main  # noqa: E402


def connect(d):
    return socket.create_connection(("127.0.0.1", d.port), timeout=30)


def read_status(s):
    """The status code of the next response on s, or None if the server closed it."""
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            return None
        data += chunk
    return int(data.split(b" ", 2)[1])


def test(d):
    d.wait_running("echo")
    ids = []
    before = d.accepted_total()

    idle = [connect(d) for _ in range(200)]
    check(d.healthy(), "healthz with 200 idle connections")
    ids.append(d.post_event("session.created", {"with": "idle connections"}))

    # A request trickled a byte at a time, with others served in between.
    body = b'{"type":"user.login","data":{"slow":true}}'
    req = (b"POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    slow = connect(d)
    for i, b in enumerate(req):
        slow.send(bytes([b]))
        if i % 40 == 0:
            check(d.healthy(), "healthz while a request trickles in")
    check(read_status(slow) == 202, "the trickled request was not accepted")
    slow.close()

    # Not HTTP at all.
    junk = connect(d)
    junk.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(200) + b"\r\n\r\n")
    st = read_status(junk)
    check(st is None or 400 <= st < 500, "binary junk: status %s", st)
    junk.close()

    # Headers far over any sane limit.
    big = connect(d)
    try:
        big.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * (256 * 1024) +
                    b"\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        st = read_status(big)
    except ConnectionResetError:
        st = None
    check(st is None or 400 <= st < 500, "oversized headers: status %s", st)
    big.close()

    # A body cut short: the client goes away before sending all it announced.
    short = connect(d)
    short.sendall(b"POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
                  b'{"type":"session.created"}')
    short.close()

    # Two requests in one write, answered in order on the same connection.
    pipe = connect(d)
    one = b'{"type":"session.started","data":{"p":1}}'
    two = b'{"type":"session.stopped","data":{"p":2}}'
    pipe.sendall(b"".join(b"POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (len(b), b) for b in (one, two)))
    s1 = read_status(pipe)
    check(s1 == 202, "first pipelined request: %s", s1)
    pipe.close()
    time.sleep(0.2)

    for s in idle:
        s.close()
    check(d.alive() and d.healthy(), "daemon unhealthy after the abuse")
    final = d.post_event("user.logout", {"after": "abuse"})
    d.wait_until("the last event at echo", lambda: final in echo_ids(d))
    seen = echo_ids(d)
    # Accepted: the event beside the idle connections, the trickled one, one or
    # both pipelined ones, and the last; never the one cut short.
    check(seen == sorted(seen) and len(set(seen)) == len(seen), "echo saw %s", seen)
    check(seen[0] == ids[0] and seen[-1] == final and 4 <= len(seen) <= 5,
          "echo saw %s", seen)
    check(d.accepted_total() - before == len(seen), "accepted %d events, echo saw %s",
          d.accepted_total() - before, seen)
    st = d.status("echo")
    check(st["crashes"] == 0 and st["delivered"] == len(seen), "echo: %s", st)

main(test, plugins=["echo"])
