#!/usr/bin/env python3
"""Issue 12, the shipped notifiers delivering through the daemon's egress:
streamspace-slack, streamspace-discord and streamspace-teams installed from
the shipped catalog with their REAL service URLs
(https://hooks.slack.com/services/..., https://discord.com/api/webhooks/...,
a Teams Workflows URL under logic.azure.com and a legacy connector's under
webhook.office.com), reaching a loopback HTTPS receiver
through --egress-connect-to and --egress-ca over verified TLS (a CA and a
certificate for the service's host name made here with openssl). The
receiver records each request; bodies and headers are checked against each
service's documented format field by field. Then: 429 with Retry-After (and
Discord's retry_after) retried after the wait, 500 retried and bounded by
maxAttempts, 400 not retried, the excess over rateLimit dropped and counted,
and a hanging webhook bounded by the egress timeout without holding up the
next event (notifyrig.check_policy)."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from notifyrig import check_policy, post, run, setup, wait_hits, wait_log  # noqa: E402


def test_slack(pg):
    secret = "T0AAA1111/B0BBB2222/xoxSecretDeliveryToken"
    d, hook, svc = setup(pg, "streamspace-slack", "hooks.slack.com",
                         {"webhookUrl": "https://hooks.slack.com/services/" + secret,
                          "channel": "#ops", "rateLimit": 100})
    try:
        post(d, svc, "session.created", {"id": "s1", "user": "a<b>&c"})
        hit = wait_hits(hook, 1, d, "the Block Kit message")
        assert hit["path"] == "/services/" + secret, hit["path"]
        assert hit["headers"]["host"] == "hooks.slack.com", hit["headers"]
        assert hit["headers"]["content-type"] == "application/json", hit["headers"]
        m = json.loads(hit["body"])
        assert m["text"] == "Session created: Session *s1* was created for a&lt;b&gt;&amp;c.", m
        assert m["channel"] == "#ops" and m["username"] == "StreamSpace", m
        assert m["icon_emoji"] == ":computer:", m
        b = m["blocks"]
        assert [x["type"] for x in b] == ["header", "section", "section", "context"], b
        assert b[0]["text"] == {"type": "plain_text", "text": "Session created", "emoji": True}
        assert b[1]["text"] == {"type": "mrkdwn",
                                "text": "Session *s1* was created for a&lt;b&gt;&amp;c."}, b[1]
        assert b[2]["fields"] == [{"type": "mrkdwn", "text": "*id*\ns1"},
                                  {"type": "mrkdwn", "text": "*user*\na&lt;b&gt;&amp;c"}], b[2]
        assert b[3]["elements"] == [{"type": "mrkdwn",
                                     "text": "StreamSpace \u00b7 `session.created`"}], b[3]
        wait_log(d, "session.created: delivered (status 200, attempt 1)", "the delivery log")
        check_policy(d, hook, svc, {"user": "alice"}, secret, prior=1)
    finally:
        rc = d.stop()
        assert rc == 0, d.log()[-3000:]


def test_discord(pg):
    secret = "112233445566778899/DiscordDeliveryToken"
    d, hook, svc = setup(pg, "streamspace-discord", "discord.com",
                         {"webhookUrl": "https://discord.com/api/webhooks/" + secret,
                          "avatarUrl": "https://cdn.example/a.png", "rateLimit": 100,
                          "contentTemplate": "{{event}} for {{user}}"})
    try:
        before = time.time()
        post(d, svc, "session.hibernated", {"id": "s1", "user": "@everyone"})
        hit = wait_hits(hook, 1, d, "the embed")
        assert hit["path"] == "/api/webhooks/" + secret, hit["path"]
        assert hit["headers"]["host"] == "discord.com", hit["headers"]
        assert hit["headers"]["content-type"] == "application/json", hit["headers"]
        m = json.loads(hit["body"])
        assert m["content"] == "session.hibernated for @everyone", m
        assert m["username"] == "StreamSpace" and m["avatar_url"] == "https://cdn.example/a.png"
        assert m["allowed_mentions"] == {"parse": []}, m
        e = m["embeds"]
        assert len(e) == 1, e
        e = e[0]
        assert e["title"] == "Session hibernated", e
        assert e["description"] == "Session *s1* of @everyone was hibernated.", e
        assert e["color"] == 0x95A5A6 and isinstance(e["color"], int), e
        assert e["fields"] == [{"name": "id", "value": "s1", "inline": True},
                               {"name": "user", "value": "@everyone", "inline": True}], e
        ts = time.mktime(time.strptime(e["timestamp"], "%Y-%m-%dT%H:%M:%S.000Z")) - time.timezone
        assert before - 2 <= ts <= time.time() + 1, (e["timestamp"], before)
        assert e["footer"] == {"text": "session.hibernated"}, e
        # Discord's 429: retry_after (seconds, a float) in the JSON body wins over the header.
        n = hook.count()
        hook.queue((429, json.dumps({"message": "You are being rate limited.",
                                     "retry_after": 1.5, "global": False}),
                    [("Retry-After", "0"), ("Content-Type", "application/json")]))
        post(d, svc, "session.created", {"id": "d429", "user": "bob"})
        a, b = wait_hits(hook, n + 1, d, "429"), wait_hits(hook, n + 2, d, "its retry")
        assert b["t"] - a["t"] >= 1.4, (a["t"], b["t"])
        check_policy(d, hook, svc, {"user": "alice"}, secret, prior=2)
    finally:
        rc = d.stop()
        assert rc == 0, d.log()[-3000:]


def test_teams(pg):
    flow = "prod-27.westus.logic.azure.com"
    office = "contoso.webhook.office.com"
    sig = "TeamsWorkflowSig0123456789abcdefXYZ"
    path = ("/workflows/0a1b2c3d4e5f/triggers/manual/paths/invoke?api-version=2016-06-01"
            "&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + sig)
    legacy_secret = "IncomingWebhook/5f4e3d2c1b0a/LegacySecretGuid42"
    legacy_path = "/webhookb2/1111-2222@3333-4444/" + legacy_secret
    # Workflows answer 202 Accepted with no body.
    d, hook, svc = setup(pg, "streamspace-teams", (flow, office),
                         {"webhookUrl": f"https://{flow}:443{path}", "rateLimit": 100},
                         default=(202, "", []))
    try:
        before = time.time()
        post(d, svc, "session.created", {"id": "s1", "user": "alice", "template": "firefox"})
        hit = wait_hits(hook, 1, d, "the Adaptive Card")
        assert hit["path"] == path, hit["path"]
        assert hit["headers"]["host"] in (flow, flow + ":443"), hit["headers"]
        assert hit["headers"]["content-type"] == "application/json", hit["headers"]
        m = json.loads(hit["body"])
        assert list(m) == ["type", "attachments"] and m["type"] == "message", m
        assert len(m["attachments"]) == 1, m
        a = m["attachments"][0]
        assert a == {"contentType": "application/vnd.microsoft.card.adaptive",
                     "contentUrl": None, "content": a["content"]}, a
        c = a["content"]
        assert c["type"] == "AdaptiveCard" and c["version"] == "1.4", c
        assert c["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json", c
        assert c["msteams"] == {"width": "Full"}, c
        b = c["body"]
        assert [x["type"] for x in b] == ["TextBlock", "TextBlock", "FactSet", "TextBlock"], b
        assert b[0] == {"type": "TextBlock", "text": "Session created", "size": "Large",
                        "weight": "Bolder", "wrap": True}, b[0]
        assert b[1] == {"type": "TextBlock", "text": "Session *s1* was created for alice.",
                        "wrap": True}, b[1]
        assert b[2]["facts"] == [{"title": "id", "value": "s1"},
                                 {"title": "user", "value": "alice"},
                                 {"title": "template", "value": "firefox"}], b[2]
        foot = b[3]["text"]
        assert foot.startswith("StreamSpace \u00b7 session.created \u00b7 "), foot
        ts = time.mktime(time.strptime(foot.split(" \u00b7 ")[2], "%Y-%m-%dT%H:%M:%S.000Z"))
        assert before - 2 <= ts - time.timezone <= time.time() + 1, foot
        assert b[3]["isSubtle"] is True and b[3]["size"] == "Small", b[3]
        wait_log(d, "session.created: delivered (status 202, attempt 1)", "the delivery log")

        # The legacy connector: a MessageCard to webhook.office.com (which answers 200 "1").
        cfg = {"webhookUrl": f"https://{office}{legacy_path}", "format": "messageCard",
               "rateLimit": 100, "notifyOnSessionHibernated": True}
        r = d.request("PUT", f"/api/plugins/marketplace/config/{d.notifier}", body={"config": cfg})
        assert r.status == 200, r
        d.config = cfg
        hook.queue((200, "1", []))
        time.sleep(0.5)
        post(d, svc, "session.hibernated", {"id": "s2", "user": "bob"})
        hit = wait_hits(hook, 2, d, "the MessageCard")
        assert hit["path"] == legacy_path, hit["path"]
        assert hit["headers"]["host"] == office, hit["headers"]
        m = json.loads(hit["body"])
        assert m["@type"] == "MessageCard" and m["@context"] == "https://schema.org/extensions", m
        assert m["summary"] == m["title"] == "Session hibernated", m
        assert m["themeColor"] == "95A5A6", m
        assert m["text"] == "Session *s2* of bob was hibernated.", m
        assert len(m["sections"]) == 1, m
        sec = m["sections"][0]
        assert sec["facts"] == [{"name": "id", "value": "s2"}, {"name": "user", "value": "bob"}]
        assert sec["markdown"] is True, sec
        assert sec["activitySubtitle"].startswith("StreamSpace \u00b7 session.hibernated"), sec
        assert sorted(m) == ["@context", "@type", "sections", "summary", "text", "themeColor",
                             "title"], m
        wait_log(d, "session.hibernated: delivered (status 200, attempt 1)", "the card delivered")
        hook.default = (200, "1", [])
        check_policy(d, hook, svc, {"user": "alice"}, legacy_secret, prior=2)
        assert sig not in d.log(), d.log()[-3000:]
    finally:
        rc = d.stop()
        assert rc == 0, d.log()[-3000:]


if __name__ == "__main__":
    sys.exit(run([test_slack, test_discord, test_teams]))
