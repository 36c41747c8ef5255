#!/usr/bin/env python3
"""Issue 8, item 2, for a plugin run with --plugin (no database): its
manifest's defaultConfig holds secrets, the plugin logs one of them at load
(hello logs its greeting), and the daemon's log (its stderr, where every
plugin line goes) shows "********" in its place and never the secret."""
import atexit
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD_ROOT, check, main  # noqa: E402

SECRET = "SECRET-greeting-from-defaults"
work = tempfile.mkdtemp(prefix="ss-logsec-")
os.chmod(work, 0o755)  # the host runs as nobody when the daemon is root
atexit.register(shutil.rmtree, work, True)
src = os.path.join(BUILD_ROOT, "plugins", "hello")
dst = os.path.join(work, "hello")
os.makedirs(dst)
shutil.copy(os.path.join(src, "hello.so"), dst)
with open(os.path.join(src, "manifest.json")) as f:
    manifest = json.load(f)
manifest["configSchema"]["properties"]["greeting"]["sensitive"] = True
manifest["defaultConfig"] = {"greeting": SECRET, "apiToken": "SECRET-token-from-defaults"}
with open(os.path.join(dst, "manifest.json"), "w") as f:
    json.dump(manifest, f)


def test(d):
    d.wait_running("hello")
    line = d.wait_line(r"hello: (.*) from hello 1\.0\.0")
    check(line.group(1) == "********", "hello's greeting logged as %r", line.group(1))
    for l in d.snapshot():
        check("SECRET" not in l, "a secret in the daemon log: %r", l)


main(test, plugins=[os.path.join(dst, "hello.so")])
