#!/usr/bin/env python3
"""A plugin that answers an event with 50,000 log records as fast as its
socket takes them: the daemon keeps answering HTTP and delivering to the
other plugin meanwhile, rate-limits the records (counting the dropped), and
the flooding plugin's event is still acknowledged."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, test_plugin_path, wait_echo  # noqa: E402


def test(d):
    d.wait_running("bad-log-flood")
    d.wait_running("echo")
    ids = [d.post_event("session.created", {"flood": "go"})]
    # While the records pour in, other work goes on.
    for i in range(20):
        check(d.healthy(), "healthz during the flood")
        ids.append(d.post_event("user.login", {"during": i}))
    st = d.wait_status("bad-log-flood", lambda s: s["delivered"] >= 1, "the flood acknowledged",
                       timeout=120)
    check(st["crashes"] == 0 and st["state"] == "running", "bad-log-flood: %s", st)
    check(st["log_dropped"] > 0, "no records dropped out of 50,000: %s", st)
    flood_lines = len(d.plugin_lines("bad-log-flood", r"^flood \d+$"))
    check(flood_lines + st["log_dropped"] >= 50000, "%d logged + %d dropped < 50,000",
          flood_lines, st["log_dropped"])
    check(flood_lines < 50000, "every one of 50,000 records was logged")
    d.wait_delivered("echo", len(ids))
    check(wait_echo(d, len(ids)) == ids, "echo missed events during the flood")
    d.wait_delivered("bad-log-flood", len(ids))


main(test, plugins=[test_plugin_path("bad-log-flood"), "echo"],
     extra_args=["--event-timeout-ms", "120000"], log_level="info")
