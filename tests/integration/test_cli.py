#!/usr/bin/env python3
"""The daemon's command line: --help and --version exit 0; a bad flag, value
or plugin path exits non-zero (64 for a bad command line) with a message
that names what was wrong; a port already in use is reported. None of it
may leave a sanitizer report (a leak on an early exit is still a leak)."""
import os
import resource
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DAEMON, SANITIZER_MARKS, check, main  # noqa: E402


def run(*args, nofile=None):
    def limit():
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE,
                               (nofile, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    p = subprocess.run([DAEMON] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
                       preexec_fn=limit)
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
                       (["--queue-max", "many"], "--queue-max"),
                       (["--egress-connect-to", "a.example:443:127.0.0.1"],
                        "--egress-connect-to"),
                       (["--egress-connect-to", "a.example:99999:127.0.0.1:1"],
                        "--egress-connect-to"),
                       (["--egress-timeout-ms", "5"], "--egress-timeout-ms")]:
        rc, out = run(*args)
        check(rc == 64, "%s: rc %d, expected 64: %s", args, rc, out[:300])
        check(word in out, "%s: the message does not name %r: %s", args, word, out[:300])
    # --plugin is bounded by the open-file limit, not a fixed 64: each host
    # holds 4 of the daemon's descriptors and 256 stay for the rest.
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    many = min(100, (soft - 256) // 4)
    rc, out = run(*(["--plugin", "builtin:nope"] * many), "--version")
    check(rc == 0, "%d --plugin (open-file limit %d): rc %d: %s", many, soft, rc, out[:300])
    rc, out = run(*(["--plugin", "builtin:nope"] * 12), "--version", nofile=300)
    check(rc == 64, "12 --plugin with 300 descriptors: rc %d, expected 64: %s", rc, out[:300])
    check("at most 11 --plugin" in out and "300" in out,
          "12 --plugin with 300 descriptors: the message does not say the bound: %s", out[:300])
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
