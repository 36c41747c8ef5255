#!/usr/bin/env python3
"""Signals as the daemon's operator sends them: SIGHUP restarts the --plugin
plugins (new hosts, nothing lost); SIGINT stops like SIGTERM (drain, exit 0);
a second stop signal ends the drain at once even when a plugin is stuck, and
no host outlives the daemon."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, check, echo_ids, main, pid_gone, test_plugin_path  # noqa: E402


def test(d):
    before = d.wait_running("echo")
    ids = [d.post_event("session.created", {"before": "hup"})]
    d.wait_delivered("echo", 1)
    d.signal(signal.SIGHUP)
    after = d.wait_status("echo", lambda s: s["state"] == "running" and s["pid"] not in
                          (None, before["pid"]), "a new host after SIGHUP")
    check(after["crashes"] == 0, "SIGHUP counted as a crash: %s", after)
    d.wait_until("the old host to go", lambda: pid_gone(before["pid"]))
    ids.append(d.post_event("session.created", {"after": "hup"}))
    d.wait_until("both events at echo", lambda: len(echo_ids(d)) >= 2)
    check(echo_ids(d) == ids, "echo saw %s", echo_ids(d))

    # SIGINT: the same drain as SIGTERM.
    ids += d.post_batch([{"type": "user.login", "data": {"i": i}} for i in range(300)])
    d.signal(signal.SIGINT)
    check(d.wait_exit() == 0, "exit status after SIGINT")
    check(echo_ids(d)[-1] == ids[-1], "SIGINT did not deliver the queue: last %s of %s",
          echo_ids(d)[-1:], ids[-1])
    check(pid_gone(after["pid"]), "echo's host outlived the daemon")

    # A stuck plugin: the first SIGTERM waits to drain, the second ends it.
    s = Daemon([test_plugin_path("bad-stall"), "echo"],
               ["--event-timeout-ms", "600000", "--shutdown-timeout-ms", "60000",
                "--stop-timeout-ms", "500"])
    try:
        s.start()
        stall = s.wait_running("bad-stall")
        s.wait_running("echo")
        s.post_event("session.created")
        s.wait_status("bad-stall", lambda x: x["inflight"] == 1, "the stall holding an event")
        s.signal(signal.SIGTERM)
        s.wait_line(r"SIGTERM")
        time.sleep(0.5)
        check(s.alive(), "the daemon did not wait to drain")
        s.signal(signal.SIGTERM)
        # The drain would last a minute; the second signal must end it well before.
        rc = s.wait_exit(timeout=20)
        check(rc == 0, "exit status after a second SIGTERM: %s", rc)
        for _ in range(100):
            if pid_gone(stall["pid"]):
                break
            time.sleep(0.05)
        check(pid_gone(stall["pid"]), "the stuck host (pid %d) outlived the daemon", stall["pid"])
        s.check_sanitizers()
    finally:
        s.kill()


main(test, plugins=["echo"])
