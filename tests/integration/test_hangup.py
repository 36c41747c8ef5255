#!/usr/bin/env python3
"""A host that closes its protocol channel but stays alive has broken the
protocol: the daemon ends it and records cause "protocol", saying the host
hung up - not a bare "killed by SIGKILL" that reads as if something else had
killed it. The event it held is redelivered, then set aside as poison, and
the other plugin is unaffected."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, test_plugin_path, wait_echo  # noqa: E402


def test(d):
    d.wait_running("bad-close-channel")
    d.wait_running("echo")
    ev = d.post_event("session.created", {"hang": "up"})
    st = d.wait_status("bad-close-channel", lambda s: s["crashes"] >= 1 and s["last_exit"],
                       "the host that hung up ended")
    le = st["last_exit"]
    check(le["reason"] == "protocol", "reason %r for a host that closed its channel: %s",
          le["reason"], le)
    check(any(w in le["description"].lower() for w in ("channel", "closed", "hung up", "eof")),
          "the description does not say the host hung up: %r", le["description"])
    st = d.wait_status("bad-close-channel",
                       lambda s: s["poisoned"] == 1 and s["state"] == "running",
                       "poison set aside and a new host running")
    check(st["poison_events"] == [ev], "poison %s", st["poison_events"])
    d.wait_delivered("echo", 1)
    check(wait_echo(d, 1) == [ev], "echo did not get the event once")


main(test, plugins=[test_plugin_path("bad-close-channel"), "echo"])
