#!/usr/bin/env python3
"""kill -SEGV one plugin's host: the supervisor records why it ended, starts a
new host, and that host receives the events posted while it was down and
after; the other plugin misses nothing and is never restarted. Later crashes
(SIGABRT, SIGKILL) count again."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, wait_echo, wait_hello  # noqa: E402


def post_phase(d, tag, n):
    return [d.post_event("session.created", {"phase": tag, "seq": i}) for i in range(n)]


def crash(d, sig, prev_restarts):
    before = d.status("echo")
    pid = before["pid"]
    check(isinstance(pid, int) and pid > 0, "echo has no pid: %s", before)
    os.kill(pid, sig)
    # Nothing is posted until the daemon has seen this host end (its crash counted):
    # on a loaded machine the host can live on for a moment after kill() returns (the
    # signal reaches its waiter, which must still be scheduled to die and take the
    # host with it), take an event and die in it; that event then goes, rightly, to
    # the next host as well, and is seen twice.
    d.wait_status("echo", lambda s: s["crashes"] > before["crashes"],
                  "the daemon to see echo's host end after SIG%d" % sig)
    # Events posted while the host is dead or restarting are queued for it.
    during = post_phase(d, "during-%d" % sig, 10)
    st = d.wait_status(
        "echo", lambda s: s["state"] == "running" and s["restarts"] > prev_restarts
        and s["pid"] not in (None, pid), "a new host after SIG%d" % sig)
    check(st["restarts"] == prev_restarts + 1, "restarts %d after one crash",
          st["restarts"])
    check(st["crashes"] == before["crashes"] + 1, "crashes %d", st["crashes"])
    le = st["last_exit"]
    check(le is not None, "no last_exit after a crash: %s", st)
    check(le["reason"] == "signal", "last_exit.reason %r", le["reason"])
    check(le["signal"] == sig, "last_exit.signal %r, expected %d", le.get("signal"), sig)
    check(le["signal_name"] == signal.Signals(sig).name, "signal_name %r",
          le.get("signal_name"))
    check(le["sandbox_violation"] is False, "a SIG%d is not a sandbox violation", sig)
    check(isinstance(le["description"], str) and le["description"], "no description")
    check(isinstance(le["stderr"], list), "last_exit.stderr is not a list: %r", le)
    check(st["crash_causes"]["signal"] == st["crashes"], "crash_causes %s",
          st["crash_causes"])
    return during


def test(d):
    d.wait_running("echo")
    hello0 = d.wait_running("hello")
    ids = post_phase(d, "before", 20)
    # Every event answered, so none is in flight when the host dies.
    d.wait_delivered("echo", len(ids))
    d.wait_delivered("hello", len(ids))

    ids += crash(d, signal.SIGSEGV, 0)
    ids += post_phase(d, "after-segv", 20)
    d.wait_delivered("echo", len(ids))

    ids += crash(d, signal.SIGABRT, 1)
    ids += post_phase(d, "after-abrt", 20)
    d.wait_delivered("echo", len(ids))

    ids += crash(d, signal.SIGKILL, 2)
    ids += post_phase(d, "after-kill", 20)

    for name in ("echo", "hello"):
        st = d.wait_delivered(name, len(ids))
        check(st["delivered"] == len(ids), "%s delivered %d of %d", name, st["delivered"],
              len(ids))
        check(st["dropped"] == 0 and st["poisoned"] == 0, "%s lost events: %s", name, st)
    got = wait_echo(d, len(ids))
    check(got == ids, "echo saw %s\n expected %s", got, ids)
    seen = [s[0] for s in wait_hello(d, len(ids))]
    check(seen == ids, "hello saw %s\n expected %s", seen, ids)
    h = d.status("hello")
    check(h["restarts"] == 0 and h["crashes"] == 0 and h["pid"] == hello0["pid"],
          "hello was disturbed: %s", h)
    # The crashes are in the daemon's log, with the plugin's name.
    check(d.matches(r"^(warn|error) echo: .*crash.*signal"), "no crash line in the log")
    check(d.healthy(), "daemon unhealthy after the crashes")


main(test, plugins=["echo", "hello"])
