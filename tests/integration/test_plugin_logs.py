#!/usr/bin/env python3
"""A plugin's log records reach the daemon's log under its name, cut at
log_line_max (4096 bytes); past the rate limit (burst
1000, then 200 lines/s) they are dropped and counted, while the events
themselves are all delivered - logging never slows delivery down."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, echo_ids, main  # noqa: E402

LINE_MAX = 4096
BURST = 1000


def test(d):
    d.wait_running("hello")
    d.wait_running("echo")
    # hello logs each event's data: 10 KB of it makes a line over the limit.
    big = d.post_event("session.created", {"s": "z" * 10000})
    d.wait_delivered("hello", 1)
    lines = d.wait_until("hello's line for the big event",
                         lambda: d.plugin_lines("hello", r"^event session\.created id=%d " % big))
    msg = lines[0].string  # the message part of "info hello: <message>"
    check(len(msg.encode()) <= LINE_MAX, "a %d-byte line got through", len(msg.encode()))
    check(msg.startswith("event session.created id=%d data={\"s\":\"zzz" % big),
          "the cut line does not start as the plugin wrote it: %r", msg[:80])

    # Far more lines than the burst, as fast as the plugin can log them.
    n = 2500
    t0 = time.monotonic()
    for i in range(0, n, 500):
        d.post_batch([{"type": "user.login", "data": {"i": i + k}} for k in range(500)])
        d.wait_delivered("echo", 1 + i + 500)
    elapsed = time.monotonic() - t0
    st = d.wait_delivered("echo", 1 + n)
    check(st["delivered"] == 1 + n and st["dropped"] == 0, "echo: %s", st)
    logged = len(echo_ids(d))
    # The bucket allows the burst plus the rate over the time taken, and no more.
    allowed = BURST + 200 * (elapsed + 1.0)
    check(logged <= allowed, "%d echo lines logged in %.1f s, the limit allows %.0f", logged,
          elapsed, allowed)
    check(st["log_dropped"] > 0, "no dropped lines counted: %s", st)
    check(logged + st["log_dropped"] >= 1 + n, "logged %d + dropped %d < %d events", logged,
          st["log_dropped"], 1 + n)
    check(d.matches(r"^\w+ echo: .*(rate|drop)"), "no line saying echo's log was limited")


main(test, plugins=["hello", "echo"])
