#!/usr/bin/env python3
"""Egress for installed plugins (PROTOCOL.md, "Egress"): the applier tells
the egress service each plugin's allowedHosts as it starts it, so an
installed net-a reaches hooks.slack.com over verified TLS (the test's CA via
--egress-ca, the loopback receiver via --egress-connect-to), is refused
other.example.com (outside its allowedHosts, nothing sent), and net-n
without network is refused. An upgrade-free reinstall with another
allowedHosts takes the new list."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import pgharness as h  # noqa: E402
from tlsserver import Receiver, make_ca  # noqa: E402

M = "/api/plugins/marketplace"
TESTPLUGINS = os.path.join(h.BUILD, "tests", "integration", "plugins")


def write_src(src, hosts):
    for name, extra in (("net-a", {"permissions": ["read:sessions", "network"],
                                   "allowedHosts": hosts}),
                        ("net-n", {"permissions": ["read:sessions"]})):
        d = os.path.join(src, name)
        os.makedirs(d, exist_ok=True)
        shutil.copy(os.path.join(TESTPLUGINS, name + ".so"), d)
        with open(os.path.join(d, "manifest.json"), "w") as f:
            json.dump(dict({"name": name, "version": "1.0.0", "displayName": name,
                            "description": "egress driver", "author": "tests",
                            "entrypoints": {"main": name + ".so"}}, **extra), f)


def test_installed(ctx):
    work = h.tempdir("ss-egress-")
    ca = make_ca(work)
    rcv = Receiver(work)
    src = os.path.join(work, "src")
    write_src(src, ["hooks.slack.com"])
    d = ctx.fresh(work=work, plugin_src=src,
                  extra_args=["--egress-ca", ca] + rcv.connect_to_args())
    svc = h.make_token(d.ci, "svc", "service", d)
    for name in ("net-a", "net-n"):
        r = d.post(f"{M}/install/{name}")
        assert r.status == 201, r
        d.wait_state(name, "running")
    k = h.CallDriver(d, svc)
    r = k.call("net-a", "http", url="https://hooks.slack.com/ok")
    assert r["r"] == 0 and r["status"] == 200 and r["body"] == "hello", r
    before = rcv.count("main")
    r = k.call("net-a", "http", url="https://other.example.com/ok")
    assert r["r"] == -4 and "allowedHosts" in r["msg"], r
    r = k.call("net-n", "http", url="https://hooks.slack.com/ok")
    assert r["r"] == -4 and "network" in r["msg"], r
    assert rcv.count("main") == before, "a refused request reached the receiver"

    # Reinstalled with another list: the new one holds.
    r = d.request("DELETE", f"{M}/uninstall/net-a")
    assert r.status == 200, r
    write_src(d.plugin_dir, ["other.example.com"])
    r = d.post(f"{M}/install/net-a")
    assert r.status == 201, r
    d.wait_state("net-a", "running")
    r = k.call("net-a", "http", url="https://other.example.com/ok")
    assert r["r"] == 0 and r["status"] == 200, r
    r = k.call("net-a", "http", url="https://hooks.slack.com/ok")
    assert r["r"] == -4 and "allowedHosts" in r["msg"], r


if __name__ == "__main__":
    sys.exit(h.run_with_ctx("ss_egress_", "ss-egress-", [test_installed]))
