#!/usr/bin/env python3
"""Issue 12, streamspace-billing in the real daemon: installed from the
shipped catalog, it bills each session from its session.* events into the
plugin's storage (read back here from plugin_storage): running time at the
computeRates of the session's resources (Kubernetes quantities), hibernated
time not billed for compute, the split at UTC midnight into per-user day
records, a redelivered event not counted twice, the session's own record,
the index of open sessions; and the monthly quota's alertThreshold crossed
once, announced as plugin.streamspace-billing.quota-exceeded (which the
shipped echo plugin receives). An event without data.timestamp is timed by
the bus (ss_event_ts)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"
NAME = "streamspace-billing"


def storage(pg, d):
    return h.plugin_storage(pg, d, NAME)


def near(a, b):
    return abs(a - b) < 1e-9


def test_billing(pg):
    d, ci, svc = h.fresh_daemon(pg, "billing")
    try:
        entry = [p for p in d.get(f"{M}/catalog").json["plugins"] if p["name"] == NAME]
        assert entry and sorted(entry[0]["permissions"]) == ["read:sessions", "routes",
                                                              "scheduler", "storage"], \
            entry and entry[0]["permissions"]
        r = d.post(f"{M}/install/{NAME}", {"config": {
            "computeRates": {"cpu_per_core_hour": 0.5, "memory_per_gb_hour": 0.25,
                             "storage_per_gb_month": 73},
            "monthlyQuota": 10, "alertThreshold": 50}})
        assert r.status == 201, r
        assert d.post(f"{M}/install/echo", {"config": {}}).status == 201
        d.wait_state(NAME, "running")
        d.wait_state("echo", "running")

        def post(event, data):
            r = d.post("/api/events", {"type": event, "data": data}, token=svc)
            assert r.status == 202, r
            return r.json

        res = {"cpu": "2000m", "memory": "4Gi", "storage": "10Gi"}
        # s1 of alice: runs 22:00-02:00 across midnight, hibernates 2 h, runs 1 h, stops.
        post("session.created", {"id": "s1", "user": "alice", "template": "firefox",
                                 "resources": res, "timestamp": "2026-11-30T21:00:00Z"})
        post("session.started", {"id": "s1", "timestamp": "2026-11-30T22:00:00Z"})
        post("session.hibernated", {"id": "s1", "timestamp": "2026-12-01T02:00:00Z"})
        post("session.woken", {"id": "s1", "timestamp": "2026-12-01T04:00:00Z"})
        post("session.stopped", {"id": "s1", "timestamp": "2026-12-01T05:00:00Z"})
        # s2 of bob: 1 core, 1 GiB as numbers, 30 minutes, still open (started).
        post("session.started", {"id": "s2", "user": "bob", "cpu": 1, "memory": 1,
                                 "timestamp": "2026-12-01T10:00:00Z"})
        before = time.time() * 1000
        post("session.started", {"id": "s3", "user": "carol"})  # timed by the bus
        after = time.time() * 1000
        try:
            h.wait_for(lambda: storage(pg, d).get("session/s3"), 20, "s3 recorded")
            h.wait_for(lambda: storage(pg, d).get("session/s1", {}).get("state") == "stopped",
                       20, "s1 stopped")
        except AssertionError as e:
            raise AssertionError(f"{e}; log: {d.log()[-3000:]}") from None
        st = storage(pg, d)
        H = 3600000
        # Per hour running: 2 cores * 0.5 + 4 GiB * 0.25 = 2.0; storage 10 GiB * 73 / 730 = 1.0
        # per hour the session exists (running or hibernated).
        s1 = st["session/s1"]
        assert s1["user"] == "alice" and s1["template"] == "firefox", s1
        assert s1["runningMs"] == 5 * H and s1["hibernatedMs"] == 2 * H, s1
        assert near(s1["cost"], 5 * 2.0 + 7 * 1.0), s1
        assert near(s1["cpu"], 2) and near(s1["memoryGi"], 4) and near(s1["storageGi"], 10), s1
        nov, dec = st["day/alice/2026-11-30"], st["day/alice/2026-12-01"]
        assert nov["runningMs"] == 2 * H and nov["hibernatedMs"] == 0, nov
        assert near(nov["cost"], 2 * 3.0) and near(nov["cpuCoreHours"], 4), nov
        assert dec["runningMs"] == 3 * H and dec["hibernatedMs"] == 2 * H, dec
        assert near(dec["cost"], 3 * 3.0 + 2 * 1.0), dec
        assert near(dec["memoryGbHours"], 12) and near(dec["storageGbHours"], 50), dec
        assert list(dec["sessions"]) == ["s1"] and dec["sessions"]["s1"]["runningMs"] == 3 * H
        assert near(st["month/alice/2026-11"]["cost"], 6.0), st["month/alice/2026-11"]
        assert near(st["month/alice/2026-12"]["cost"], 11.0), st["month/alice/2026-12"]
        # Open stretches are indexed (the hourly job's list); a stopped one is not.
        assert "open/s2" in st and "open/s3" in st and "open/s1" not in st, sorted(st)
        assert st["session/s2"]["state"] == "running" and "day/bob/2026-12-01" not in st
        assert before - 1000 <= st["session/s3"]["since"] <= after + 1000, st["session/s3"]
        # The quota (10 at 50%): alice crossed 5 in both months; announced once each.
        h.wait_for(lambda: d.log().count(f"echo plugin.{NAME}.quota-exceeded") == 2, 20,
                   "two quota-exceeded events at echo")
        assert "quota-exceeded: alice at 50% of 10.00 in 2026-11" in d.log(), d.log()[-2000:]
        assert "quota-exceeded: alice at 50% of 10.00 in 2026-12" in d.log(), d.log()[-2000:]
        assert st["month/alice/2026-12"]["alerted"] == 50, st["month/alice/2026-12"]

        # s2 stops 30 min after it started; a second stop changes nothing. (A
        # redelivered event, the same id again, is plugins_usage's: POST always makes
        # a new one.) s1 runs again for 30 minutes.
        post("session.stopped", {"id": "s2", "timestamp": "2026-12-01T10:30:00Z"})
        post("session.stopped", {"id": "s2", "timestamp": "2026-12-01T11:30:00Z"})
        post("session.started", {"id": "s1", "timestamp": "2026-12-01T06:00:00Z"})
        post("session.stopped", {"id": "s1", "timestamp": "2026-12-01T06:30:00Z"})
        h.wait_for(lambda: storage(pg, d).get("session/s1", {}).get("runningMs") == 5.5 * H,
                   20, "s1's second run")
        st = storage(pg, d)
        b = st["day/bob/2026-12-01"]
        assert b["runningMs"] == H // 2 and near(b["cost"], 0.5 * (0.5 + 0.25)), b
        assert "open/s2" not in st, sorted(st)
        # The month was alerted already: no third quota-exceeded.
        time.sleep(0.5)
        assert d.log().count(f"echo plugin.{NAME}.quota-exceeded") == 2, d.log()[-2000:]
        # The routes: the report of the day records, JSON and CSV, for service and admin.
        r = d.get(f"/api/plugins/{NAME}/usage?user=alice&from=2026-11-30&to=2026-12-01")
        assert r.status == 200, r
        rep = r.json
        assert rep["from"] == "2026-11-30" and rep["to"] == "2026-12-01", rep
        assert rep["currency"] == "USD" and len(rep["users"]) == 1, rep
        a = rep["users"][0]
        assert a["user"] == "alice" and near(a["runningHours"], 5.5), a
        assert near(a["hibernatedHours"], 2) and near(a["cost"], 6 + 11 + 0.5 * 3.0), a
        assert [x["day"] for x in a["days"]] == ["2026-11-30", "2026-12-01"], a
        assert [x["session"] for x in a["sessions"]] == ["s1"], a
        assert near(rep["total"]["cost"], a["cost"]), rep
        # Every user, one day given as a time (its UTC day).
        r = d.get(f"/api/plugins/{NAME}/usage?from=2026-12-01T23:59:00Z", token=svc)
        assert r.status == 200, r
        assert [u["user"] for u in r.json["users"]] == ["alice", "bob"], r.json
        assert r.json["to"] is None, r.json
        r = d.get(f"/api/plugins/{NAME}/usage.csv?to=2026-11-30")
        assert r.status == 200, r
        assert {k.lower(): v for k, v in r.headers.items()}["content-type"] == \
            "text/csv; charset=utf-8", r.headers
        assert r.raw == ("day,user,session,running_hours,hibernated_hours,cost\r\n"
                         "2026-11-30,alice,s1,2.0000,0.0000,6.000000\r\n"), r.raw
        for q, why in (("from=yesterday", "ISO 8601"), ("from=2026-12-02&to=2026-12-01", "after")):
            r = d.get(f"/api/plugins/{NAME}/usage?{q}")
            assert r.status == 400 and why in r.json["error"]["message"], r
        viewer = h.make_token(ci, "v", "viewer", d)
        assert d.get(f"/api/plugins/{NAME}/usage", token=viewer).status == 403
        assert d.request("GET", f"/api/plugins/{NAME}/usage", token="").status == 401

        # A session event without an id is logged and not billed.
        post("session.started", {"user": "x"})
        h.wait_for(lambda: "session.started: no session id" in d.log(), 20, "the missing id")
    finally:
        rc = d.stop()
        assert rc == 0, d.log()[-3000:]


def test_billing_job(pg):
    """The usage job bills a running session's open stretch up to now, and again later."""
    d, _, svc = h.fresh_daemon(pg, "billing_job")
    try:
        # A schedule the daemon cannot parse: the plugin does not start, and says why.
        r = d.post(f"{M}/install/{NAME}", {"config": {"usageCalculationInterval": "@every x"}})
        assert r.status == 422 and r.json["error"]["code"] == "start_failed", r
        assert "usage job (@every x): " in d.log(), d.log()[-2000:]
        r = d.post(f"{M}/install/{NAME}", {"config": {
            "usageCalculationInterval": "@every 2",
            "computeRates": {"cpu_per_core_hour": 1, "memory_per_gb_hour": 0,
                             "storage_per_gb_month": 0}}})
        assert r.status == 201, r
        d.wait_state(NAME, "running")
        two_h_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200))
        r = d.post("/api/events", {"type": "session.started", "data": {
            "id": "long", "user": "dora", "cpu": 1, "timestamp": two_h_ago}}, token=svc)
        assert r.status == 202, r
        try:
            h.wait_for(lambda: "calculate-usage-custom: 1 open session billed to now" in d.log(),
                       20, "the job to bill the open session")
        except AssertionError as e:
            raise AssertionError(f"{e}; log: {d.log()[-3000:]}") from None
        st = storage(pg, d)
        rec = st["session/long"]
        H = 3600000
        assert rec["state"] == "running" and rec["runningMs"] >= 2 * H, rec
        assert "open/long" in st, sorted(st)
        days = [v for k, v in st.items() if k.startswith("day/dora/")]
        assert sum(x["runningMs"] for x in days) == rec["runningMs"], (days, rec)
        assert near(sum(x["cost"] for x in days), rec["runningMs"] / H), (days, rec)
        # The next run bills on from where the last one stopped: never twice.
        before = rec["runningMs"]
        h.wait_for(lambda: storage(pg, d)["session/long"]["runningMs"] > before, 20, "a later run")
        st = storage(pg, d)
        days = [v for k, v in st.items() if k.startswith("day/dora/")]
        assert sum(x["runningMs"] for x in days) == st["session/long"]["runningMs"], days
    finally:
        rc = d.stop()
        assert rc == 0, d.log()[-3000:]


if __name__ == "__main__":
    sys.exit(h.run_cases([test_billing, test_billing_job]))
