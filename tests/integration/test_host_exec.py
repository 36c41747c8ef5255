#!/usr/bin/env python3
"""A host binary that cannot be executed (missing, or not executable): the
plugin is failed at once with the exec error as the operator has always
seen it ("cannot start host: execve <path>: <strerror>"), no restart is
tried, the child is reaped, and the daemon serves on. The exec result is
read from the loop: the start is answered before it is known (the host is
logged started with a pid), and the failure arrives afterwards."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, check, main  # noqa: E402

MISSING = "/nonexistent/streamspace-plugin-host"


def children(pid):
    """The pids whose parent is pid (zombies included)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


def expect_failed(d, path, error):
    want = "execve %s: %s" % (path, error)
    st = d.wait_status("hello", lambda s: s["state"] == "failed", "failed")
    le = st["last_exit"]
    check(le is not None and le["description"] == want, "last_exit: %s", le)
    check(le["reason"] == "sandbox_setup", "last_exit reason: %s", le)
    check(st["restarts"] == 0 and st["crashes"] == 0 and st["pid"] is None, "status: %s", st)
    m = d.wait_line(r"^error hello: cannot start host: (.*)$")
    check(m.group(1) == want, "the operator's line: %r", m.group(0))
    # Forked first, the failure learnt later: the async path, not a wait after fork.
    started = [i for i, l in enumerate(d.snapshot()) if l.startswith("debug hello: host started")]
    failed = [i for i, l in enumerate(d.snapshot()) if "cannot start host" in l]
    check(started and started[0] < failed[0], "no 'host started' before the failure")
    d.wait_until("the failed host reaped", lambda: not children(d.proc.pid) or None)
    check(d.healthy(), "the daemon does not answer /healthz")
    st = d.status("hello")
    check(st["state"] == "failed" and st["restarts"] == 0, "retried: %s", st)


def test(d):
    expect_failed(d, MISSING, "No such file or directory")

    fd, path = tempfile.mkstemp(prefix="ss-host-noexec.")
    os.write(fd, b"#!/bin/sh\nexit 0\n")
    os.close(fd)
    os.chmod(path, 0o644)
    s = Daemon(["hello"], ["--host-path", path])
    try:
        s.start()
        expect_failed(s, path, "Permission denied")
        s.stop()
        s.check_sanitizers()
    finally:
        s.kill()
        os.unlink(path)


main(test, plugins=["hello"], extra_args=["--host-path", MISSING])
