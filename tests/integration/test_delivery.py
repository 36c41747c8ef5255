#!/usr/bin/env python3
"""Events posted to POST /api/events arrive at both plugins, each exactly once
and in the order the daemon accepted them, single events and batches alike."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, echo_ids, main, wait_echo, wait_hello  # noqa: E402

TYPES = ["session.created", "session.started", "user.login", "session.stopped",
         "user.logout", "plugin.echo.custom", "session.hibernated", "session.woken",
         "user.created", "plugin.hello.ping.v2", "session.deleted", "user.deleted"]


def test(d):
    d.wait_running("echo")
    d.wait_running("hello")
    posted = []  # (id, type, data)
    for i in range(60):
        t = TYPES[i % len(TYPES)]
        data = {"seq": i, "text": "caf\u00e9 \"%d\"" % i, "nested": {"list": [i, None, True]}}
        posted.append((d.post_event(t, data), t, data))
    batch = [{"type": TYPES[i % len(TYPES)], "data": {"seq": 60 + i}} for i in range(40)]
    for ev, id_ in zip(batch, d.post_batch(batch)):
        posted.append((id_, ev["type"], ev["data"]))
    # An event without data reaches plugins with an empty object.
    posted.append((d.post_event("user.updated"), "user.updated", {}))

    ids = [p[0] for p in posted]
    check(ids == sorted(ids) and len(set(ids)) == len(ids),
          "ids are not increasing and unique: %s", ids)
    n = len(posted)
    for name in ("echo", "hello"):
        st = d.wait_delivered(name, n)
        check(st["delivered"] == n, "%s delivered %d, expected %d", name, st["delivered"], n)
        for k in ("dropped", "failed", "poisoned", "crashes", "restarts", "queue_depth"):
            check(st[k] == 0, "%s: %s is %s", name, k, st[k])

    got = wait_echo(d, n)
    check(got == ids, "echo saw %s\n expected %s", got, ids)
    types = [m.group(1) for m in d.plugin_lines("echo", r"^echo (\S+) (\d+)$")]
    check(types == [p[1] for p in posted], "echo saw types %s", types)

    seen = wait_hello(d, n)
    check([s[0] for s in seen] == ids, "hello saw ids %s\n expected %s",
          [s[0] for s in seen], ids)
    for (id_, t, data), (hid, ht, hdata) in zip(posted, seen):
        check(ht == t and hdata == data, "hello got event %d as %s %r, posted %s %r",
              id_, ht, hdata, t, data)

    # The list endpoint shows both, with the same counters.
    lst = d.status_all()
    check(lst["count"] == 2 and len(lst["plugins"]) == 2, "plugin list: %s", lst)
    names = sorted(p["name"] for p in lst["plugins"])
    check(names == ["echo", "hello"], "plugin list names: %s", names)
    for p in lst["plugins"]:
        check(p["delivered"] == n and p["state"] == "running", "list entry: %s", p)
        check(isinstance(p["pid"], int) and p["pid"] > 0, "list entry pid: %s", p)
        check(p["version"] == "1.0.0", "list entry version: %s", p)
        check(p["subscriptions"] == ["*"], "list entry subscriptions: %s", p)
        check(isinstance(p["sandbox"].get("layers"), list) and "seccomp_serve" in
              p["sandbox"]["layers"], "sandbox layers: %s", p["sandbox"])
    check(d.accepted_total() == n, "accepted_total is not %d", n)
    r = d.request("GET", "/readyz")
    check(r.status == 200, "/readyz: %r", r)
    metrics = d.request("GET", "/metrics").body.decode()
    for name in ("echo", "hello"):
        for line in ('streamspace_plugin_delivered{plugin="%s"} %d' % (name, n),
                     'streamspace_plugin_up{plugin="%s"} 1' % name,
                     'streamspace_plugin_dropped{plugin="%s"} 0' % name):
            check(line in metrics.splitlines(), "/metrics lacks %r", line)

    # Far more than the window (32) at once: still each once, in order.
    burst = d.post_batch([{"type": "user.login", "data": {"burst": i}} for i in range(700)])
    for name in ("echo", "hello"):
        st = d.wait_delivered(name, n + len(burst))
        check(st["delivered"] == n + len(burst) and st["dropped"] == 0, "%s: %s", name, st)
    wait_echo(d, n + len(burst))
    check(echo_ids(d) == ids + burst, "echo's order broke in the burst")


main(test, plugins=["echo", "hello"])
