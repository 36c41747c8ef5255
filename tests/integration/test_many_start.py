#!/usr/bin/env python3
"""Many plugins started together go through the start queue (--max-starting):
never more hosts starting at once than the bound, the others waiting their
turn in order, and every good plugin ready while a bad one among them holds
a turn or keeps failing. Twelve counters beside three bad plugins, two turns:
sleep hangs in on_load (it holds one turn until its handshake deadline, set
far beyond the test), segfault-ctor dies before its hello at every start
(each restart waits for a turn like any start: crashed, backed off, failed
after exactly 5 crashes) and fail-load refuses to load (failed at once).
The counters all become running while sleep is still starting, and each gets
an event; then SIGTERM stops the daemon with the hung host still starting."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, hostile_path, main, test_plugin_path  # noqa: E402

MAX_STARTING = 2
GOOD = ["many%02d" % i for i in range(1, 13)]
BAD = ["sleep", "segfault-ctor", "fail-load"]


def check_bound(d):
    """Replays the log: hosts spawned and not yet ready or ended, at every line."""
    starting, most = set(), 0
    for line in d.snapshot():
        m = re.match(r"^(?:debug|info|warn|error) ([a-z0-9-]+): (.*)$", line)
        if not m:
            continue
        name, what = m.groups()
        if what.startswith("host started"):
            check(name not in starting, "%s started twice at once", name)
            starting.add(name)
            most = max(most, len(starting))
        elif what.startswith("ready: pid") or what.startswith("host crashed"):
            starting.discard(name)
    check(most <= MAX_STARTING, "%d hosts starting at once, the bound is %d", most,
          MAX_STARTING)
    check(most == MAX_STARTING, "never %d hosts starting at once (at most %d): nothing "
          "was started together", MAX_STARTING, most)
    return starting


def test(d):
    for name in GOOD:
        st = d.wait_running(name)
        check(st["crashes"] == 0 and st["restarts"] == 0, "%s: %s", name, st)
    st = d.status("sleep")
    check(st["state"] == "starting" and st["crashes"] == 0,
          "sleep is no longer starting with its 60 s deadline: %s", st)
    check(d.wait_status("fail-load", lambda s: s.get("state") == "failed", "failed")
          ["crashes"] == 1, "fail-load: more than one start")
    st = d.wait_status("segfault-ctor", lambda s: s.get("state") == "failed", "failed")
    check(st["crashes"] == 5 and st["restarts"] == 4,
          "segfault-ctor failed after %d crashes, %d restarts", st["crashes"], st["restarts"])
    check(len(d.matches(r"^debug segfault-ctor: host started")) == 5,
          "segfault-ctor's hosts: %d started", len(d.matches(r"^debug segfault-ctor: host started")))
    check(d.matches(r"^debug [a-z0-9-]+: waiting to start: 2 hosts starting"),
          "no plugin waited for a turn")
    # The turns were taken in the order asked: the first plugins named went first.
    first = [m.group(1) for m in d.matches(r"^debug ([a-z0-9-]+): host started")][:3]
    check(first == ["sleep", "segfault-ctor", "fail-load"], "first started: %s", first)
    left = check_bound(d)
    check(left == {"sleep"}, "still starting at the end: %s", left)
    d.post_event("session.created", {"id": "s1"})
    for name in GOOD:
        d.wait_delivered(name, 1)


main(test, plugins=[hostile_path(b) for b in BAD] + [test_plugin_path(g) for g in GOOD],
     extra_args=["--max-starting", str(MAX_STARTING), "--handshake-timeout-ms", "60000"])
