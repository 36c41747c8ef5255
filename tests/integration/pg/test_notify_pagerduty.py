#!/usr/bin/env python3
"""Issue 12, streamspace-pagerduty in the real daemon: in the shipped catalog
with the permissions it needs, its schema refusing a routing key that is not
one (32 letters and digits), an unknown region or event; installed from the
catalog and sending to the REAL endpoint, https://events.pagerduty.com/v2/enqueue
(and events.eu.pagerduty.com), reached through --egress-connect-to and
--egress-ca at a loopback HTTPS receiver answering as PagerDuty does (202
{"status":"success","message":"Event processed","dedup_key":...}). Bodies and
headers are checked against the Events API v2 field by field: a trigger
with payload summary/source/severity/timestamp/component/class/custom_details,
the resolve of the same session with the same dedup_key, an unconfigured
event and an event without an id not sent. Then the delivery policy of every
notifier (notifyrig.check_policy: 429 with Retry-After, 5xx bounded, 400 not
retried, a hanging endpoint bounded by the egress timeout, the rate limit),
and the routing key in no log line."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402
from notifyrig import M, check_policy, post, run, setup, wait_hits, wait_log  # noqa: E402

NAME = "streamspace-pagerduty"
KEY = "R0ut1ngKeyS3cretValue0123456789a"  # 32 letters and digits
US, EU = "events.pagerduty.com", "events.eu.pagerduty.com"


def accepted(body):
    """PagerDuty's answer to an event it accepts: 202 with the event's dedup_key."""
    try:
        key = json.loads(body).get("dedup_key", "")
    except ValueError:
        key = ""
    return (202, json.dumps({"status": "success", "message": "Event processed",
                             "dedup_key": key}), [("Content-Type", "application/json")])


def errors_of(r):
    assert r.status == 422, r
    assert r.json["error"]["code"] == "invalid_config", r
    return [(e["path"], e["keyword"]) for e in r.json["error"]["errors"]]


def test_catalog_and_schema(pg):
    ci = pg.createdb("pd_schema")
    d = h.Daemon(ci, h.tempdir("ss-pd-schema-"),
                 extra_args=["--egress-connect-to", f"{US}:443:127.0.0.1:{h.free_port()}"])
    d.token = h.make_token(ci, "admin", "admin", d)
    try:
        entry = [p for p in d.get(f"{M}/catalog").json["plugins"] if p["name"] == NAME]
        assert entry, "not in the shipped catalog"
        assert sorted(entry[0]["permissions"]) == ["network", "read:sessions", "read:users"], \
            entry[0]
        for bad in ("short", KEY[:-1], KEY + "0", KEY[:-1] + "-", ""):
            assert ("/routingKey", "pattern") in \
                errors_of(d.post(f"{M}/install/{NAME}", {"config": {"routingKey": bad}})), bad
        assert [k for _, k in errors_of(d.post(f"{M}/install/{NAME}", {"config": {}}))] == \
            ["required"]
        for extra, where in (({"eventsHost": "evil.example"}, "/eventsHost"),
                             ({"triggerEvents": ["session.nope"]}, "/triggerEvents/0"),
                             ({"severity": "fatal"}, "/severity"),
                             ({"severityByEvent": {"session.created": "high"}},
                              "/severityByEvent/session.created"),
                             ({"dedupKeyPrefix": "a/b"}, "/dedupKeyPrefix")):
            r = d.post(f"{M}/install/{NAME}", {"config": dict(extra, routingKey=KEY)})
            assert [p for p, _ in errors_of(r)] == [where], (extra, r.json)
        r = d.post(f"{M}/install/{NAME}", {"config": {"routingKey": KEY}})
        assert r.status == 201, r
        assert KEY not in r.raw and KEY not in d.get(f"{M}/installed/{NAME}").raw
        d.wait_state(NAME, "running")
    finally:
        rc = d.stop()
        assert rc == 0, d.log()[-3000:]


def test_pagerduty(pg):
    cfg = {"routingKey": KEY, "rateLimit": 100,
           "triggerEvents": ["session.created", "session.hibernated"],
           "resolveEvents": ["session.woken", "session.deleted"],
           "severityByEvent": {"session.hibernated": "critical"},
           "clientUrl": "https://streamspace.example/admin/"}
    d, hook, svc = setup(pg, NAME, (US, EU), cfg, default=accepted)
    try:
        before = time.time()
        post(d, svc, "session.hibernated", {"id": "s1", "user": "alice", "cpu": 2})
        hit = wait_hits(hook, 1, d, "the trigger")
        assert hit["method"] == "POST" and hit["path"] == "/v2/enqueue", hit
        assert hit["headers"]["host"] == US, hit["headers"]
        assert hit["headers"]["content-type"] == "application/json", hit["headers"]
        m = json.loads(hit["body"])
        assert sorted(m) == ["client", "client_url", "dedup_key", "event_action", "payload",
                             "routing_key"], m
        assert m["routing_key"] == KEY and m["event_action"] == "trigger", m
        assert m["dedup_key"] == "streamspace/session/s1", m
        assert m["client"] == "StreamSpace", m
        assert m["client_url"] == "https://streamspace.example/admin/", m
        p = m["payload"]
        assert sorted(p) == ["class", "component", "custom_details", "severity", "source",
                             "summary", "timestamp"], p
        assert p["summary"] == "Session s1 of alice was hibernated.", p
        assert p["source"] == "streamspace" and p["severity"] == "critical", p
        assert p["component"] == "session" and p["class"] == "session.hibernated", p
        assert p["custom_details"] == {"id": "s1", "user": "alice", "cpu": 2,
                                       "event": "session.hibernated"}, p
        ts = time.mktime(time.strptime(p["timestamp"], "%Y-%m-%dT%H:%M:%S.000Z")) - time.timezone
        assert before - 2 <= ts <= time.time() + 1, (p["timestamp"], before)
        wait_log(d, "session.hibernated: delivered (status 202, attempt 1)", "the trigger's 202")

        # Not configured, then no id: neither is sent; the resolve of s1 is the next request.
        post(d, svc, "session.stopped", {"id": "s1"})
        post(d, svc, "session.created", {"user": "bob"})
        wait_log(d, "session.created: not sent: no id to key the alert by", "the missing id")
        post(d, svc, "session.woken", {"id": "s1", "user": "alice"})
        hit = wait_hits(hook, 2, d, "the resolve")
        m = json.loads(hit["body"])
        assert m == {"routing_key": KEY, "event_action": "resolve",
                     "dedup_key": "streamspace/session/s1"}, m
        wait_log(d, "session.woken: delivered (status 202, attempt 1)", "the resolve's 202")
        time.sleep(0.5)
        assert hook.count() == 2, [x["body"][:120] for x in hook.hits]

        # PagerDuty's 400 ("invalid event") is not retried.
        hook.queue((400, json.dumps({"status": "invalid event", "message": "Event object is "
                                     "invalid", "errors": ["'payload.summary' is missing"]}),
                    [("Content-Type", "application/json")]))
        post(d, svc, "session.created", {"id": "bad"})
        wait_hits(hook, 3, d, "the refused event")
        wait_log(d, "session.created: dropped after 1 attempt\n", "no retry on PagerDuty's 400")
        check_policy(d, hook, svc, {"user": "alice"}, KEY, prior=3)

        # The EU service region: the same event to events.eu.pagerduty.com.
        n = hook.count()
        d.config = dict(d.config, eventsHost=EU, rateLimit=100)
        r = d.request("PUT", f"{M}/config/{NAME}", body={"config": d.config})
        assert r.status == 200, r
        time.sleep(0.5)
        post(d, svc, "session.deleted", {"id": "s9"})
        hit = wait_hits(hook, n + 1, d, "the EU resolve")
        assert hit["headers"]["host"] == EU and hit["path"] == "/v2/enqueue", hit
        assert json.loads(hit["body"])["dedup_key"] == "streamspace/session/s9", hit
        assert KEY not in d.log(), d.log()[-3000:]
    finally:
        rc = d.stop()
        assert rc == 0, d.log()[-3000:]


if __name__ == "__main__":
    sys.exit(run([test_catalog_and_schema, test_pagerduty]))
