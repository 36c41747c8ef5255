#!/usr/bin/env python3
"""A root daemon whose --plugin lives in a directory nobody (the user its
hosts run as) cannot enter refuses to start, naming the directory and the
user, instead of failing every start of that plugin in the host's sandbox
setup; a closed directory holding two plugins is named once, and a plugin
file nobody cannot read in an open directory is named too (all checked in
one pass). The same plugin in a directory nobody can read runs."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DAEMON, HOST, check, main, plugin_path  # noqa: E402

CLOSED = tempfile.mkdtemp(prefix="ss-closed.")  # mode 0700, owned by root
shutil.copy(plugin_path("echo"), CLOSED)
shutil.copy(plugin_path("hello"), CLOSED)
OPEN = tempfile.mkdtemp(prefix="ss-open.")
os.chmod(OPEN, 0o755)
shutil.copy(plugin_path("echo"), OPEN)
PRIVATE = os.path.join(OPEN, "private.so")  # mode 0600: nobody cannot read it
shutil.copy(plugin_path("hello"), PRIVATE)
os.chmod(PRIVATE, 0o600)


def test(d):
    try:
        check(os.geteuid() == 0, "this test needs root (the daemon's hosts then run as nobody)")
        try:
            p = subprocess.run([DAEMON, "--listen", "127.0.0.1:0", "--host-path", HOST,
                                "--plugin", os.path.join(CLOSED, "echo.so"),
                                "--plugin", os.path.join(CLOSED, "hello.so"),
                                "--plugin", PRIVATE],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=20)
        except subprocess.TimeoutExpired:
            check(False, "the daemon started with a plugin directory nobody cannot read")
        out = p.stdout + p.stderr
        check(p.returncode == 1, "daemon exited %s, expected 1: %s", p.returncode, out)
        check("plugin directory %s is not readable by nobody (uid 65534)" % CLOSED in out,
              "no message naming the directory and the user: %s", out)
        check(out.count("plugin directory %s is not" % CLOSED) == 1,
              "the closed directory is not named exactly once: %s", out)
        check("plugin %s is not readable by nobody" % PRIVATE in out,
              "no message naming the unreadable file: %s", out)
        check("listening" not in out, "the daemon listened before refusing: %s", out)
        # The readable one beside it starts and runs.
        d.start()
        st = d.wait_running("echo")
        check(st["crashes"] == 0, "echo crashed: %s", st)
    finally:
        shutil.rmtree(CLOSED, ignore_errors=True)


try:
    main(test, plugins=[os.path.join(OPEN, "echo.so")], start=False)
finally:
    shutil.rmtree(OPEN, ignore_errors=True)
