#!/usr/bin/env python3
"""Platform events (PROTOCOL.md, "Platform events") with real hosts of the
jobber test plugin, each configured by the manifest this test writes:

* jobs-admin (admin) subscribes to "*": it receives system.startup once the
  boot plugins have started, plugin.crashed when jobs-a's host crashes (with
  the cause and the description of its last exit), and system.shutdown when
  the daemon is stopped; never a plugin.crashed about its own crash.
* jobs-plain (read:sessions, read:users, no admin) subscribes to "*" and
  "plugin.*": it receives session and plugin events, and nothing of the
  platform's.
* jobs-n (no admin) subscribes to "system.*": its load is refused with the
  reason naming the admin permission.
* Nobody can send a platform event: POST /api/events refuses the names.
"""
import json
import os
import re
import shutil
import sys
import tempfile
import atexit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, test_plugin_path  # noqa: E402

work = tempfile.mkdtemp(prefix="ss-platform-")
os.chmod(work, 0o755)
atexit.register(shutil.rmtree, work, True)

PLATFORM = ("plugin.installed", "plugin.enabled", "plugin.disabled", "plugin.uninstalled",
            "plugin.crashed", "system.startup", "system.shutdown")


def plugin_dir(name, manifest):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    shutil.copy(test_plugin_path(name), os.path.join(d, name + ".so"))
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(dict({"name": name, "version": "1.0.0", "entrypoints": {"main": name + ".so"}},
                       **manifest), f)
    return os.path.join(d, name + ".so")


CRASHER = {"every": [{"name": "boom", "seconds": 1}], "subscribe": ["session.created"]}
ADMIN = plugin_dir("jobs-admin", {"permissions": ["admin"],
                                  "defaultConfig": {"subscribe": ["*"],
                                                    "every": [{"name": "boom", "seconds": 1}]}})
A = plugin_dir("jobs-a", {"permissions": ["read:sessions", "scheduler"], "defaultConfig": CRASHER})
PLAIN = plugin_dir("jobs-plain", {"permissions": ["read:sessions", "read:users"],
                                  "defaultConfig": {"subscribe": ["*", "plugin.*"]}})
N = plugin_dir("jobs-n", {"permissions": ["read:sessions"],
                          "defaultConfig": {"subscribe": ["system.*"]}})


def events(d, who, type_=None):
    """(type, data) of every event the plugin logged."""
    out = []
    for m in d.plugin_lines(who, r"^event (\S+) (\{.*\})$"):
        if type_ is None or m.group(1) == type_:
            out.append((m.group(1), json.loads(m.group(2))))
    return out


def test(d):
    for name in ("jobs-admin", "jobs-a", "jobs-plain"):
        d.wait_running(name)

    # Without admin, a pattern only platform events match refuses the load, with the reason.
    st = d.wait_status("jobs-n", lambda s: s["state"] == "failed", "jobs-n refused")
    check('subscribing to "system.*" needs the "admin" permission' in
          st["last_exit"]["description"], "jobs-n: %s", st["last_exit"])

    # system.startup, once the boot plugins have started.
    ev = d.wait_until("system.startup at jobs-admin", lambda: events(d, "jobs-admin",
                                                                       "system.startup"))
    check(len(ev) == 1 and ev[0][1]["plugins"] >= 3 and ev[0][1]["version"],
          "system.startup: %s", ev)

    # Nobody sends one.
    for t in PLATFORM:
        r = d.request("POST", "/api/events", {"type": t, "data": {}})
        check(r.status == 400, "POST %s: %r", t, r)

    # jobs-a's host crashes in a job: the admin plugin hears of it, the plain one does not.
    d.post_event("session.created", {"crash": "boom", "who": "jobs-a"})
    st = d.wait_status("jobs-a", lambda s: s["crashes"] >= 1, "jobs-a crashed")
    ev = d.wait_until("plugin.crashed of jobs-a at jobs-admin",
                      lambda: [e for e in events(d, "jobs-admin", "plugin.crashed")
                               if e[1]["plugin"] == "jobs-a"])
    data = ev[0][1]
    check(data["plugin"] == "jobs-a" and data["version"] == "1.0.0" and
          data["cause"] == "signal" and "SIGABRT" in data["description"] and
          data["crashes"] == 1 and data["state"] in ("crashed", "failed"),
          "plugin.crashed: %s", data)

    # A custom event reaches the plain plugin through plugin.*: its patterns work.
    d.post_event("plugin.jobs-a.hello", {"n": 1})
    d.wait_until("plugin.jobs-a.hello at jobs-plain",
                 lambda: events(d, "jobs-plain", "plugin.jobs-a.hello"))

    # The admin plugin's own crash: not announced to itself (no loop), nor to the plain one.
    pid = d.status("jobs-admin")["pid"]
    d.post_event("session.created", {"crash": "boom"})
    d.wait_status("jobs-admin", lambda s: s["crashes"] >= 1 and s["state"] == "running" and
                  s["pid"] != pid, "jobs-admin restarted")
    # jobs-a crashed on the same event: its plugin.crashed arrives at the restarted admin,
    # behind which nothing about the admin itself may come.
    d.wait_until("a second plugin.crashed about jobs-a",
                 lambda: [e for e in events(d, "jobs-admin", "plugin.crashed")
                          if e[1]["plugin"] == "jobs-a" and e[1]["crashes"] >= 2])
    # Events reach a plugin in order: once this marker is in, anything before it is too.
    d.post_event("plugin.jobs-a.marker", {})
    d.wait_until("the marker at jobs-admin", lambda: events(d, "jobs-admin", "plugin.jobs-a.marker"))
    about_self = [e for e in events(d, "jobs-admin", "plugin.crashed")
                  if e[1]["plugin"] == "jobs-admin"]
    check(not about_self, "jobs-admin heard of its own crash: %s", about_self)
    got = [t for t, _ in events(d, "jobs-plain") if t in PLATFORM]
    check(not got, "jobs-plain received platform events: %s", got)
    check(events(d, "jobs-plain", "session.created"), "jobs-plain got no session events")

    # system.shutdown reaches the admin plugin while the daemon drains.
    d.stop()
    ev = events(d, "jobs-admin", "system.shutdown")
    check(len(ev) == 1 and ev[0][1]["signal"] == "SIGTERM", "system.shutdown: %s", ev)
    got = [t for t, _ in events(d, "jobs-plain") if t in PLATFORM]
    check(not got, "jobs-plain received platform events: %s", got)


main(test, plugins=[ADMIN, A, PLAIN, N])
