#!/usr/bin/env python3
"""Issue 12, the shipped notifiers delivering through the daemon's egress:
streamspace-slack and streamspace-discord installed from the shipped catalog
with their REAL service URLs (https://hooks.slack.com/services/...,
https://discord.com/api/webhooks/...), reaching a loopback HTTPS receiver
through --egress-connect-to and --egress-ca over verified TLS (a CA and a
certificate for the service's host name made here with openssl). The
receiver records each request; bodies and headers are checked against each
service's documented format field by field. Then: 429 with Retry-After (and
Discord's retry_after) retried after the wait, 500 retried and bounded by
maxAttempts, 400 not retried, the excess over rateLimit dropped and counted,
and a hanging webhook bounded by the egress timeout without holding up the
next event."""
import http.server
import json
import os
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import pgharness as h  # noqa: E402
from tlsserver import make_ca  # noqa: E402

M = "/api/plugins/marketplace"


class Hook:
    """A scripted webhook receiver: answers from a queue (default 200 "ok")."""

    def __init__(self, work):
        self.hits, self.script, self.lock = [], [], threading.Lock()
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle(self):
                try:
                    super().handle()
                except (ssl.SSLError, ConnectionError):
                    pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode()
                with hook.lock:
                    hook.hits.append({"t": time.monotonic(), "path": self.path,
                                      "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": body})
                    code, rbody, rh = hook.script.pop(0) if hook.script else (200, "ok", [])
                if code == "hang":
                    time.sleep(6)
                    code = 200
                self.send_response(code)
                for k, v in rh:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(rbody)))
                self.end_headers()
                self.wfile.write(rbody.encode())

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        srv.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(work, "srv.pem"), os.path.join(work, "srv.key"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.port = srv.server_address[1]

    def count(self):
        with self.lock:
            return len(self.hits)

    def queue(self, *answers):
        with self.lock:
            self.script.extend(answers)


def setup(pg, name, host, url, config):
    work = h.tempdir(f"ss-{name}-dl-")
    ca = make_ca(work, names=(host,))
    hook = Hook(work)
    ci = pg.createdb(name.replace("-", "_") + "_dl")
    d = h.Daemon(ci, work, extra_args=["--egress-ca", ca, "--egress-timeout-ms", "2000",
                                       "--egress-connect-to",
                                       f"{host}:443:127.0.0.1:{hook.port}"])
    d.token = h.make_token(ci, "admin", "admin", d)
    r = d.post(f"{M}/install/{name}", {"config": dict(config, webhookUrl=url)})
    assert r.status == 201, r
    d.wait_state(name, "running")
    d.notifier, d.config = name, dict(config, webhookUrl=url)
    return d, hook, h.make_token(ci, "svc", "service", d)


def post(d, svc, event, data):
    r = d.post("/api/events", {"type": event, "data": data}, token=svc)
    assert r.status == 202, r


def wait_hits(hook, n, d, what):
    try:
        h.wait_for(lambda: hook.count() >= n, 20, what)
    except AssertionError as e:
        raise AssertionError(f"{e}; log: {d.log()[-3000:]}") from None
    return hook.hits[n - 1]


def wait_log(d, text, what):
    try:
        h.wait_for(lambda: text in d.log(), 20, what)
    except AssertionError as e:
        raise AssertionError(f"{e}; log: {d.log()[-3000:]}") from None


def check_policy(d, hook, svc, event_data, secret, prior):
    """429/500/400/rate limit/hang, the same for every notifier."""
    n = hook.count()
    # 429 with Retry-After: 1 -> the second attempt a second later, delivered.
    hook.queue((429, "rate limited", [("Retry-After", "1")]))
    post(d, svc, "session.created", dict(event_data, id="r429"))
    a, b = wait_hits(hook, n + 1, d, "429 attempt"), wait_hits(hook, n + 2, d, "429 retry")
    assert b["t"] - a["t"] >= 0.9, (a["t"], b["t"])
    assert a["body"] == b["body"]
    wait_log(d, "session.created: delivered (status 200, attempt 2)", "the retried delivery")
    n += 2
    # 500 three times: retried, bounded by maxAttempts (3), then dropped.
    hook.queue((500, "oops", []), (500, "oops", []), (500, "oops", []))
    post(d, svc, "session.created", dict(event_data, id="r500"))
    wait_hits(hook, n + 3, d, "three 500 attempts")
    wait_log(d, "dropped after 3 attempts", "the bounded retries")
    n += 3
    # 400: not retried.
    hook.queue((400, "invalid_payload", []))
    post(d, svc, "session.created", dict(event_data, id="r400"))
    wait_hits(hook, n + 1, d, "the 400 attempt")
    wait_log(d, "webhook answered 400 (attempt 1)\n", "the 400 answer")
    wait_log(d, "dropped after 1 attempt\n", "no retry on 400")
    # A hanging webhook: bounded by the egress timeout (2 s), not retried; the next event goes.
    n += 1
    hook.queue(("hang", "", []))
    t0 = time.monotonic()
    post(d, svc, "session.created", dict(event_data, id="hang"))
    post(d, svc, "session.created", dict(event_data, id="after"))
    after = wait_hits(hook, n + 2, d, "the event after the hanging one")
    assert after["t"] - t0 < 5.0, after["t"] - t0
    assert '"after"' in after["body"] or "after" in after["body"]
    time.sleep(0.5)
    assert hook.count() == n + 2, "the hanging request was retried"
    n += 2
    # Rate limit: 1 more per hour allowed under the new config, the next dropped and counted.
    sent = prior + 5  # messages that passed the limiter so far: before, and r429..after here
    r = d.request("PUT", f"{M}/config/{d.notifier}", body={"config": dict(d.config, rateLimit=sent + 1)})
    assert r.status == 200, r
    time.sleep(0.5)
    post(d, svc, "session.created", dict(event_data, id="last-ok"))
    post(d, svc, "session.created", dict(event_data, id="over"))
    wait_log(d, "dropped by rateLimit (1 dropped so far)", "the excess counted")
    wait_hits(hook, n + 1, d, "the last allowed message")
    time.sleep(0.5)
    assert hook.count() == n + 1, [x["body"][:80] for x in hook.hits[n:]]
    # Neither the plugin nor the daemon's egress line logs the webhook's path (its credential).
    assert secret not in d.log(), d.log()[-3000:]


def test_slack(pg):
    secret = "T0AAA1111/B0BBB2222/xoxSecretDeliveryToken"
    d, hook, svc = setup(pg, "streamspace-slack", "hooks.slack.com",
                         "https://hooks.slack.com/services/" + secret,
                         {"channel": "#ops", "rateLimit": 100})
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
                         "https://discord.com/api/webhooks/" + secret,
                         {"avatarUrl": "https://cdn.example/a.png", "rateLimit": 100,
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


def main():
    pg = h.PG()
    try:
        def case(fn):
            def run():
                fn(pg)
            run.__name__ = fn.__name__
            return run
        return h.Suite().run([case(test_slack), case(test_discord)])
    finally:
        pg.close()


if __name__ == "__main__":
    sys.exit(main())
