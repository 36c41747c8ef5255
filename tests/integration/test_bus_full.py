#!/usr/bin/env python3
"""Memory is bounded in bytes (issue 8, items 4 and 5). A plugin that stalls
holds what it was sent; once the bus holds --bus-bytes-max, POST /api/events
answers 503 with Retry-After (counted as shed in /metrics) instead of
accepting events and dropping them, and the stalled plugin's own queue is
bounded by --queue-bytes-max (tests/unit/daemon/test_bus.c). Every event accepted for a plugin is accounted:
accepted == delivered + failed + poisoned + dropped + queued + in flight, in
its status and in /metrics, and a healthy plugin got all of them."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, test_plugin_path  # noqa: E402

BUS_BYTES = 1 << 20       # the whole bus: 1 MiB
QUEUE_BYTES = 4 << 20     # one plugin: 4 MiB, so the bus fills before its queue
PAD = "x" * 4000          # about 4 KiB an event


def metric(body, name, plugin=None):
    label = '\\{plugin="%s"\\}' % plugin if plugin else ""
    m = re.search(rb"^streamspace_%s%s (\d+)$" % (name.encode(), label.encode()), body, re.M)
    return int(m.group(1)) if m else None


def summed(st):
    return (st["delivered"] + st["failed"] + st["poisoned"] + st["dropped"] +
            st["queue_depth"] + st["inflight"])


def test(d):
    d.wait_running("counter")
    d.wait_running("bad-stall")
    accepted = shed = 0
    retry_after = None
    for i in range(2000):
        r = d.request("POST", "/api/events",
                      body='{"type":"session.created","data":{"i":%d,"pad":"%s"}}' % (i, PAD),
                      headers={"Content-Type": "application/json"})
        if r.status == 202:
            accepted += 1
            # The healthy plugin keeps up; only the stalled one holds events.
            if accepted % 50 == 0:
                d.wait_delivered("counter", accepted)
            continue
        check(r.status == 503, "POST answered %d: %s", r.status, r.body)
        check(b'"bus_full"' in r.body, "503 body: %s", r.body)
        retry_after = r.headers.get("Retry-After")
        shed += 1
        if shed >= 5:
            break
    check(shed >= 5, "never shed: %d accepted with a bus of %d bytes", accepted, BUS_BYTES)
    check(retry_after is not None and int(retry_after) > 0, "Retry-After: %r", retry_after)
    # Nothing was accepted beyond what the bound allows (~4 KiB each, twice held at most).
    check(accepted * 4000 <= 2 * BUS_BYTES + QUEUE_BYTES, "accepted %d events", accepted)

    st = d.status("bad-stall")
    check(st["accepted"] == accepted, "bad-stall accepted %d of %d", st["accepted"], accepted)
    check(summed(st) == st["accepted"], "bad-stall does not add up: %s", st)
    check(st["queue_bytes"] <= QUEUE_BYTES, "bad-stall holds %d bytes", st["queue_bytes"])
    # Shed at the door, not accepted and dropped.
    check(st["dropped"] == 0, "bad-stall dropped accepted events: %s", st)

    d.wait_delivered("counter", accepted)
    c = d.status("counter")
    check(c["accepted"] == accepted and c["delivered"] == accepted and c["dropped"] == 0,
          "counter: %s", c)

    body = d.request("GET", "/metrics").body
    check(metric(body, "events_shed_total") == shed, "shed in /metrics: %s",
          metric(body, "events_shed_total"))
    for name, s in (("bad-stall", st), ("counter", c)):
        m = {k: metric(body, "plugin_" + k, name) for k in
             ("accepted", "delivered", "failed", "poisoned", "dropped", "queue_depth", "inflight")}
        check(None not in m.values(), "%s series missing: %s", name, m)
        check(m["accepted"] == m["delivered"] + m["failed"] + m["poisoned"] + m["dropped"] +
              m["queue_depth"] + m["inflight"], "%s in /metrics does not add up: %s", name, m)


main(test, plugins=["counter", test_plugin_path("bad-stall")],
     extra_args=["--event-timeout-ms", "600000", "--shutdown-timeout-ms", "500",
                 "--stop-timeout-ms", "500", "--bus-bytes-max", str(BUS_BYTES),
                 "--queue-bytes-max", str(QUEUE_BYTES)])
