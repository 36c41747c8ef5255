#!/usr/bin/env python3
"""ss_http_request (PROTOCOL.md, "Egress"). A loopback HTTPS server with a
certificate for hooks.slack.com (and other.example.com, localhost) signed by
a CA this test makes with openssl; the daemon reaches it through
--egress-connect-to (the operator's pinned destination) over TLS verified
with --egress-ca (added to the system's authorities). A second server (the
sentinel) stands for a private address nobody pinned: nothing may reach it.

net-a has network and allowedHosts [hooks.slack.com, localhost]; net-n has
no network. Checked: the permission (works / permission_denied, nothing
sent), a host outside allowedHosts (refused, nothing sent), a private
address without the allowance (refused, nothing sent), a slow answer
(timeout), an oversized one (too_large at the limit), redirects (followed on
the same host; to a private address or outside allowedHosts refused, nothing
sent there), an egress call longer than the event deadline (the host is not
killed), secrets (headers, query) never logged; and with a second daemon
that has --egress-allow-private but no --egress-ca: the private address is
reached and TLS verification fails (it is on). A request's own CA
(ss_http_request_opt's ca_pem, a cluster's CA) is the only one trusted for
it: the test CA given that way works without --egress-ca, and another CA
fails even where --egress-ca trusts the server."""
import atexit
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, check, main, manifest_plugin  # noqa: E402
from tlsserver import Receiver, make_ca  # noqa: E402

work = tempfile.mkdtemp(prefix="ss-egress-")
os.chmod(work, 0o755)
atexit.register(shutil.rmtree, work, True)


CA = make_ca(work)
rcv = Receiver(work)
OTHER = os.path.join(work, "other")
os.makedirs(OTHER)
with open(CA) as f:
    CA_PEM = f.read()
with open(make_ca(OTHER)) as f:
    OTHER_PEM = f.read()
SENTINEL = [rcv.sentinel_port]


def count(who):
    return rcv.count(who)


PLUGINS = {
    "net-a": {"permissions": ["read:sessions", "network"],
              "allowedHosts": ["hooks.slack.com", "localhost"]},
    "net-n": {"permissions": ["read:sessions"]},
}
paths = [manifest_plugin(work, name, extra.pop("permissions"), "egress driver", **extra)
         for name, extra in PLUGINS.items()]

seq = [0]


def call(d, who, **kw):
    seq[0] += 1
    return d.driver_call(who, "http", seq[0], **kw)


