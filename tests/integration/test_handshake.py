#!/usr/bin/env python3
"""The daemon's side of the protocol, driven from outside by fake_host.py run
through --host-path: init carries what PROTOCOL.md lists; a protocol version
it does not speak is rejected naming both versions; a wrong plugin name, a
missing field, a message out of state or of the daemon's direction, a bad
subscription, a failed load, a stray pong, silence in the handshake and
unanswered pings each end the host with the right cause; requests not served
yet get "unimplemented"; subscriptions filter events; shutdown reaches the
host. (What a rejected host is told is in test_reject.py.)"""
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FakeHost, check, main  # noqa: E402


# scenario -> (last_exit.reason, a word its description holds)
FAILING = {
    "v99": ("load", "protocol 99"),
    "wrong-name": ("load", "someone-else"),
    "no-sdk-abi": ("protocol", "sdk_abi"),
    "silent": ("deadline", "hello"),
    "ready-first": ("protocol", "ready"),
    "log-first": ("protocol", "log"),
    "daemon-message": ("protocol", "init"),
    "bad-pattern": ("load", "Not A Pattern"),
    "load-fails": ("load", "no config, no go"),
    "stray-pong": ("protocol", "pong"),
    "no-pong": ("deadline", "pong"),
}

fake = FakeHost("ss-handshake-")
host = fake.path
plugin_arg = fake.plugin_arg


def fake_lines(d, scenario, prefix):
    """The fake host's "fake: <prefix> ..." lines for a scenario, as logged by the daemon."""
    return [m.group(1) for m in d.plugin_lines("fake-" + scenario, r"fake: %s ?(.*)$" % prefix)]


def test(d):
    # The well-behaved fake: what init carries, subscriptions, pings.
    st = d.wait_running("fake-good")
    check(st["version"] == "9.9.9", "version %r", st["version"])
    check(st["sandbox"] == {"layers": ["fake"], "missing": ["seccomp_serve"]},
          "sandbox as the host reported it: %s", st["sandbox"])
    check(st["subscriptions"] == ["session.*"], "subscriptions %s", st["subscriptions"])
    init = json.loads(d.wait_until("the init line", lambda: fake_lines(d, "good", "init"))[0])
    check(init["t"] == "init" and init["protocol"] == 1, "init: %s", init)
    check(isinstance(init["config"], dict), "init config: %s", init)
    check(isinstance(init["permissions"], list), "init permissions: %s", init)
    lim = init["limits"]
    check(lim.get("max_frame") == 1048576 and lim.get("ping_interval_ms") == 500 and
          isinstance(lim.get("event_timeout_ms"), int) and
          isinstance(lim.get("log_line_max"), int), "init limits: %s", lim)

    a = d.post_event("session.created", {"n": 1})
    d.post_event("user.login", {"n": 2})          # not subscribed: never sent
    b = d.post_event("session.deleted", {"n": 3})
    d.wait_delivered("fake-good", 2)
    events = d.wait_until("two events", lambda: (lambda l: l if len(l) >= 2 else None)(
        fake_lines(d, "good", "event")))
    check(events == ["%d session.created" % a, "%d session.deleted" % b],
          "fake-good got %s", events)
    d.wait_until("a ping answered", lambda: fake_lines(d, "good", "ping"))

    st = d.wait_running("fake-unserved")
    # A call the plugin's permissions do not cover (egress without "network")
    # is answered with an error reply to its id; the host serves on.
    got = d.wait_until("the refusal", lambda: fake_lines(d, "unserved", "got"))
    reply = json.loads(got[0])
    check(reply.get("t") == "reply" and reply.get("id") == 7 and
          reply.get("error", {}).get("code") == "permission_denied", "egress.request answer: %s",
          reply)
    check(d.status("fake-unserved")["crashes"] == 0, "the refused call ended the host")

    for scenario, (reason, word) in FAILING.items():
        name = "fake-" + scenario
        st = d.wait_status(name, lambda s: s["crashes"] >= 1 and s["last_exit"],
                           "a first ending", timeout=30)
        le = st["last_exit"]
        check(le["reason"] == reason, "%s: reason %r, expected %r: %s", name, le["reason"],
              reason, le)
        check(word in le["description"], "%s: description %r lacks %r", name,
              le["description"], word)
        if reason == "load":
            # Deterministic: the same files fail the same way, so no backoff and no retry.
            st = d.status(name)
            check(st["state"] == "failed" and st["restarts"] == 0 and st["crashes"] == 1,
                  "%s: a load failure is failed at once: %s", name, st)

    pid = d.status("fake-good")["pid"]
    d.signal(signal.SIGTERM)
    check(d.wait_exit() == 0, "daemon exit status after SIGTERM")
    check(fake_lines(d, "good", "shutdown"), "fake-good was not sent shutdown")
    try:
        os.kill(pid, 0)
        check(False, "fake-good (pid %d) outlived the daemon", pid)
    except ProcessLookupError:
        pass


plugins = [plugin_arg("good"), plugin_arg("unserved")] + [plugin_arg(s) for s in FAILING]
try:
    main(test, plugins=[],
         extra_args=["--host-path", host, "--handshake-timeout-ms", "2000",
                     "--ping-interval-ms", "500"] +
         [x for p in plugins for x in ("--plugin", p)])
finally:
    fake.remove()
