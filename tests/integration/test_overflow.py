#!/usr/bin/env python3
"""A plugin that stalls on its first event: its window and bounded queue fill
and the overflow is dropped and counted, while the daemon keeps answering
and the other plugin gets every event. SIGTERM still ends the daemon (exit
0) in bounded time, the stalled host killed once the drain gives up."""
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, test_plugin_path  # noqa: E402

N = 5000
BATCH = 1000
QUEUE_MAX = 4096


def test(d):
    d.wait_running("counter")
    d.wait_running("bad-stall")
    for b in range(N // BATCH):
        d.post_batch([{"type": "session.created", "data": {"i": b * BATCH + i}}
                      for i in range(BATCH)])
        # Keep the healthy plugin's own queue from overflowing.
        d.wait_delivered("counter", (b + 1) * BATCH)
        check(d.healthy(), "daemon unhealthy with a stalled plugin")
    st = d.wait_status("bad-stall", lambda s: s["dropped"] > 0, "overflow counted")
    # Half a queue behind, it held the ingress once, for a bounded time (gate.c), then
    # was taken for slower than the ingress: the API answered on meanwhile.
    d.wait_line(r"^warn bad-stall: \d+ events queued after a hold of the ingress")
    check(len(d.matches(r"after a hold of the ingress")) == 1, "held more than once")
    check(st["state"] == "running" and st["crashes"] == 0, "bad-stall: %s", st)
    check(st["delivered"] == 0, "the stalled plugin answered: %s", st)
    check(st["queue_depth"] == QUEUE_MAX, "queue_depth %d, queue_max %d", st["queue_depth"],
          QUEUE_MAX)
    check(1 <= st["inflight"] <= 32, "inflight %d", st["inflight"])
    check(st["dropped"] == N - st["queue_depth"] - st["inflight"],
          "dropped %d + queued %d + in flight %d != %d", st["dropped"], st["queue_depth"],
          st["inflight"], N)
    r = d.request("GET", "/metrics")
    m = re.search(rb'^streamspace_plugin_dropped\{plugin="bad-stall"\} (\d+)$', r.body, re.M)
    check(m and int(m.group(1)) == st["dropped"], "/metrics dropped: %s", m)

    d.post_event("plugin.counter.report")
    rep = d.wait_line(r"^info counter: count=(\d+) ")
    check(int(rep.group(1)) == N, "counter counted %s of %d", rep.group(1), N)
    # The plugin logs its count before it answers the report event: wait for the answer.
    c = d.wait_status("counter", lambda s: s["inflight"] == 0, "the report answered")
    check(c["dropped"] == 0 and c["delivered"] == N + 1, "counter: %s", c)

    pid = st["pid"]
    d.signal(signal.SIGTERM)
    rc = d.wait_exit()
    check(rc == 0, "daemon exited %s after SIGTERM with a stalled plugin", rc)
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    check(not alive, "the stalled host (pid %d) outlived the daemon", pid)


main(test, plugins=["counter", test_plugin_path("bad-stall")],
     extra_args=["--event-timeout-ms", "600000", "--shutdown-timeout-ms", "1000",
                 "--stop-timeout-ms", "500"])
