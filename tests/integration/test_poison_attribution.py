#!/usr/bin/env python3
"""A crash is charged to the event whose callback was running, also with
several events in flight to a protocol-4 host that holds acks across
callbacks: a batch of four where the third aborts the host. The first crash
leaves several unanswered (the acks of the first two may be held), so none
is charged: they go one at a time, the third crashes the host alone twice
and is set aside as poison (three crashes in all); the other three are
delivered (the first two possibly twice, at least once), never poisoned, and
every event is accounted for."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, test_plugin_path  # noqa: E402


def test(d):
    d.wait_running("poisoner")
    ids = d.post_batch([{"type": "session.created", "data": {"i": 0}},
                        {"type": "session.created", "data": {"i": 1}},
                        {"type": "session.created", "data": {"crash": True}},
                        {"type": "session.created", "data": {"i": 3}}])
    st = d.wait_status("poisoner",
                       lambda s: s["poisoned"] + s["delivered"] == 4 and s["inflight"] == 0 and
                       s["queue_depth"] == 0, "every event answered or set aside", timeout=60)
    check(st["poison_events"] == [ids[2]], "poison %s, expected [%d] (the event that aborts)",
          st["poison_events"], ids[2])
    check(st["poisoned"] == 1 and st["delivered"] == 3 and st["failed"] == 0,
          "counts: %s", st)
    check(st["crashes"] == 3, "crashes %d, expected 3 (several unanswered: none charged; "
          "then alone: redelivered once, then poison)", st["crashes"])
    check(st["accepted"] == 4, "accepted %d", st["accepted"])
    got = {int(m.group(1)) for m in d.plugin_lines("poisoner", r"^got (\d+)$")}
    check(got == {ids[0], ids[1], ids[3]}, "handled %s, expected %s", sorted(got),
          [ids[0], ids[1], ids[3]])


main(test, plugins=[test_plugin_path("poisoner")])
