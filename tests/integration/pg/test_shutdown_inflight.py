#!/usr/bin/env python3
"""SIGTERM while registry calls are in flight (installs, uninstalls, enables,
disables, README reads, plugin reads, replays, events from several clients):
every call still held is answered or cancelled before what it needs is freed,
so the daemon exits 0 with nothing from the sanitizers (the debug build is
ASan+UBSan: a leaked call record fails the run). Before the fix, an enable or
an install whose file work or host start was under way at the stop leaked its
record (never answered), in most rounds."""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"
ROUNDS = 5
SANITIZER = ("Sanitizer", "runtime error:", "LeakSanitizer")


def busy_calls(d):
    """The calls the clients repeat until the stop."""
    return [
        lambda: d.get(f"{M}/installed/echo"),
        lambda: d.get(f"{M}/readme/echo"),
        lambda: d.get(f"{M}/installed"),
        lambda: (d.post(f"{M}/disable/echo"), d.post(f"{M}/enable/echo")),
        lambda: (d.post(f"{M}/install/counter"), d.request("DELETE", f"{M}/uninstall/counter")),
        lambda: d.post(f"{M}/replay/echo", {"fromId": 1}),
        lambda: d.post("/api/events", {"type": "session.created"}),
    ]


def one_round(ctx, n):
    d = ctx.fresh()
    assert d.post(f"{M}/install/echo").status == 201
    stop = threading.Event()
    answered = []

    def loop(fn):
        while not stop.is_set():
            try:
                fn()
                answered.append(1)
            except OSError:
                pass  # the listener closed, or the connection ended with the daemon

    ts = [threading.Thread(target=loop, args=(f,)) for f in busy_calls(d) for _ in range(2)]
    for t in ts:
        t.start()
    try:
        # Staggered, so the stop meets different steps of the calls in each round.
        time.sleep(1.2 + 0.25 * n)
        assert answered, "no call answered before the stop"
        d.proc.send_signal(signal.SIGTERM)
        rc = d.proc.wait(60)
    finally:
        stop.set()
        for t in ts:
            t.join()
    bad = [ln for ln in d.log().splitlines() if any(m in ln for m in SANITIZER)]
    assert rc == 0 and not bad, f"round {n}: exit {rc}, {bad[:4]}\n{d.log()[-5000:]}"


def test_sigterm_with_calls_in_flight(ctx):
    for n in range(ROUNDS):
        one_round(ctx, n)
        ctx.cleanup()


if __name__ == "__main__":
    sys.exit(h.run_with_ctx("shutdown", "ss-shutdown-", [test_sigterm_with_calls_in_flight]))
