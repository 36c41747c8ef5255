#!/usr/bin/env python3
"""A plugin's call to the daemon (PROTOCOL.md, "Calls") is synchronous for the
plugin: caller makes one inside every event callback. The daemon has several
events in flight to it, so events arrive while a call waits for its reply;
they must be kept and delivered after the callback returns - each event's
callback runs once, in order, none inside another - and every call gets its
own answer (storage is not served yet: unimplemented)."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, test_plugin_path  # noqa: E402

N = 200


def test(d):
    d.wait_running("caller")
    ids = d.post_batch([{"type": "session.created", "data": {"i": i}} for i in range(N)])
    st = d.wait_delivered("caller", N)
    check(st["delivered"] == N and st.get("failed", 0) == 0, "caller: %s", st)
    lines = d.wait_until("%d event lines" % N, lambda: (
        lambda l: l if len(l) >= N else None)(d.plugin_lines("caller", r"^event (\d+) (.*)$")))
    got = [int(m.group(1)) for m in lines]
    check(got == ids, "events out of order or repeated: %s... (posted %s...)", got[:10],
          ids[:10])
    answers = set(m.group(2) for m in lines)
    check(len(answers) == 1, "calls answered differently: %s", answers)
    ans = answers.pop()
    check(re.match(r"get=-9 code=unimplemented msg=storage.get is not served", ans),
          "storage without --database: %r", ans)
    check(d.alive(), "daemon died")


main(test, plugins=[test_plugin_path("caller")])
