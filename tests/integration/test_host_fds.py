#!/usr/bin/env python3
"""The open-file limit bounds the plugin hosts, with that reason: every host
holds 2 of the daemon's descriptors (3 while it starts), and 256 + 5 stay
for the rest (runtime/hostfds.h). With the daemon's limit lowered (prlimit)
to what its two running hosts need, a SIGHUP's blue/green restart cannot
start a third: each successor is refused with the bound, the limit and how
to raise it, and the running version serves on (same pid, no crash, an
event still delivered). With the limit back, the next SIGHUP restarts both."""
import os
import resource
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, echo_ids, main  # noqa: E402

MAX_STARTING = 16
# Room for exactly two hosts: 256 reserved, 5 for a spawn, 1 per turn, 2 per host.
NOFILE = 256 + 5 + MAX_STARTING * 1 + 2 * 2


def test(d):
    before = {n: d.wait_running(n) for n in ("echo", "hello")}
    pid = d.proc.pid
    old = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (NOFILE, old[1]))
    try:
        n = len(d.snapshot())
        d.signal(signal.SIGHUP)
        for name in ("echo", "hello"):
            m = d.wait_line(r"^error %s: cannot start host: 2 plugin hosts run, the most an "
                            r"open-file limit of %d allows" % (name, NOFILE), n)
            check("ulimit -n" in m.string, "the refusal does not say how to raise it: %s",
                  m.string)
            d.wait_line(r"^warn %s: upgrade to .* abandoned, the running version stays" % name, n)
        for name, st in before.items():
            now = d.status(name)
            check(now["state"] == "running" and now["pid"] == st["pid"] and now["crashes"] == 0,
                  "%s after the refused restart: %s (was pid %s)", name, now, st["pid"])
        eid = d.post_event("session.created", {"under": "the bound"})
        d.wait_until("the event at echo", lambda: eid in echo_ids(d))
    finally:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, old)
    d.signal(signal.SIGHUP)
    for name, st in before.items():
        d.wait_status(name, lambda s: s["state"] == "running" and s["pid"] not in
                      (None, st["pid"]), "a new host once the limit is back")


main(test, plugins=["echo", "hello"], extra_args=["--max-starting", str(MAX_STARTING)])
