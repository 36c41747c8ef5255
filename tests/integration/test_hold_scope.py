#!/usr/bin/env python3
"""A plugin behind on the bus holds only what adds events. bad-stall takes its
first event and sleeps: half a queue behind, the bus asks for a hold of the
ingress, long here (--hold-max-ms 600000) so that nothing below depends on
time. While it lasts, a POST /api/events is kept unanswered, and /healthz,
/metrics, the admin API and the web UI, each asked after that POST, are
answered before it. Once the plugin's host is gone the hold lifts and the
kept POST is accepted; the hold never ran out."""
import os
import re
import select
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, test_plugin_path  # noqa: E402

QUEUE_MAX = 4096


def metric(d, name):
    r = d.request("GET", "/metrics")
    check(r.status == 200, "/metrics during a hold: %r", r)
    m = re.search(rb"^" + name.encode() + rb" (\d+)$", r.body, re.M)
    check(m is not None, "no %s in /metrics", name)
    return int(m.group(1))


def send_post(d):
    """A POST /api/events on its own connection, not read yet (the caller reads it)."""
    body = b'{"type":"session.created","data":{"kept":true}}'
    s = socket.create_connection(("127.0.0.1", d.port), timeout=60)
    s.sendall(b"POST /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n"
              b"Connection: close\r\n\r\n%s" % (len(body), body))
    return s


def read_all(s):
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            return out
        out += b


def test(d):
    d.wait_running("bad-stall")
    st = d.status("bad-stall")
    # Past half a queue the stalled plugin presses: one hold, which does not run out.
    d.post_batch([{"type": "session.created", "data": {"i": i}} for i in range(QUEUE_MAX // 2 + 64)])
    d.wait_until("the hold", lambda: metric(d, "streamspace_ingress_holds_total") == 1)

    kept = send_post(d)
    # Each of these is sent after the kept POST, and answered while it waits.
    check(d.healthy(), "/healthz during a hold")
    check(metric(d, "streamspace_ingress_holds_expired_total") == 0, "the hold ran out")
    r = d.request("GET", "/api/plugins/marketplace/installed/bad-stall")
    check(r.status == 200 and r.json["name"] == "bad-stall", "admin API during a hold: %r", r)
    r = d.request("GET", "/admin/")
    check(r.status == 200 and b"<html" in r.body.lower(), "web UI during a hold: %r", r)
    ready, _, _ = select.select([kept], [], [], 0)
    check(not ready, "the POST sent first was answered during the hold: %r",
          kept.recv(300) if ready else b"")

    # The plugin's host goes: it presses no more, the hold lifts, the kept POST goes on.
    os.kill(st["pid"], signal.SIGKILL)
    answer = read_all(kept)
    kept.close()
    check(answer.startswith(b"HTTP/1.1 202 "), "the kept POST after the hold: %r", answer[:300])
    # (The restarted host is given the queue again and may press anew: holds_total may be 2.)
    check(metric(d, "streamspace_ingress_holds_expired_total") == 0, "the hold ran out")


main(test, plugins=[test_plugin_path("bad-stall")],
     extra_args=["--queue-max", str(QUEUE_MAX), "--hold-max-ms", "600000",
                 "--event-timeout-ms", "600000", "--stop-timeout-ms", "500"])
