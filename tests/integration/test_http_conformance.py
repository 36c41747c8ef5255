#!/usr/bin/env python3
"""HTTP/1.1 as a careful client and a proxy in front of us expect it, over raw
sockets on loopback: every refusal is JSON (never an HTML page, never a 5xx),
unsupported methods get 405 with Allow, HEAD has the GET headers and no body,
conflicting or invalid framing (two Content-Lengths, Content-Length beside
Transfer-Encoding, a negative or non-numeric length) is refused with 400 and
the connection closed, an oversize body gets 413 even when chunked behind
Expect: 100-continue, oversize headers get 431, a request trickled too slowly
gets 408 at the deadline, a body that is not application/json gets 415, a path
that is not ASCII is refused in valid JSON, a NUL in a header is refused, and
a client that pipelines without reading its answers holds 256 KiB of them,
not all of them."""
import json
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main  # noqa: E402

MIB = 1024 * 1024
TIMEOUT_MS = 2000


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        vals = [v for k, v in self.headers if k.lower() == name.lower()]
        return vals[0] if vals else None

    def __repr__(self):
        return "HTTP %d %s %r" % (self.status, self.headers, self.body[:200])


class Conn:
    """A raw connection and what has been read from it but not yet parsed."""

    def __init__(self, d):
        self.sock = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        self.buf = b""

    def settimeout(self, t):
        self.sock.settimeout(t)

    def send(self, data):
        return self.sock.send(data)

    def sendall(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()


def connect(d):
    return Conn(d)


def recv_more(s):
    try:
        chunk = s.sock.recv(65536)
    except ConnectionResetError:
        chunk = b""
    s.buf += chunk
    return bool(chunk)


def read_response(s, head=False):
    """One response off s (Content-Length framed, as every answer of ours is)."""
    while b"\r\n\r\n" not in s.buf:
        if not recv_more(s):
            return None
    raw, s.buf = s.buf.split(b"\r\n\r\n", 1)
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:]]
    r = Resp(status, headers, b"")
    if status == 100:
        return r
    n = int(r.header("Content-Length") or 0) if not head else 0
    while len(s.buf) < n:
        if not recv_more(s):
            break
    r.body, s.buf = s.buf[:n], s.buf[n:]
    return r


def closed(s):
    """True when the server closed the connection (EOF with nothing more)."""
    s.settimeout(5)
    try:
        return s.buf == b"" and not recv_more(s)
    except socket.timeout:
        return False


