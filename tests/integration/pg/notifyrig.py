"""The rig of the shipped notifiers' delivery tests (issue 12): a scripted
loopback HTTPS receiver with a certificate for the service's real host name
(made by tlsserver.make_ca), a daemon whose egress reaches it through
--egress-connect-to and trusts it through --egress-ca (verified TLS, no
schema weakened), the plugin installed from the shipped catalog, and the
delivery policy every notifier shares (check_policy): 429 with Retry-After
retried after the wait, 500 retried and bounded by maxAttempts, 400 not
retried, a hanging receiver bounded by the egress timeout without holding
up the next event, the excess over rateLimit dropped and counted, and the
secret in no log line."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import pgharness as h  # noqa: E402
from tlsserver import QuietHandler, make_ca, serve_tls  # noqa: E402

M = "/api/plugins/marketplace"


class Hook:
    """A scripted receiver: answers from a queue, else `default`: (code, body,
    headers), or a function of the request's body giving one. An answer's code
    "hang" sleeps 6 s (beyond the daemon's egress timeout) first."""

    def __init__(self, work, default=(200, "ok", [])):
        self.hits, self.script, self.lock, self.default = [], [], threading.Lock(), default
        hook = self

        class Handler(QuietHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode()
                with hook.lock:
                    hook.hits.append({"t": time.monotonic(), "method": self.command,
                                      "path": self.path,
                                      "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": body})
                    if hook.script:
                        code, rbody, rh = hook.script.pop(0)
                    elif callable(hook.default):
                        code, rbody, rh = hook.default(body)
                    else:
                        code, rbody, rh = hook.default
                if code == "hang":
                    time.sleep(6)
                    code = 200
                self.send_response(code)
                for k, v in rh:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(rbody)))
                self.end_headers()
                self.wfile.write(rbody.encode())

        self.port = serve_tls(work, Handler)

    def count(self):
        with self.lock:
            return len(self.hits)

    def queue(self, *answers):
        with self.lock:
            self.script.extend(answers)


def setup(pg, name, hosts, config, default=(200, "ok", [])):
    """A daemon reaching a Hook for each of hosts (a name or a tuple), with
    plugin name installed from the catalog under config and running:
    (daemon, hook, service token)."""
    hosts = (hosts,) if isinstance(hosts, str) else tuple(hosts)
    work = h.tempdir(f"ss-{name}-dl-")
    ca = make_ca(work, names=hosts)
    hook = Hook(work, default)
    ci = pg.createdb(name.replace("-", "_") + "_dl")
    args = ["--egress-ca", ca, "--egress-timeout-ms", "2000"]
    for host in hosts:
        args += ["--egress-connect-to", f"{host}:443:127.0.0.1:{hook.port}"]
    d = h.Daemon(ci, work, extra_args=args)
    d.token = h.make_token(ci, "admin", "admin", d)
    r = d.post(f"{M}/install/{name}", {"config": config})
    assert r.status == 201, r
    d.wait_state(name, "running")
    d.notifier, d.config = name, dict(config)
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


def check_policy(d, hook, svc, event_data, secret, prior, event="session.created"):
    """429/500/400/hang/rate limit, the same for every notifier; event is one
    the plugin's config posts, and prior how many messages it has sent."""
    n = hook.count()
    # 429 with Retry-After: 1 -> the second attempt a second later, delivered.
    hook.queue((429, "rate limited", [("Retry-After", "1")]))
    post(d, svc, event, dict(event_data, id="r429"))
    a, b = wait_hits(hook, n + 1, d, "429 attempt"), wait_hits(hook, n + 2, d, "429 retry")
    assert b["t"] - a["t"] >= 0.9, (a["t"], b["t"])
    assert a["body"] == b["body"]
    code = hook.default("{}")[0] if callable(hook.default) else hook.default[0]
    wait_log(d, f"{event}: delivered (status {code}, attempt 2)", "the retried delivery")
    n += 2
    # 500 three times: retried, bounded by maxAttempts (3), then dropped.
    hook.queue((500, "oops", []), (500, "oops", []), (500, "oops", []))
    post(d, svc, event, dict(event_data, id="r500"))
    wait_hits(hook, n + 3, d, "three 500 attempts")
    wait_log(d, "dropped after 3 attempts", "the bounded retries")
    n += 3
    # 400: not retried.
    hook.queue((400, "invalid_payload", []))
    post(d, svc, event, dict(event_data, id="r400"))
    wait_hits(hook, n + 1, d, "the 400 attempt")
    wait_log(d, "webhook answered 400 (attempt 1)\n", "the 400 answer")
    wait_log(d, "dropped after 1 attempt\n", "no retry on 400")
    # A hanging webhook: bounded by the egress timeout (2 s), not retried; the next event goes.
    n += 1
    hook.queue(("hang", "", []))
    t0 = time.monotonic()
    post(d, svc, event, dict(event_data, id="hang"))
    post(d, svc, event, dict(event_data, id="after"))
    after = wait_hits(hook, n + 2, d, "the event after the hanging one")
    assert after["t"] - t0 < 5.0, after["t"] - t0
    assert "after" in after["body"]
    time.sleep(0.5)
    assert hook.count() == n + 2, "the hanging request was retried"
    n += 2
    # Rate limit: 1 more per hour allowed under the new config, the next dropped and counted.
    sent = prior + 5  # messages that passed the limiter so far: before, and r429..after here
    r = d.request("PUT", f"{M}/config/{d.notifier}",
                  body={"config": dict(d.config, rateLimit=sent + 1)})
    assert r.status == 200, r
    time.sleep(0.5)
    post(d, svc, event, dict(event_data, id="last-ok"))
    post(d, svc, event, dict(event_data, id="over"))
    wait_log(d, "dropped by rateLimit (1 dropped so far)", "the excess counted")
    wait_hits(hook, n + 1, d, "the last allowed message")
    time.sleep(0.5)
    assert hook.count() == n + 1, [x["body"][:80] for x in hook.hits[n:]]
    # Neither the plugin nor the daemon's egress line logs the secret.
    assert secret not in d.log(), d.log()[-3000:]


run = h.run_cases
