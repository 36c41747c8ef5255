#!/usr/bin/env python3
"""plugins/audit (issue 10 item 8), the built-in that uses the whole plugin
API, on a real PostgreSQL: every event it may see (admin: session, user,
plugin and platform events) is recorded in its storage and served by GET
/api/plugins/audit/events?type=&limit= newest first, filtered by type; its
scheduled retention job deletes what is older than retentionSeconds (changed
live) and announces each run as plugin.audit.retention-run, which another
plugin (hello) receives; bad parameters are 400 with a JSON error. Past
20,000 records (a raised --storage-max-keys) the old ones are still found and
deleted: the retention walk starts at the cutoff, not at the newest."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"
EV = "/api/plugins/audit/events"


def runs(d):
    """The plugin.audit.retention-run events hello logged, oldest first."""
    return [json.loads(m.group(1)) for m in re.finditer(
        r"hello: event plugin\.audit\.retention-run id=\d+ data=(\{.*\})$", d.log(), re.M)]


def test_audit(ctx):
    d = ctx.fresh()
    svc = h.make_token(d.ci, "svc", "service", d)
    assert d.post(f"{M}/install/hello").status == 201
    r = d.post(f"{M}/install/audit", {"config": {"includeData": True, "retentionSeconds": 3600,
                                                 "cleanupIntervalSeconds": 1}})
    assert r.status == 201, r
    d.wait_state("audit", "running")
    rt = d.runtime("audit")
    assert [j["name"] for j in rt["jobs"]] == ["retention"], rt["jobs"]

    posted = []
    for t, data in (("session.created", {"id": "s1", "user": "alice"}),
                    ("user.login", {"user": "bob"}),
                    ("session.stopped", {"id": "s1", "user": "alice"})):
        r = d.post("/api/events", {"type": t, "data": data}, token=svc)
        assert r.status == 202, r
        posted.append(r.json["id"])

    def listed(q=""):
        r = d.get(EV + q)
        assert r.status == 200, r
        return r.json

    got = h.wait_for(lambda: (lambda j: j if j["count"] >= 3 else None)(listed()), 20,
                     "three records")
    mine = [e for e in got["events"] if e["id"] in posted]
    assert [e["id"] for e in mine] == sorted(posted, reverse=True), mine  # newest first
    login = [e for e in mine if e["type"] == "user.login"][0]
    assert login["actor"] == "bob" and login["data"] == {"user": "bob"} and login["ts"] > 0, login
    assert got["retentionSeconds"] == 3600, got
    j = listed("?type=user.login")
    assert j["count"] == 1 and j["events"][0]["id"] == posted[1], j
    j = listed("?type=session.*")
    assert sorted(e["id"] for e in j["events"]) == [posted[0], posted[2]], j
    j = listed("?limit=1")
    assert j["count"] == 1 and j["events"][0]["id"] == max(posted), j
    for q in ("?limit=0", "?limit=1001", "?limit=x", "?type="):
        r = d.get(EV + q)
        assert r.status == 400 and r.json["error"]["code"] == "bad_request", (q, r)
    assert d.get(EV, token="").status == 401

    # Platform events are recorded too (audit has admin).
    assert d.post(f"{M}/disable/hello").status == 200
    h.wait_for(lambda: listed("?type=plugin.disabled")["count"] == 1, 20,
               "plugin.disabled recorded")
    e = listed("?type=plugin.disabled")["events"][0]
    assert e["data"]["plugin"] == "hello", e
    assert d.post(f"{M}/enable/hello").status == 200
    d.wait_state("hello", "running")

    # The retention job runs every second and announces itself; nothing is old yet.
    run = h.wait_for(lambda: runs(d), 20, "a retention run at hello")[-1]
    assert run["deleted"] == 0 and run["kept"] >= 4 and run["retentionSeconds"] == 3600, run
    # A shorter retention, live: the next runs delete what is older than 1 s.
    r = d.request("PUT", f"{M}/config/audit", body={"config": {
        "includeData": True, "retentionSeconds": 1, "cleanupIntervalSeconds": 1}})
    assert r.status == 200, r
    run = h.wait_for(lambda: [x for x in runs(d) if x["retentionSeconds"] == 1 and
                              x["deleted"] >= 4], 30, "a run that deletes")[-1]
    assert run["ok"] is True, run
    h.wait_for(lambda: not [e for e in listed()["events"] if e["id"] in posted], 20,
               "the old records gone")
    st = d.runtime("audit")["jobs"][0]
    assert st["runs"] >= 2 and st["failed"] == 0 and st["scheduled"], st


def test_retention_past_the_newest(ctx):
    d = ctx.fresh(extra_args=["--storage-max-keys", "100000"])
    assert d.post(f"{M}/install/hello").status == 201
    # 20,050 records of the last minute and 30 of two hours ago, as audit keys them
    # (e/<INV_MS - ms>/<INT64_MAX - id>/<type>: newest first), written in SQL.
    ctx.pg.psql(d.db, """
        INSERT INTO plugin_storage (plugin_name, key, value)
        SELECT 'audit', format('e/%s/%s/session.created',
                               lpad((9999999999999 - (t.now - g.i * g.back))::text, 13, '0'),
                               lpad((9223372036854775807 - g.i)::text, 19, '0')), '{}'
        FROM (SELECT (extract(epoch FROM now()) * 1000)::bigint AS now) t,
             LATERAL (SELECT i, CASE WHEN i > 20050 THEN 240 ELSE 1 END AS back
                      FROM generate_series(1, 20080) i) g(i, back)""")
    old = ("SELECT count(*) FROM plugin_storage WHERE plugin_name = 'audit' AND "
           "key > 'e/' || lpad((9999999999999 - (extract(epoch FROM now()) * 1000)::bigint "
           "+ 3600000)::text, 13, '0')")
    assert ctx.pg.psql(d.db, old) == "30"
    r = d.post(f"{M}/install/audit", {"config": {"retentionSeconds": 3600,
                                                 "cleanupIntervalSeconds": 1}})
    assert r.status == 201, r
    run = h.wait_for(lambda: [x for x in runs(d) if x["deleted"] > 0], 30,
                     "a run that deletes the old records")[-1]
    assert run["deleted"] == 30 and run["ok"] is True, run
    assert run["kept"] == 20000, run  # counted up to 20 pages
    assert ctx.pg.psql(d.db, old) == "0"
    n = ctx.pg.psql(d.db, "SELECT count(*) FROM plugin_storage WHERE plugin_name = 'audit'")
    assert int(n) >= 20050, n


if __name__ == "__main__":
    sys.exit(h.run_with_ctx("ss_audit_", "ss-audit-", [test_audit, test_retention_past_the_newest]))