def test(d):
    for name in PLUGINS:
        d.wait_running(name)
    pid = d.status("net-a")["pid"]

    # Works: verified TLS to the pinned destination, headers and query sent, answer back.
    r = call(d, "net-a", url="https://hooks.slack.com/ok?token=QSECRET77",
             headers={"Authorization": "Bearer HSECRET99"})
    check(r["r"] == 0 and r["status"] == 200 and r["x_test"] == "yes" and r["body"] == "hello",
          "GET hooks.slack.com: %s", r)
    last = rcv.last()
    check(last["auth"] == "Bearer HSECRET99" and last["query"] == "token=QSECRET77",
          "the server did not see the plugin's header and query: %s", last)
    r = call(d, "net-a", method="POST", url="https://hooks.slack.com/ok", body='{"text":"hi"}')
    last = rcv.last()
    check(r["r"] == 0 and last["method"] == "POST" and last["body"] == '{"text":"hi"}',
          "POST: %s / %s", r, last)

    # Without the permission: refused by the daemon, nothing sent.
    before = count("main")
    r = call(d, "net-n", url="https://hooks.slack.com/ok")
    check(r["r"] == -4 and r["code"] == "permission_denied" and "network" in r["msg"],
          "net-n: %s", r)
    # Outside allowedHosts: refused before any connection.
    r = call(d, "net-a", url="https://other.example.com/ok")
    check(r["r"] == -4 and "allowedHosts" in r["msg"], "other.example.com: %s", r)
    check(count("main") == before, "a refused request reached the server")

    # A private address nobody pinned (localhost is allowed by name): refused, nothing sent.
    r = call(d, "net-a", url="https://localhost:%d/ok" % SENTINEL[0])
    check(r["r"] == -4 and "refused to connect" in r["msg"], "localhost: %s", r)
    check(count("sentinel") == 0, "the sentinel was reached")

    # Redirects: followed on the same host; to a private address or outside allowedHosts: refused.
    r = call(d, "net-a", url="https://hooks.slack.com/redirect?to=/ok")
    check(r["r"] == 0 and r["status"] == 200 and r["body"] == "hello", "redirect: %s", r)
    r = call(d, "net-a", url="https://hooks.slack.com/redirect?to=https://localhost:SENTINEL/ok")
    check(r["r"] == -4 and "refused to connect" in r["msg"], "redirect to private: %s", r)
    r = call(d, "net-a", url="https://hooks.slack.com/redirect?to=https://other.example.com/ok")
    check(r["r"] == -4 and "allowedHosts" in r["msg"], "redirect outside allowedHosts: %s", r)
    before = count("main")
    r = call(d, "net-a", url="https://hooks.slack.com/loop")
    check(r["r"] == -7 and "more than 5 redirects" in r["msg"] and count("main") == before + 6,
          "redirect loop: %s after %d requests", r, count("main") - before)
    check(count("sentinel") == 0, "the sentinel was reached through a redirect")

    # Limits: the answer's size, the whole call's time.
    r = call(d, "net-a", url="https://hooks.slack.com/big")
    check(r["r"] == -5 and r["code"] == "too_large", "big: %s", r)
    r = call(d, "net-a", url="https://hooks.slack.com/slow?ms=6000")
    check(r["r"] == -8 and r["code"] == "timeout", "slow: %s", r)

    # Longer than the event deadline (1000 ms), within the egress timeout (4000 ms).
    r = call(d, "net-a", url="https://hooks.slack.com/slow?ms=2500")
    check(r["r"] == 0 and r["body"] == "slow", "2.5 s answer: %s", r)
    st = d.status("net-a")
    check(st["pid"] == pid and st["state"] == "running",
          "the host was restarted during a long egress call: %s", st)

    r = call(d, "net-a", url="https://hooks.slack.com/ok?token=USECRET55 bad")
    check(r["r"] == -1 and r["code"] == "bad_request", "unusable url: %s", r)
    # The driver's own "res" lines quote the daemon's answers to it; the rest is the daemon's.
    log = "\n".join(l for l in d.snapshot() if " res {" not in l)
    for secret in ("QSECRET77", "HSECRET99", "USECRET55"):
        check(secret not in log, "%s reached the daemon log", secret)
    # A request's own CA replaces the daemon's: another CA fails where --egress-ca trusts it.
    r = call(d, "net-a", url="https://hooks.slack.com/ok", ca=OTHER_PEM)
    check(r["r"] == -7 and "tls" in r["msg"], "another CA: %s", r)
    r = call(d, "net-a", url="https://hooks.slack.com/ok", ca=CA_PEM)
    check(r["r"] == 0 and r["body"] == "hello", "the right CA: %s", r)
    r = call(d, "net-a", url="https://hooks.slack.com/ok", ca="not a certificate")
    check(r["r"] == -1 and "PEM" in r["msg"], "a bad CA: %s", r)
    check("BEGIN CERTIFICATE" not in "\n".join(d.snapshot()), "a CA reached the log")
    # The origin only: a webhook URL's path is its credential (hooks.slack.com/services/T/B/X).
    check(d.matches(r"net-a: egress GET https://hooks\.slack\.com/\.\.\.: 200"),
          "no log line for a served request")

    # Another daemon: the allowance reaches the private address, and TLS is verified
    # (no --egress-ca: the test CA is not trusted).
    d2 = Daemon(paths, ["--egress-allow-private", "--event-timeout-ms", "1000"], "debug")
    try:
        d2.start()
        d2.wait_running("net-a")
        r = call(d2, "net-a", url="https://localhost:%d/ok" % SENTINEL[0])
        check(r["r"] == -7 and "tls" in r["msg"], "no CA: %s", r)
        # The request's own CA: trusted for it alone, without --egress-ca.
        r = call(d2, "net-a", url="https://localhost:%d/ok" % SENTINEL[0], ca=CA_PEM)
        check(r["r"] == 0 and r["body"] == "hello", "the request's CA: %s", r)
        r = call(d2, "net-a", url="https://localhost:%d/ok" % SENTINEL[0])
        check(r["r"] == -7 and "tls" in r["msg"], "a CA kept past its request: %s", r)
        d2.stop()
    finally:
        d2.kill()


main(test, plugins=paths,
     extra_args=["--egress-ca", CA] + rcv.connect_to_args() + [
                 "--egress-timeout-ms", "4000", "--egress-max-bytes", "65536",
                 "--event-timeout-ms", "1000"])
