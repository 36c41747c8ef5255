#!/usr/bin/env python3
"""kill -SEGV a host while it works through a batch: the restarted host gets
every event again from the oldest unanswered one, in order, so no event is
lost and only events the dead host had already handled can come twice (at
most one window's worth); the other plugin counts each event exactly once."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, echo_ids, main  # noqa: E402

N = 600
WINDOW = 32


def test(d):
    echo = d.wait_running("echo")
    d.wait_running("counter")
    ids = d.post_batch([{"type": "session.created", "data": {"i": i}} for i in range(N)])
    os.kill(echo["pid"], signal.SIGSEGV)
    st = d.wait_status("echo", lambda s: s["restarts"] == 1 and s["state"] == "running",
                       "restarted")
    st = d.wait_delivered("echo", N)
    check(st["delivered"] == N, "echo delivered %d of %d", st["delivered"], N)
    check(st["poisoned"] == 0 and st["dropped"] == 0, "echo: %s", st)
    d.wait_until("every event in echo's log", lambda: set(echo_ids(d)) >= set(ids))
    got = echo_ids(d)
    first = []
    seen = set()
    for i in got:
        if i not in seen:
            seen.add(i)
            first.append(i)
    check(first == ids, "echo's first sightings are not the posted order")
    dups = len(got) - len(first)
    check(dups <= WINDOW, "%d events came twice (window %d)", dups, WINDOW)
    # Where the events came twice, the new host started over from one point.
    if dups:
        restart_at = next(j for j in range(1, len(got)) if got[j] <= got[j - 1])
        check(got[restart_at:] == ids[ids.index(got[restart_at]):],
              "after the restart echo did not resume in order from %d", got[restart_at])
    print("echo: %d events handled twice, redelivered %d" % (dups, st["redelivered"]))

    d.post_event("plugin.counter.report")
    m = d.wait_line(r"^info counter: count=(\d+) ")
    check(int(m.group(1)) == N, "counter counted %s of %d", m.group(1), N)
    # The count is logged before the report's reply is read: wait for the reply.
    c = d.wait_status("counter", lambda s: s["inflight"] == 0, "report answered")
    check(c["crashes"] == 0 and c["delivered"] == N + 1, "counter: %s", c)


main(test, plugins=["echo", "counter"])
