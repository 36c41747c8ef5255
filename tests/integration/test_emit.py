#!/usr/bin/env python3
"""ss_emit (PROTOCOL.md, "Emit"): kvdriver plugins emit on request. A bare
name is published as plugin.<own name>.<event> and reaches the others (echo
takes "*"); an emitter gets its own event back only through a pattern of its
own namespace (kv-a subscribes plugin.kv-a.*: it does; kv-b has "*": it does
not); session.*/user.* need write:sessions/write:users; another plugin's
namespace and platform names are refused; emits past the per-plugin token
bucket answer rate_limited, and are counted; a denial is logged."""
import atexit
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, manifest_plugin, plugin_path  # noqa: E402

work = tempfile.mkdtemp(prefix="ss-emit-")
os.chmod(work, 0o755)
atexit.register(shutil.rmtree, work, True)
PLUGINS = {
    "kv-a": (["read:sessions", "write:users"], {"subscribe": "plugin.kv-a.*"}),
    "kv-b": (["read:sessions", "read:users"], {"subscribe": "*"}),
    "kv-n": (["read:sessions"], {}),
}
paths = [manifest_plugin(work, name, perms, "emit driver", defaultConfig=config)
         for name, (perms, config) in PLUGINS.items()]

seq = [0]


def call(d, who, op, **kw):
    seq[0] += 1
    return d.driver_call(who, op, seq[0], **kw)


def got(d, who, type_):
    return [m for m in d.plugin_lines(who, r"^got (\S+) (\d+)$") if m.group(1) == type_]


def echoed(d, type_):
    return [m for m in d.plugin_lines("echo", r"^echo (\S+) (\d+)$") if m.group(1) == type_]


def test(d):
    for name in ("kv-a", "kv-b", "kv-n", "echo"):
        d.wait_running(name)
    r = call(d, "kv-a", "emit", event="report", data={"n": 1})
    check(r["r"] == 0, "kv-a emit: %s", r)
    d.wait_until("echo to see plugin.kv-a.report", lambda: echoed(d, "plugin.kv-a.report"))
    d.wait_until("kv-a to get its own event back (it subscribes plugin.kv-a.*)",
                 lambda: got(d, "kv-a", "plugin.kv-a.report"))
    d.wait_until("kv-b to get kv-a's event", lambda: got(d, "kv-b", "plugin.kv-a.report"))

    r = call(d, "kv-b", "emit", event="mine")
    check(r["r"] == 0, "kv-b emit: %s", r)
    d.wait_until("echo to see plugin.kv-b.mine", lambda: echoed(d, "plugin.kv-b.mine"))
    # The same event went to everyone at once; one more round trip makes sure.
    call(d, "kv-b", "get", key="x")
    check(not got(d, "kv-b", "plugin.kv-b.mine"), "kv-b got its own emit through \"*\"")

    # Full names: own namespace, write permissions, nothing else.
    check(call(d, "kv-a", "emit", event="plugin.kv-a.full")["r"] == 0, "own full name")
    check(call(d, "kv-a", "emit", event="user.created", data={"id": "u1"})["r"] == 0,
          "kv-a has write:users")
    d.wait_until("echo to see user.created", lambda: echoed(d, "user.created"))
    for who, event, word in (("kv-n", "user.created", "write:users"),
                             ("kv-n", "session.created", "write:sessions"),
                             ("kv-a", "session.created", "write:sessions"),
                             ("kv-n", "plugin.kv-a.fake", "plugin.kv-n.*"),
                             ("kv-a", "plugin.installed", "plugin.kv-a.*"),
                             ("kv-a", "system.startup", "plugin.kv-a.*")):
        r = call(d, who, "emit", event=event)
        check(r["r"] == -4 and r["code"] == "permission_denied" and word in r["msg"],
              "%s emitting %s: %s", who, event, r)
    check(d.matches(r"kv-n: denied: emitting \"user.created\" needs the \"write:users\""),
          "no log line for the denial")
    r = call(d, "kv-a", "emit", event="Bad Name")
    check(r["r"] == -1 and r["code"] == "bad_request", "bad name: %s", r)
    check(not echoed(d, "plugin.kv-a.fake") and not echoed(d, "plugin.installed"),
          "a refused emit was published")

    # The rate: --emit-rate 20, burst 200; the bucket is about full again.
    time.sleep(1.0)
    r = call(d, "kv-b", "flood", n=400)
    check(r["ok"] >= 200 and r["ok"] < 260 and r["ok"] + r["limited"] == 400,
          "flood of 400: %s", r)
    check(d.matches(r"kv-b: emit rate limit reached"), "no line about the rate limit")
    d.wait_until("echo to receive the flood", lambda: len(echoed(d, "plugin.kv-b.flood")) ==
                 r["ok"])
    check(d.alive(), "daemon died")


main(test, plugins=paths + [plugin_path("echo")], extra_args=["--emit-rate", "20"])
