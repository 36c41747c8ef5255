#!/usr/bin/env python3
"""Cumulative acknowledgements (protocol 4), driven from outside by
fake_host.py: one ack frame for several events counts each delivered, a
failure reported between two acks is attributed to its event, and the
counts still sum to what was accepted; a host whose ack claims events it
was not sent, goes backwards, names another event, carries a huge or
mistyped count, or arrives on protocol 3 is ended as a protocol violator
with a log line that says so, and nothing it acked wrongly is counted."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FakeHost, check, main  # noqa: E402

# scenario -> a word the ending's description holds
HOSTILE = {
    "ack-beyond": "does not match",
    "ack-wrong-id": "does not match",
    "ack-backwards": "does not match",
    "ack-huge": "integer n",
    "ack-bignum": "integer n",
    "ack-type": "integer n",
    "ack-no-id": "integer n",
    "ack3": "protocol 3",
}

fake = FakeHost("ss-acks-")


def counts_sum(st):
    dropped = st.get("dropped", 0)
    return (st["delivered"] + st["failed"] + st.get("poisoned", 0) + dropped +
            st["queue_depth"] + st["inflight"])


def test(d):
    for name in ["fake-ack-good"] + ["fake-" + s for s in HOSTILE]:
        d.wait_running(name)
    ids = d.post_batch([{"type": "session.created", "data": {"n": i}} for i in range(5)])
    check(len(ids) == 5, "ids %s", ids)

    st = d.wait_status("fake-ack-good",
                       lambda s: s["delivered"] + s["failed"] == 5 and s["inflight"] == 0,
                       "five events answered")
    check(st["delivered"] == 4 and st["failed"] == 1, "delivered %d failed %d: %s",
          st["delivered"], st["failed"], st)
    check(st["accepted"] == 5 and counts_sum(st) == 5, "counts do not sum: %s", st)
    check(st["crashes"] == 0, "the well-behaved acker was ended: %s", st.get("last_exit"))
    failed = d.matches(r"fake-ack-good: handler failed on event %d" % ids[3])
    check(failed, "the failure was not attributed to event %d" % ids[3])

    for scenario, word in HOSTILE.items():
        name = "fake-" + scenario
        st = d.wait_status(name, lambda s: s["crashes"] >= 1 and s["last_exit"],
                           "a first ending", timeout=30)
        le = st["last_exit"]
        check(le["reason"] == "protocol", "%s: reason %r: %s", name, le["reason"], le)
        check(word in le["description"], "%s: description %r lacks %r", name,
              le["description"], word)
        check("ack" in le["description"], "%s: description %r does not name the ack", name,
              le["description"])
        # Every event is still accounted for; the bad ack moved none of them to delivered,
        # except ack-backwards' first (good) ack of one event.
        good = 1 if scenario == "ack-backwards" else 0
        check(st["delivered"] <= good, "%s: a bad ack counted deliveries: %s", name, st)
        check(st["accepted"] == 5 and counts_sum(st) == 5, "%s: counts do not sum: %s", name,
              st)
        check(d.matches(r"%s.*%s" % (name, word)),
              "%s: no log line says why it was ended" % name)


plugins = [fake.plugin_arg("ack-good")] + [fake.plugin_arg(s) for s in HOSTILE]
try:
    main(test, plugins=[],
         extra_args=["--host-path", fake.path, "--handshake-timeout-ms", "5000"] +
         [x for p in plugins for x in ("--plugin", p)])
finally:
    fake.remove()
