#!/usr/bin/env python3
"""PROTOCOL.md: the daemon answers a hello it cannot accept with
reject {"error": {code, message}} and closes. The host must get to read that
answer - a protocol version it does not speak (version_mismatch, naming both
versions), or a missing sandbox layer in strict mode - so it can say why it
was turned away, instead of being killed with the answer unsent."""
import json
import os
import shutil
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, check, main  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
work = tempfile.mkdtemp(prefix="ss-reject-")
host = os.path.join(work, "fake_host.py")
shutil.copy(os.path.join(HERE, "fake_host.py"), host)
os.chmod(host, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)


def plugin_arg(scenario):
    path = os.path.join(work, scenario + ".so")
    with open(path, "w") as f:
        f.write(scenario + "\n")
    return "fake-%s=%s" % (scenario, path)


def rejects(d, name):
    return [json.loads(m.group(1)) for m in d.plugin_lines(name, r"fake: got (.*)$")]


def test(d):
    st = d.wait_status("fake-v2", lambda s: s["crashes"] >= 1 and s["last_exit"], "an ending")
    check(st["last_exit"]["reason"] == "load", "v2: %s", st["last_exit"])
    got = d.wait_until("the host to read a reject", lambda: rejects(d, "fake-v2"), timeout=10)
    check(got[0]["t"] == "reject" and got[0]["error"]["code"] == "version_mismatch",
          "v2 got %s", got)
    msg = got[0]["error"]["message"]
    check("2" in msg and "1" in msg, "version_mismatch message names both: %r", msg)

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
                           "--plugin", plugin_arg("v2")])
finally:
    shutil.rmtree(work, ignore_errors=True)
