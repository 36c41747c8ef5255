#!/usr/bin/env python3
"""Issue 12, the shipped notifiers (streamspace-slack, streamspace-discord) in
the real daemon: listed in the shipped catalog with the permissions they need,
installed from it with a webhook URL (the schema refuses a URL that is not the
service's, and a config without one),
builds a message for each enabled event, skips disabled ones, drops and
counts the excess over rateLimit, and never logs the webhook URL.

Not here yet: delivery. The SDK has no egress call on main (issue 10), so
a plugin logs that the message was built and not sent; the loopback HTTPS
receiver test waits for that call (see plugins/streamspace-slack/README.md)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"
NOTIFIERS = {
    "streamspace-slack": {
        "secret": "T0AAA1111/B0BBB2222/xoxSecretTokenValue42",
        "url": "https://hooks.slack.com/services/",
        "bad": ("https://evil.example/services/x", "http://hooks.slack.com/services/x",
                "https://hooks.slack.com.evil.example/services/x"),
    },
    "streamspace-discord": {
        "secret": "112233445566778899/DiscordSecretTokenValue42",
        "url": "https://discord.com/api/webhooks/",
        "bad": ("https://evil.example/api/webhooks/1/x", "http://discord.com/api/webhooks/1/x",
                "https://discord.com.evil.example/api/webhooks/1/x",
                "https://discord.com/api/webhooks/notanid/x"),
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
    d = h.Daemon(ci, h.tempdir(f"ss-{NAME}-"))
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
        r = d.post(f"{M}/install/{NAME}", {"config": {"webhookUrl": URL, "rateLimit": 2}})
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
        built = [ln for ln in d.log().splitlines() if "message built" in ln]
        assert len(built) == 2 and all("session.created" in ln for ln in built), built
        assert "session.stopped" not in "".join(
            ln for ln in d.log().splitlines() if NAME in ln and "message" in ln), d.log()[-3000:]
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
