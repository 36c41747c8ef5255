#!/usr/bin/env python3
"""A batch (a JSON array of events) is accepted all or none: one bad event
refuses the whole request and none of its good events reaches a plugin; a
good batch gets one id per event, in order, delivered in that order.
The hosts are pinged every 10 ms meanwhile: a ping is a daemon request, and
its id must not be taken from the events' (they stay consecutive)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (check, check_error, echo_ids, hello_events, main, wait_echo,  # noqa: E402
                     wait_hello)


def test(d):
    d.wait_running("echo")
    d.wait_running("hello")
    # system.startup is an event too, and takes an id: let it go first.
    d.wait_line("system.startup: ")
    before = d.accepted_total()
    bad_batches = [
        [{"type": "session.created", "data": {"marker": "A"}}, {"type": "nope"},
         {"type": "session.created", "data": {"marker": "B"}}],
        [{"type": "session.created", "data": {"marker": "C"}}, {"type": "user.login",
                                                                 "data": [1]}],
        [{"type": "session.created", "data": {"marker": "D"}}, 7],
        [{"type": "session.created", "data": {"marker": "E"}}, {"data": {}}],
        [{"type": "session.created", "data": {"marker": "F"}},
         {"type": "session.created", "data": {"bad": "\udc80"}}],
        [{"type": "session.created", "data": {"marker": "G"}},
         {"type": "session.created", "junk": True}],
    ]
    for i, batch in enumerate(bad_batches):
        body = __import__("json").dumps(batch, ensure_ascii=False).encode("utf-8",
                                                                          "surrogatepass")
        r = d.request("POST", "/api/events", body)
        check_error("bad batch %d" % i, r, 400)
        check("1" in r.json["error"]["message"],
              "bad batch %d: the message does not name event 1: %r", i, r.json)
    check(d.accepted_total() == before, "a refused batch accepted %d events",
          d.accepted_total() - before)

    # A sentinel after them: the plugins see it first, so nothing came before it.
    sentinel = d.post_event("user.login", {"marker": "sentinel"})
    d.wait_delivered("echo", 1)
    d.wait_delivered("hello", 1)
    wait_echo(d, 1)
    wait_hello(d, 1)
    check(echo_ids(d) == [sentinel], "echo saw %s before the sentinel", echo_ids(d))
    check([e[2] for e in hello_events(d)] == [{"marker": "sentinel"}],
          "hello saw %s", hello_events(d))

    # Good batches: ids increase, one per event, each delivered in order.
    ids = [sentinel]
    posted = [{"marker": "sentinel"}]
    for size in (1, 7, 250):
        batch = [{"type": ("session.started", "user.logout", "plugin.echo.tick")[i % 3],
                  "data": {"batch": size, "i": i}} for i in range(size)]
        got = d.post_batch(batch)
        check(all(isinstance(x, int) for x in got), "non-integer ids %s", got)
        check(got == list(range(ids[-1] + 1, ids[-1] + 1 + size)),
              "batch ids not consecutive after %d: %s", ids[-1], got[:10])
        ids += got
        posted += [e["data"] for e in batch]
    time.sleep(0.05)  # a few pings to both hosts between the last batch and this
    single = d.post_event("session.stopped", {"after": "batches"})
    check(single == ids[-1] + 1, "single id %d after batch %d", single, ids[-1])
    ids.append(single)
    posted.append({"after": "batches"})
    for name in ("echo", "hello"):
        st = d.wait_delivered(name, len(ids))
        check(st["delivered"] == len(ids) and st["dropped"] == 0, "%s: %s", name, st)
    wait_echo(d, len(ids))
    wait_hello(d, len(ids))
    check(echo_ids(d) == ids, "echo order %s", echo_ids(d)[:20])
    he = hello_events(d)
    check([e[0] for e in he] == ids, "hello order %s", [e[0] for e in he][:20])
    check([e[2] for e in he] == posted, "hello data differs from what was posted")
    check(d.accepted_total() == before + len(ids), "accepted_total")


main(test, plugins=["echo", "hello"], extra_args=["--ping-interval-ms", "10"])