def rss_kb(d):
    with open("/proc/%d/status" % d.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def send(s, data):
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def exchange(d, data):
    s = connect(d)
    send(s, data)
    r = read_response(s)
    return s, r


def check_json_error(label, r, status):
    check(r is not None, "%s: no answer", label)
    check(r.status == status, "%s: status %d, expected %d: %r", label, r.status, status, r)
    ct = r.header("Content-Type") or ""
    check(ct.startswith("application/json"), "%s: Content-Type %r: %r", label, ct, r)
    try:
        body = json.loads(r.body.decode("utf-8"))
    except ValueError as e:
        body = None
        check(False, "%s: body is not valid JSON (%s): %r", label, e, r)
    e = body.get("error") if isinstance(body, dict) else None
    check(isinstance(e, dict) and e.get("code") and e.get("message"),
          "%s: not our error shape: %r", label, body)
    return body


def req(method, path, headers=(), body=b""):
    h = "".join("%s: %s\r\n" % kv for kv in headers)
    return ("%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (method, path, h)).encode() + body


EVENT = b'{"type":"session.created"}'


def test(d):
    d.wait_running("echo")
    before = d.accepted_total()

    # 405 with Allow, in JSON, for methods we know and one we do not.
    for method, path, allow in [("PATCH", "/healthz", "GET, HEAD"),
                                ("OPTIONS", "/api/events", "POST"),
                                ("TRACE", "/healthz", "GET, HEAD"),
                                ("DELETE", "/api/events", "POST"),
                                ("FROB", "/healthz", None)]:
        s, r = exchange(d, req(method, path))
        check_json_error("%s %s" % (method, path), r, 405)
        check(r.header("Allow") is not None, "%s %s: 405 without Allow: %r", method, path, r)
        if allow:
            check(r.header("Allow") == allow, "%s %s: Allow %r, expected %r", method, path,
                  r.header("Allow"), allow)
        s.close()

    # HEAD: the GET's status and headers, Content-Length included, and no body:
    # the next answer on the same connection starts right after the head.
    s = connect(d)
    send(s, req("GET", "/healthz"))
    get = read_response(s)
    send(s, req("HEAD", "/healthz") + req("GET", "/nope"))
    head = read_response(s, head=True)
    check(head.status == 200, "HEAD /healthz: %r", head)
    check(get.header("Date") and head.header("Date"), "no Date header: %r %r", get, head)
    check(head.header("Content-Length") == str(len(get.body)),
          "HEAD Content-Length %r, GET body %d bytes", head.header("Content-Length"),
          len(get.body))
    after = read_response(s)
    check(after is not None and after.status == 404,
          "the answer after HEAD is not the next request's (a body was sent?): %r", after)
    s.close()

    # Framing a proxy and we could read differently: 400, JSON, connection closed.
    framing = [
        ("two different Content-Lengths",
         [("Content-Type", "application/json"), ("Content-Length", str(len(EVENT))),
          ("Content-Length", "5")]),
        ("two equal Content-Lengths",
         [("Content-Type", "application/json"), ("Content-Length", str(len(EVENT))),
          ("Content-Length", str(len(EVENT)))]),
        ("Content-Length with Transfer-Encoding",
         [("Content-Type", "application/json"), ("Content-Length", str(len(EVENT))),
          ("Transfer-Encoding", "chunked")]),
        ("negative Content-Length",
         [("Content-Type", "application/json"), ("Content-Length", "-1")]),
        ("non-numeric Content-Length",
         [("Content-Type", "application/json"), ("Content-Length", "12abc")]),
        ("Transfer-Encoding not ending in chunked",
         [("Content-Type", "application/json"), ("Transfer-Encoding", "gzip")]),
    ]
    for label, headers in framing:
        s, r = exchange(d, req("POST", "/api/events", headers, EVENT) + req("GET", "/healthz"))
        check_json_error(label, r, 400)
        check(closed(s), "%s: connection left open after the refusal", label)
        s.close()

    # Host: exactly one in HTTP/1.1 (RFC 9112 3.2), never two.
    for label, data in [("no Host", b"GET /healthz HTTP/1.1\r\n\r\n"),
                        ("two Hosts", b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
                        ("two Hosts in 1.0", b"GET /healthz HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n")]:
        s, r = exchange(d, data)
        check_json_error(label, r, 400)
        s.close()
    s, r = exchange(d, b"GET /healthz HTTP/1.0\r\n\r\n")
    check(r is not None and r.status == 200, "HTTP/1.0 without Host refused: %r", r)
    s.close()

    # Oversize, chunked, behind Expect: 100-continue: 100, then 413 in JSON.
    s = connect(d)
    send(s, req("POST", "/api/events", [("Content-Type", "application/json"),
                                        ("Transfer-Encoding", "chunked"),
                                        ("Expect", "100-continue")]))
    r = read_response(s)
    check(r is not None and r.status == 100, "no 100 Continue: %r", r)
    chunk = b"x" * 65536
    for _ in range(2 * MIB // len(chunk) + 1):
        send(s, b"%x\r\n%s\r\n" % (len(chunk), chunk))
    send(s, b"0\r\n\r\n")
    check_json_error("chunked 2 MiB behind Expect: 100-continue", read_response(s), 413)
    s.close()
    # Announced over the limit with Expect: refused at once, the body never asked for.
    s, r = exchange(d, req("POST", "/api/events", [("Content-Type", "application/json"),
                                                   ("Content-Length", str(4 * MIB)),
                                                   ("Expect", "100-continue")]))
    check_json_error("Content-Length 4 MiB behind Expect", r, 413)
    s.close()

    # Oversize headers: 431 in JSON (and the daemon still answers).
    s, r = exchange(d, req("GET", "/healthz", [("X-Pad", "a" * 20000)]))
    check_json_error("20 kB header", r, 431)
    s.close()
    s, r = exchange(d, req("GET", "/healthz", [("X-Pad-%d" % i, "v") for i in range(200)]))
    check_json_error("200 header fields", r, 431)
    s.close()

    # Not JSON: 415, for text/plain and for no Content-Type at all.
    for headers in ([("Content-Type", "text/plain")], []):
        s, r = exchange(d, req("POST", "/api/events",
                               headers + [("Content-Length", str(len(EVENT)))], EVENT))
        check_json_error("body as %r" % headers, r, 415)
        s.close()
    s, r = exchange(d, req("POST", "/api/events",
                           [("Content-Type", "application/json; charset=utf-8"),
                            ("Content-Length", str(len(EVENT)))], EVENT))
    check(r.status == 202, "application/json with a charset refused: %r", r)
    s.close()

    # A path that is not ASCII: refused, and the answer is valid JSON (UTF-8).
    s, r = exchange(d, b"GET /\xff\xfe\xc0 HTTP/1.1\r\nHost: x\r\n\r\n")
    check_json_error("path with invalid UTF-8", r, 400)
    s.close()
    s, r = exchange(d, req("GET", "/%ff%fe"))
    check_json_error("percent-encoded bytes in a 404", r, 404)
    s.close()

    # A NUL inside a header value (Bearer <token>\0junk) is a malformed request.
    s, r = exchange(d, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                       b"Authorization: Bearer sst_x\x00junk\r\n\r\n")
    check_json_error("NUL in a header", r, 400)
    check(closed(s), "NUL in a header: connection left open")
    s.close()

    # Bytes that are not HTTP: JSON too.
    s, r = exchange(d, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n")
    check_json_error("TLS hello", r, 400)
    s.close()

    # A client that trickles a byte at a time gets 408 at the deadline, not forever.
    s = connect(d)
    data = req("POST", "/api/events", [("Content-Type", "application/json"),
                                       ("Content-Length", str(len(EVENT)))], EVENT)
    t0 = time.monotonic()
    for b in data:
        if time.monotonic() - t0 > TIMEOUT_MS / 1000 * 3:
            break
        try:
            s.send(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            break
        if select.select([s.sock], [], [], 0.25)[0]:
            break  # the server has answered
    took = time.monotonic() - t0
    r = read_response(s)
    check_json_error("a request trickled a byte every 250 ms", r, 408)
    check(took < TIMEOUT_MS / 1000 + 1.5, "408 after %.1f s (deadline %d ms)", took, TIMEOUT_MS)
    check(closed(s), "trickling client: connection left open after 408")
    s.close()

    # An idle connection is closed after the same time, without an answer.
    s = connect(d)
    t0 = time.monotonic()
    s.settimeout(TIMEOUT_MS / 1000 + 3)
    check(not recv_more(s), "idle connection got bytes: %r", s.buf)
    check(time.monotonic() - t0 < TIMEOUT_MS / 1000 + 1.5, "idle connection kept %.1f s",
          time.monotonic() - t0)
    s.close()

    # A client that pipelines without reading its answers: the daemon stops
    # reading from it once 256 KiB of answers wait (memory stays bounded), and
    # every answer comes, in order, once it reads. A large static file makes
    # each answer big: 100 of them would be 50 MB held for nobody.
    big = "/admin/vendor/json-editor-2.17.2/jsoneditor.js"
    s, r = exchange(d, req("GET", big))
    check(r is not None and r.status == 200 and len(r.body) > 256 * 1024,
          "%s is not a large file here: %r", big, r)
    s.close()
    n = 100
    s = connect(d)
    rss0 = rss_kb(d)
    send(s, req("GET", big) * n)
    time.sleep(1.5)
    grown = rss_kb(d) - rss0
    s.settimeout(30)
    answers = [read_response(s) for _ in range(n)]
    check(all(a is not None and a.status == 200 and len(a.body) == len(r.body)
              for a in answers), "not every pipelined answer came whole")
    check(grown < 16 * 1024, "the daemon grew by %d kB holding answers nobody read", grown)
    s.close()

    check(d.accepted_total() - before == 1, "accepted %d events, expected 1",
          d.accepted_total() - before)
    check(d.alive() and d.healthy(), "daemon unhealthy after the conformance checks")


main(test, plugins=["echo"], extra_args=["--http-timeout-ms", str(TIMEOUT_MS)])
