#!/usr/bin/env python3
"""The daemon's command line: --help and --version exit 0; a bad flag, value
or plugin path exits non-zero (64 for a bad command line) with a message
that names what was wrong; a port already in use is reported. None of it
may leave a sanitizer report (a leak on an early exit is still a leak)."""
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DAEMON, SANITIZER_MARKS, check, main  # noqa: E402


def run(*args):
    p = subprocess.run([DAEMON] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    bad = [l for l in out.splitlines() if any(m in l for m in SANITIZER_MARKS)]
    check(not bad, "streamspaced %s: sanitizer report: %s", " ".join(args), bad[:2])
    return p.returncode, out


def test(_d):
    rc, out = run("--help")
    check(rc == 0 and "usage:" in out, "--help: rc %d: %s", rc, out[:200])
    rc, out = run("--version")
    check(rc == 0 and "0." in out, "--version: rc %d: %s", rc, out[:200])
    for args, word in [(["--log-level", "bogus"], "bogus"),
                       (["--bogus-flag"], "bogus-flag"),
                       (["--plugin", "/nonexistent/x.so"], "/nonexistent/x.so"),
                       (["--max-frame", "0"], "--max-frame"),
                       (["--queue-max", "many"], "--queue-max")]:
        rc, out = run(*args)
        check(rc == 64, "%s: rc %d, expected 64: %s", args, rc, out[:300])
        check(word in out, "%s: the message does not name %r: %s", args, word, out[:300])
    for value in ("nonsense", "127.0.0.1:99999", "256.0.0.1:80"):
        rc, out = run("--listen", value)
        check(rc != 0, "--listen %s: rc 0", value)
        check(value in out, "--listen %s: the message does not name it: %s", value, out[:300])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        taken = "127.0.0.1:%d" % s.getsockname()[1]
        rc, out = run("--listen", taken)
        check(rc != 0, "--listen %s (in use): rc 0", taken)
        check(str(s.getsockname()[1]) in out, "port in use not named: %s", out[:300])


main(test, start=False)
