#!/usr/bin/env python3
"""SIGTERM: the daemon stops accepting, delivers what is queued, stops every
host and exits 0. A batch posted just before the signal is counted in full
by the counter plugin, whose report is the last thing in the queue."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, now_ns, pid_gone  # noqa: E402

N = 3000


def test(d):
    counter = d.wait_running("counter")
    echo = d.wait_running("echo")
    batch = [{"type": "session.created", "data": {"t0_ns": now_ns(), "i": i}}
             for i in range(N)]
    batch.append({"type": "plugin.counter.report"})
    ids = d.post_batch(batch)
    check(len(ids) == N + 1, "ids %d", len(ids))
    d.signal(signal.SIGTERM)
    rc = d.wait_exit()
    check(rc == 0, "daemon exited %s after SIGTERM", rc)
    reports = d.plugin_lines("counter", r"^count=(\d+) p50_us=\d+ p99_us=\d+ max_us=\d+$")
    check(len(reports) == 1, "counter reports: %s", [m.string for m in reports])
    check(int(reports[0].group(1)) == N, "counter counted %s of %d queued events",
          reports[0].group(1), N)
    check(d.matches(r"SIGTERM"), "no SIGTERM line in the log")
    for st in (counter, echo):
        check(pid_gone(st["pid"]), "host %s (pid %d) outlived the daemon", st["name"],
              st["pid"])
    d.check_sanitizers()


main(test, plugins=["counter", "echo"], log_level="info")
