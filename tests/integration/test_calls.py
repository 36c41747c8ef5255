#!/usr/bin/env python3
"""A plugin's call to the daemon (PROTOCOL.md, "Calls") is synchronous for the
plugin: caller makes one inside every event callback. The daemon has several
events in flight to it, so events arrive while a call waits for its reply;
they must be kept and delivered after the callback returns - each event's
callback runs once, in order, none inside another - and every call gets its
own answer (without --database: unavailable, naming why). Each event's
ss_event_ts is the wall time the daemon took it, in ms."""
import atexit
import json
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, test_plugin_path  # noqa: E402

N = 200

# caller with a manifest that grants storage, so the call reaches the service.
work = tempfile.mkdtemp(prefix="ss-calls-")
os.chmod(work, 0o755)
atexit.register(shutil.rmtree, work, True)
shutil.copy(test_plugin_path("caller"), work)
with open(os.path.join(work, "manifest.json"), "w") as f:
    json.dump({"name": "caller", "version": "1.0.0", "displayName": "caller",
               "description": "calls", "author": "tests", "entrypoints": {"main": "caller.so"},
               "permissions": ["read:sessions", "storage"]}, f)


def test(d):
    d.wait_running("caller")
    # Data no reader takes is the plugin's error at the call, and its host runs on.
    for what, why in (("nan", r"/x: NaN or Infinity is not JSON"),
                      ("deep", r"nests deeper than 63 levels")):
        m = d.wait_line(r"caller: emit %s=(-?\d+) code=(\S+) msg=(.*)$" % what)
        check(int(m.group(1)) < 0 and m.group(2) == "bad_request" and re.search(why, m.group(3)),
              "emit %s: %s", what, m.group(0))
    before = time.time() * 1000
    ids = d.post_batch([{"type": "session.created", "data": {"i": i}} for i in range(N)])
    after = time.time() * 1000
    st = d.wait_delivered("caller", N)
    check(st["delivered"] == N and st.get("failed", 0) == 0, "caller: %s", st)
    lines = d.wait_until("%d event lines" % N, lambda: (
        lambda l: l if len(l) >= N else None)(
            d.plugin_lines("caller", r"^event (\d+) ts=(\d+) (.*)$")))
    got = [int(m.group(1)) for m in lines]
    check(got == ids, "events out of order or repeated: %s... (posted %s...)", got[:10],
          ids[:10])
    stamps = [int(m.group(2)) for m in lines]
    check(all(before - 1000 <= t <= after + 1000 for t in stamps),
          "ss_event_ts outside the posting's %d..%d: %s", before, after, stamps[:5])
    answers = set(m.group(3) for m in lines)
    check(len(answers) == 1, "calls answered differently: %s", answers)
    ans = answers.pop()
    check(re.match(r"get=-7 code=unavailable msg=.*--database", ans),
          "storage without --database: %r", ans)
    st = d.status("caller")
    check(st["crashes"] == 0 and st["state"] == "running", "caller: %s", st)
    check(d.alive(), "daemon died")


main(test, plugins=[os.path.join(work, "caller.so")])
