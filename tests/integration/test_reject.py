#!/usr/bin/env python3
"""PROTOCOL.md: the daemon answers a hello it cannot accept with
reject {"error": {code, message}} and closes. The host must get to read that
answer - a protocol version it does not speak (version_mismatch, naming both
versions), or a missing sandbox layer in strict mode - so it can say why it
was turned away, instead of being killed with the answer unsent."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FakeHost, Daemon, check, main  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hostile"))
from run_host import host_protocol  # noqa: E402  SS_PROTOCOL_VERSION of proto/msg.h

fake = FakeHost("ss-reject-")
host = fake.path
plugin_arg = fake.plugin_arg


def rejects(d, name):
    return [json.loads(m.group(1)) for m in d.plugin_lines(name, r"fake: got (.*)$")]


def test(d):
    st = d.wait_status("fake-v99", lambda s: s["crashes"] >= 1 and s["last_exit"], "an ending")
    check(st["last_exit"]["reason"] == "load", "v99: %s", st["last_exit"])
    got = d.wait_until("the host to read a reject", lambda: rejects(d, "fake-v99"), timeout=10)
    check(got[0]["t"] == "reject" and got[0]["error"]["code"] == "version_mismatch",
          "v99 got %s", got)
    msg = got[0]["error"]["message"]
    check("99" in msg and "1 to %d" % host_protocol() in msg,
          "version_mismatch message names both: %r", msg)

    s = Daemon([], ["--host-path", host, "--sandbox", "strict", "--plugin", plugin_arg("good"),
                    "--handshake-timeout-ms", "2000"])
    try:
        s.start()
        st = s.wait_status("fake-good", lambda x: x["crashes"] >= 1 and x["last_exit"],
                           "refused in strict mode")
        check(st["last_exit"]["reason"] == "sandbox_setup", "strict: %s", st["last_exit"])
        got = s.wait_until("the host to read a reject", lambda: rejects(s, "fake-good"),
                           timeout=10)
        check(got[0]["t"] == "reject", "strict: the host got %s", got)
        s.stop()
    finally:
        s.kill()


try:
    main(test, extra_args=["--host-path", host, "--handshake-timeout-ms", "2000",
                           "--plugin", plugin_arg("v99")])
finally:
    fake.remove()
