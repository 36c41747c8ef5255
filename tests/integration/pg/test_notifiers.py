#!/usr/bin/env python3
"""Issue 12, the shipped notifiers (streamspace-slack, -discord, -teams) in
the real daemon: listed in the shipped catalog with the permissions they need,
installed from it with a webhook URL (the schema refuses a URL that is not the
service's, and a config without one),
builds a message for each enabled event, skips disabled ones, drops and
counts the excess over rateLimit, and never logs the webhook URL.

Egress goes to a closed loopback port here (--egress-connect-to), so no
request leaves the machine: each message that passes the limiter is one
failed attempt (maxAttempts 1). Delivery itself is test_notify_delivery."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"
NOTIFIERS = {
    "streamspace-slack": {
        "host": "hooks.slack.com",
        "secret": "T0AAA1111/B0BBB2222/xoxSecretTokenValue42",
        "url": "https://hooks.slack.com/services/",
        "bad": ("https://evil.example/services/x", "http://hooks.slack.com/services/x",
                "https://hooks.slack.com.evil.example/services/x"),
    },
    "streamspace-discord": {
        "host": "discord.com",
        "secret": "112233445566778899/DiscordSecretTokenValue42",
        "url": "https://discord.com/api/webhooks/",
        "bad": ("https://evil.example/api/webhooks/1/x", "http://discord.com/api/webhooks/1/x",
                "https://discord.com.evil.example/api/webhooks/1/x",
                "https://discord.com/api/webhooks/notanid/x"),
    },
    "streamspace-teams": {
        "host": "prod-27.westus.logic.azure.com",
        "secret": "TeamsSecretSignatureValue42",
        "url": "https://prod-27.westus.logic.azure.com:443/workflows/abc/triggers/manual/"
               "paths/invoke?api-version=2016-06-01&sig=",
        "bad": ("https://evil.example/workflows/x", "http://prod-27.westus.logic.azure.com/x",
                "https://logic.azure.com.evil.example/workflows/x",
                "https://a.logic.azure.com@evil.example/x",
                "https://x.webhook.office.com.evil.example/webhookb2/x"),
    },
}


def errors_of(r):
    assert r.status == 422, r
    err = r.json["error"]
    assert err["code"] == "invalid_config", r
    return [(e["path"], e["keyword"]) for e in err["errors"]]


def notifier_in_daemon(pg, NAME):
    n = NOTIFIERS[NAME]
    SECRET, URL = n["secret"], n["url"] + n["secret"]
    ci = pg.createdb(NAME.replace("-", "_"))
    d = h.Daemon(ci, h.tempdir(f"ss-{NAME}-"), extra_args=[
        "--egress-connect-to", f"{n['host']}:443:127.0.0.1:{h.free_port()}"])
    d.token = h.make_token(ci, "admin", "admin", d)
    try:
        cat = d.get(f"{M}/catalog").json
        entry = [p for p in cat["plugins"] if p["name"] == NAME]
        assert entry, [p["name"] for p in cat["plugins"]]
        assert sorted(entry[0]["permissions"]) == ["network", "read:sessions", "read:users"], \
            entry[0]

        # The schema is Slack's: another host, plain http, or no URL at all is refused.
        for bad in n["bad"]:
            r = d.post(f"{M}/install/{NAME}", {"config": {"webhookUrl": bad}})
            assert ("/webhookUrl", "pattern") in errors_of(r), r
        assert [k for _, k in errors_of(d.post(f"{M}/install/{NAME}", {"config": {}}))] == \
            ["required"]
        r = d.post(f"{M}/install/{NAME}", {"config": {"webhookUrl": URL, "rateLimit": 2,
                                                     "maxAttempts": 1}})
        assert r.status == 201, r
        d.wait_state(NAME, "running")
        assert SECRET not in r.raw, r.raw
        assert SECRET not in d.get(f"{M}/installed/{NAME}").raw

        service = h.make_token(ci, "svc", "service", d)
        # Off by default: nothing built for session.stopped.
        r = d.post("/api/events", {"type": "session.stopped", "data": {"id": "s0"}},
                   token=service)
        assert r.status == 202, r
        for i in range(1, 4):
            r = d.post("/api/events", {"type": "session.created",
                                       "data": {"id": f"s{i}", "user": "alice"}},
                       token=service)
            assert r.status == 202, r
        try:
            h.wait_for(lambda: "dropped by rateLimit (1 dropped so far)" in d.log(),
                       what="the third message dropped and counted")
        except AssertionError as e:
            raise AssertionError(f"{e}; log: {d.log()[-3000:]}") from None
        h.wait_for(lambda: d.log().count("dropped after 1 attempt") == 2, 20,
                   "two attempts, each one failing")
        built = [ln for ln in d.log().splitlines() if "dropped after 1 attempt" in ln]
        assert all("session.created" in ln for ln in built), built
        assert d.log().count("not delivered: ") == 2, d.log()[-3000:]
        assert "session.stopped" not in "".join(
            ln for ln in d.log().splitlines() if NAME in ln and "attempt" in ln), d.log()[-3000:]
        assert SECRET not in d.log() and n["url"] not in d.log(), \
            d.log()[-3000:]
    finally:
        rc = d.stop()
        assert rc == 0, d.log()[-3000:]


def main():
    pg = h.PG()
    try:
        def case(name):
            def run():
                notifier_in_daemon(pg, name)
            run.__name__ = f"test_{name}_in_daemon"
            return run
        return h.Suite().run([case(name) for name in NOTIFIERS])
    finally:
        pg.close()


if __name__ == "__main__":
    sys.exit(main())
