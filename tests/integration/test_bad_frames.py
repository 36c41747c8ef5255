#!/usr/bin/env python3
"""Each way a host can break the protocol ends that host, counted as a crash
with cause "protocol" and the reason in its status; a host that exits on its
own is a crash with cause "exit" and its status code. The event being
handled is redelivered once and then set aside as poison; the restarted host
runs on, and a well-behaved plugin beside them gets every event once."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, echo_ids, main, test_plugin_path, wait_echo  # noqa: E402

# plugin -> (last_exit.reason, words one of which the description holds, exit code)
KINDS = {
    "bad-zero-length": ("protocol", ["length 0"], None),
    "bad-not-json": ("protocol", ["JSON", "json", "unexpected"], None),
    "bad-not-object": ("protocol", ["object"], None),
    "bad-unknown-type": ("protocol", ["bogus", "unknown"], None),
    "bad-daemon-type": ("protocol", ["shutdown", "unknown", "not allowed", "direction"], None),
    "bad-utf8": ("protocol", ["utf-8", "UTF-8"], None),
    "bad-too-deep": ("protocol", ["deep", "nesting"], None),
    "bad-stray-reply": ("protocol", ["987654321", "outstanding"], None),
    "bad-exit-3": ("exit", ["3"], 3),
    "bad-exit-0": ("exit", ["0"], 0),
}


def test(d):
    d.wait_running("echo")
    for name in KINDS:
        d.wait_running(name)
    ev = d.post_event("session.created", {"trigger": True})
    for name, (reason, words, code) in KINDS.items():
        st = d.wait_status(name, lambda s: s["poisoned"] == 1 and s["state"] == "running",
                           "poison set aside and the host running again")
        le = st["last_exit"]
        check(le["reason"] == reason, "%s: reason %r, expected %r: %s", name, le["reason"],
              reason, le)
        check(any(w in le["description"] for w in words),
              "%s: description %r names none of %s", name, le["description"], words)
        if code is not None:
            check(le.get("exit_code") == code, "%s: exit_code %r", name, le.get("exit_code"))
        check(st["crashes"] == 2 and st["restarts"] == 2, "%s: crashes %d restarts %d",
              name, st["crashes"], st["restarts"])
        check(st["poison_events"] == [ev] and st["delivered"] == 0,
              "%s: poison %s delivered %d", name, st["poison_events"], st["delivered"])
        check(st["crash_causes"][reason] == 2, "%s: causes %s", name, st["crash_causes"])
    ids = [ev, d.post_event("user.logout")]
    st = d.wait_delivered("echo", len(ids))
    wait_echo(d, len(ids))
    check(echo_ids(d) == ids and st["crashes"] == 0, "echo: %s, %s", echo_ids(d), st)
    check(d.healthy(), "daemon unhealthy")


main(test, plugins=["echo"] + [test_plugin_path(n) for n in KINDS])
