#!/usr/bin/env python3
"""A plugin that dies at every start is restarted with exponential backoff,
visible in its status while it waits (restart_in_ms doubles from 100 ms with
each crash in the window), and after the crash limit (5 in 60 s) it is
marked failed and left alone: no more starts, no pid."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, hostile_path, main  # noqa: E402


def test(d):
    seen = {}  # crashes -> restart_in_ms, as observed while waiting to restart
    deadline = time.monotonic() + 30
    while True:
        st = d.status("socket-inet")
        if st["state"] == "crashed":
            check("restart_in_ms" in st, "crashed without restart_in_ms: %s", st)
            seen.setdefault(st["crashes"], st["restart_in_ms"])
        if st["state"] == "failed":
            break
        check(time.monotonic() < deadline, "not failed within 30 s: %s", st)
        time.sleep(0.01)
    for crashes, delay in seen.items():
        check(delay == 100 * 2 ** (crashes - 1), "after %d crashes restart_in_ms %d", crashes,
              delay)
    check(len(seen) >= 2, "saw too few waits to judge the backoff: %s", seen)
    check(st["crashes"] == 5 and st["restarts"] == 4, "failed after %d crashes, %d restarts",
          st["crashes"], st["restarts"])
    starts = len(d.matches(r"^debug socket-inet: host started"))
    time.sleep(1)
    st = d.status("socket-inet")
    check(st["state"] == "failed" and st["pid"] is None, "failed plugin: %s", st)
    check(len(d.matches(r"^debug socket-inet: host started")) == starts == 5,
          "host starts: %d before, %d after", starts,
          len(d.matches(r"^debug socket-inet: host started")))
    check(d.matches(r"^error socket-inet: .*failed"), "no 'failed' line in the log")


main(test, plugins=[hostile_path("socket-inet")])
