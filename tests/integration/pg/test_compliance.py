#!/usr/bin/env python3
"""Issue 12, streamspace-compliance in the real daemon: installed from the
shipped catalog with only read:sessions, read:users, storage, routes and
scheduler, it records the configured data-access events in the plugin's
storage (read back here from plugin_storage) under their class, flags a login
outside allowedLoginHours (at a UTC offset) and a session longer than
maxSessionHours as violations, announced as
plugin.streamspace-compliance.violation (which the shipped echo plugin
receives), reports a range at GET /report (bad ranges: 400 in the daemon's
error shape), and its retention job deletes what is past each class's
retentionDays, by the records' event times (no sleeping for days), and flags
a session still running past the limit, once."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"
NAME = "streamspace-compliance"
VIOLATION = f"echo plugin.{NAME}.violation"


def storage(pg, d):
    return h.plugin_storage(pg, d, NAME)


def install(d, config):
    r = d.post(f"{M}/install/{NAME}", {"config": config})
    assert r.status == 201, (r, d.log()[-2000:])
    assert d.post(f"{M}/install/echo", {"config": {}}).status == 201
    d.wait_state(NAME, "running")
    d.wait_state("echo", "running")


def poster(d, svc):
    def post(event, data):
        r = d.post("/api/events", {"type": event, "data": data}, token=svc)
        assert r.status == 202, r
        return r.json["id"] if isinstance(r.json, dict) and "id" in r.json else None
    return post


def kinds(st, kind):
    return {k: v for k, v in st.items() if k.startswith("rec/") and v.get("kind") == kind}


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def test_compliance(pg):
    d, ci, svc = h.fresh_daemon(pg, "compliance")
    try:
        entry = [p for p in d.get(f"{M}/catalog").json["plugins"] if p["name"] == NAME]
        assert entry and sorted(entry[0]["permissions"]) == [
            "read:sessions", "read:users", "routes", "scheduler", "storage"], entry
        install(d, {"dataAccessEvents": ["session.woken", "user.updated", "plugin.files.*"],
                    "loginEvents": ["user.login"], "maxSessionHours": 8,
                    "allowedLoginHours": {"start": "08:00", "end": "18:00",
                                          "utcOffset": "+02:00"}})
        post = poster(d, svc)
        post("session.woken", {"id": "s1", "user": "alice",
                               "timestamp": "2026-12-01T09:00:00Z"})
        post("user.updated", {"user_id": "bob", "timestamp": "2026-12-01T10:00:00Z"})
        post("session.created", {"id": "s1", "user": "alice",
                                 "timestamp": "2026-12-01T08:00:00Z"})  # not data access
        post("user.login", {"user": "carol", "timestamp": "2026-12-01T07:00:00Z"})  # 09:00 local
        post("user.login", {"user": "dave", "timestamp": "2026-12-01T21:10:00Z"})  # 23:10 local
        post("session.started", {"id": "s2", "user": "erin", "timestamp": "2026-12-01T00:00:00Z"})
        post("session.stopped", {"id": "s2", "timestamp": "2026-12-01T09:00:00Z"})  # 9 h > 8
        post("session.started", {"id": "s3", "user": "fay", "timestamp": "2026-12-01T10:00:00Z"})
        post("session.stopped", {"id": "s3", "timestamp": "2026-12-01T12:00:00Z"})  # 2 h
        post("plugin.files.download", {"user": "alice", "path": "/home/alice/a.txt",
                                       "timestamp": "2026-12-03T09:00:00Z"})
        post("session.started", {"id": "s4", "user": "gus", "timestamp": "2026-12-03T10:00:00Z"})
        try:
            h.wait_for(lambda: "open/s4" in storage(pg, d), 20, "the last event handled")
        except AssertionError as e:
            raise AssertionError(f"{e}; log: {d.log()[-3000:]}") from None
        st = storage(pg, d)
        acc = kinds(st, "access")
        assert sorted(acc) == [k for k in sorted(st) if k.split("/")[:2] in (
            ["rec", "session"], ["rec", "user"], ["rec", "plugin"])], st
        assert len(acc) == 3, acc
        by_type = sorted((v["type"], v["user"], v["at"]) for v in acc.values())
        assert by_type == [("plugin.files.download", "alice", "2026-12-03T09:00:00.000Z"),
                           ("session.woken", "alice", "2026-12-01T09:00:00.000Z"),
                           ("user.updated", "bob", "2026-12-01T10:00:00.000Z")], by_type
        assert sorted(k.split("/")[1] for k in acc) == ["plugin", "session", "user"], acc
        assert all(k.split("/")[1] == v["class"] for k, v in acc.items()), acc
        assert sorted((v["type"], v["session"]) for v in acc.values()) == [
            ("plugin.files.download", None), ("session.woken", "s1"), ("user.updated", None)], acc
        vio = kinds(st, "violation")
        assert all(k.startswith("rec/violation/") for k in vio), vio
        rules = sorted((v["rule"], v["user"]) for v in vio.values())
        assert rules == [("login-outside-hours", "dave"), ("session-too-long", "erin")], vio
        login = [v for v in vio.values() if v["rule"] == "login-outside-hours"][0]
        assert "23:10 local time, outside 08:00-18:00" in login["detail"], login
        long_ = [v for v in vio.values() if v["rule"] == "session-too-long"][0]
        assert long_["session"] == "s2" and "9.00 h" in long_["detail"], long_
        # Stopped sessions leave the open index; a running one stays.
        assert [k for k in st if k.startswith("open/")] == ["open/s4"], sorted(st)
        assert st["open/s4"]["user"] == "gus", st["open/s4"]
        # The violations reached another plugin, once each.
        h.wait_for(lambda: d.log().count(VIOLATION) == 2, 20, "two violations at echo")

        R = f"/api/plugins/{NAME}/report"
        r = d.get(f"{R}?from=2026-12-01&to=2026-12-01")  # that whole day
        assert r.status == 200, r
        rep = r.json
        assert rep["from"] == "2026-12-01T00:00:00.000Z", rep
        assert rep["to"] == "2026-12-02T00:00:00.000Z", rep
        assert rep["access"]["total"] == 2, rep
        assert rep["access"]["byUser"] == {"alice": 1, "bob": 1}, rep
        assert rep["access"]["byType"] == {"session.woken": 1, "user.updated": 1}, rep
        assert rep["violations"]["total"] == 2, rep
        assert rep["violations"]["byRule"] == {"login-outside-hours": 1,
                                               "session-too-long": 1}, rep
        assert len(rep["violations"]["records"]) == 2 and not rep["violations"]["truncated"]
        # An open end, as a service; and a range of times.
        r = d.get(f"{R}?from=2026-12-02T00:00:00Z", token=svc)
        assert r.status == 200 and r.json["to"] is None, r
        assert r.json["access"]["total"] == 1 and r.json["violations"]["total"] == 0, r.json
        r = d.get(f"{R}?from=2026-12-01T09:30:00Z&to=2026-12-01T21:10:00Z")
        assert r.status == 200, r
        assert r.json["access"]["byType"] == {"user.updated": 1}, r.json
        assert r.json["violations"]["byRule"] == {}, r.json  # to is exclusive
        r = d.get(R)
        assert r.status == 200 and r.json["access"]["total"] == 3, r
        assert r.json["from"] is None and r.json["violations"]["total"] == 2, r.json
        for q, why in (("from=yesterday", "ISO 8601"), ("to=2026-13-01", "ISO 8601"),
                       ("from=2026-12-02&to=2026-12-01", "not before"),
                       ("from=2026-12-01T10:00:00Z&to=2026-12-01T10:00:00Z", "not before")):
            r = d.get(f"{R}?{q}")
            assert r.status == 400, (q, r)
            assert r.json["error"]["code"] == "bad_request" and why in \
                r.json["error"]["message"], (q, r.json)
        viewer = h.make_token(ci, "v", "viewer", d)
        assert d.get(R, token=viewer).status == 403
        assert d.request("GET", R, token="").status == 401
    finally:
        rc = d.stop()
        assert rc == 0, d.log()[-3000:]


def test_compliance_retention(pg):
    """The retention job deletes by each class's retentionDays; flags long sessions once."""
    d, _, svc = h.fresh_daemon(pg, "compliance_ret")
    try:
        # A schedule the daemon cannot parse: the plugin does not start, and says why.
        r = d.post(f"{M}/install/{NAME}", {"config": {"retentionSchedule": "@every x"}})
        assert r.status == 422 and r.json["error"]["code"] == "start_failed", r
        assert "retention job (@every x): " in d.log(), d.log()[-2000:]
        install(d, {"retentionSchedule": "@every 2",
                    "retentionDays": {"session": 30, "user": 0, "plugin": 30, "other": 30,
                                      "violation": 365},
                    "dataAccessEvents": ["session.woken", "user.updated"],
                    "maxSessionHours": 1})
        post = poster(d, svc)
        now = time.time() * 1000
        D = 86400000
        post("session.woken", {"id": "a", "user": "old", "timestamp": iso(now - 100 * D)})
        post("session.woken", {"id": "b", "user": "new", "timestamp": iso(now - 1 * D)})
        post("user.updated", {"user": "kept", "timestamp": iso(now - 400 * D)})  # 0 = forever
        post("session.started", {"id": "long", "user": "lou", "timestamp": iso(now - 3 * 3600000)})
        # Records within retention, which a run does not read (it stops at the first kept).
        for i in range(20):
            post("session.woken", {"id": f"n{i}", "user": "new", "timestamp": iso(now - 2 * D)})
        try:
            h.wait_for(lambda: "open/long" in storage(pg, d), 20, "the events recorded")
            runs = d.log().count("retention-custom: ")
            # Two runs more: one wholly after the records were written.
            h.wait_for(lambda: d.log().count("retention-custom: ") >= runs + 2, 20,
                       "two retention runs")
        except AssertionError as e:
            raise AssertionError(f"{e}; log: {d.log()[-3000:]}") from None
        st = storage(pg, d)
        acc = sorted(set(v["user"] for v in kinds(st, "access").values()))
        assert acc == ["kept", "new"], sorted(st)
        assert "retention-custom: 1 deleted" in d.log(), d.log()[-3000:]
        # Each run reads at most the first kept record of each class with a retention
        # (session, plugin, other, violation), and the expired ones: never the 21 kept.
        reads = [int(m) for m in re.findall(r"retention-custom: \d+ deleted \((\d+) records read\)",
                                            d.log())]
        assert reads and max(reads) <= 1 + 4, (reads, d.log()[-3000:])
        assert f"echo plugin.{NAME}.retention-run" in d.log(), d.log()[-3000:]
        # The running session past maxSessionHours: a violation found by the job, once.
        vio = list(kinds(st, "violation").values())
        assert [(v["rule"], v["session"], v["user"]) for v in vio] == [
            ("session-too-long", "long", "lou")], vio
        assert "running for 3.0" in vio[0]["detail"], vio
        # Timed when it passed the limit: started 3 h ago, over 1 h two hours ago.
        assert abs(vio[0]["ts"] - (now - 2 * 3600000)) < 2000 and vio[0]["eventId"] == 0, vio
        assert st["open/long"]["flagged"] is True, st["open/long"]
        h.wait_for(lambda: d.log().count(VIOLATION) == 1, 20, "the violation at echo")
        post("session.stopped", {"id": "long"})
        h.wait_for(lambda: "open/long" not in storage(pg, d), 20, "the session stopped")
        assert len(kinds(storage(pg, d), "violation")) == 1, storage(pg, d)
        runs = d.log().count("retention-custom: ")
        h.wait_for(lambda: d.log().count("retention-custom: ") >= runs + 1, 20, "another run")
        assert d.log().count(VIOLATION) == 1, d.log()[-2000:]
    finally:
        rc = d.stop()
        assert rc == 0, d.log()[-3000:]


if __name__ == "__main__":
    sys.exit(h.run_cases([test_compliance, test_compliance_retention]))
