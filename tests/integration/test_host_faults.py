#!/usr/bin/env python3
"""Hosts that break the protocol or crash while handling an event: a 4 GiB
length prefix, a frame of garbage, a message out of state, a segfault. Each
ends its host with the cause recorded, the event is redelivered once to the
restarted host and then set aside as poison; a well-behaved plugin beside
them gets the event once. A host that hangs in its handshake or in its
handler misses its deadline and is ended for it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, echo_ids, hostile_path, main, wait_echo  # noqa: E402

# plugin -> (last_exit.reason, last_exit.signal_name or None)
ON_EVENT = {
    "frame-huge": ("protocol", None),
    "frame-garbage": ("protocol", None),
    "out-of-state": ("protocol", None),
    "segfault": ("signal", "SIGSEGV"),
    "abort": ("signal", "SIGABRT"),
    "spin": ("deadline", None),
}
HANDSHAKE = ["sleep"]  # sleeps in on_load: never sends ready


def test(d):
    d.wait_running("echo")
    for name in ON_EVENT:
        d.wait_running(name)
    ev = d.post_event("session.created", {"poison": True})
    for name, (reason, sig) in ON_EVENT.items():
        st = d.wait_status(name, lambda s: s["poisoned"] >= 1 and s["state"] == "running",
                           "the event set aside as poison and a host running again")
        check(st["crashes"] == 2, "%s: %d crashes for one poison event", name, st["crashes"])
        check(st["poisoned"] == 1 and st["poison_events"] == [ev],
              "%s: poison %s", name, st["poison_events"])
        check(st["redelivered"] >= 1, "%s: not redelivered: %s", name, st)
        check(st["delivered"] == 0, "%s: delivered %d", name, st["delivered"])
        le = st["last_exit"]
        check(le["reason"] == reason, "%s: reason %r, expected %r: %s", name, le["reason"],
              reason, le)
        if sig:
            check(le.get("signal_name") == sig, "%s: signal %r", name, le.get("signal_name"))
        check(st["crash_causes"][reason] == 2, "%s: causes %s", name, st["crash_causes"])
        check(d.matches(r"^error %s: .*poison" % name), "%s: no poison line in the log" % name)
    for name in HANDSHAKE:
        st = d.wait_status(name, lambda s: s["crashes"] >= 1 and s["last_exit"],
                           "a handshake deadline")
        check(st["last_exit"]["reason"] == "deadline", "%s: %s", name, st["last_exit"])
        check(st["state"] != "running", "%s is running without a handshake", name)
    # The good plugin got the event once, and more after it.
    ids = [ev, d.post_event("user.logout")]
    d.wait_delivered("echo", 2)
    wait_echo(d, len(ids))
    check(echo_ids(d) == ids, "echo saw %s", echo_ids(d))
    st = d.status("echo")
    check(st["crashes"] == 0 and st["poisoned"] == 0, "echo was disturbed: %s", st)
    # The second event reached the restarted hostile hosts (and ended most of them again).
    for name in ON_EVENT:
        d.wait_status(name, lambda s: s["crashes"] >= 3 or s["delivered"] >= 1,
                      "the next event delivered to the restarted host")
    check(not d.matches("ESCAPED"), "a hostile plugin escaped")


main(test,
     plugins=["echo"] + [hostile_path(n) for n in list(ON_EVENT) + HANDSHAKE],
     extra_args=["--event-timeout-ms", "2000", "--handshake-timeout-ms", "3000"])
