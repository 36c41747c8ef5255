#!/usr/bin/env python3
"""Issue 12, streamspace-node-manager in the real daemon, installed from the
shipped catalog, against a loopback stand-in for the Node subset of the
Kubernetes API (k8sfake: GET /api/v1/nodes, GET and PATCH
/api/v1/nodes/{name} with application/merge-patch+json, objects and Status
errors in the real shape) reached at https://kubernetes.test:6443 through
--egress-connect-to, over TLS verified against the config's caBundle alone
(the daemon has no --egress-ca), with the config's bearer token. Through
the plugin's routes (admin only): the node list and one node summarised,
the cluster's totals, a label set and removed (a key with a '/'), a taint
added and removed (the list patched whole with the resourceVersion read),
cordon and uncordon; the API's 404 passed on, a bad name refused before any
request, a wrong CA refused by TLS; the token in no log line. The health job
(healthCheckInterval 5 s) announces a node first seen not ready and one that
turns not ready as plugin.streamspace-node-manager.node-not-ready, and one
back as node-ready (the shipped echo plugin receives them)."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import pgharness as h  # noqa: E402
from k8sfake import FakeAPI, node  # noqa: E402
from tlsserver import make_ca  # noqa: E402

M = "/api/plugins/marketplace"
NAME = "streamspace-node-manager"
R = f"/api/plugins/{NAME}"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.K8sServiceAccountSecret.sig42"


def test_node_manager(pg):
    work = h.tempdir("ss-nodes-")
    ca = make_ca(work, names=("kubernetes.test",))
    other = os.path.join(work, "other")
    os.makedirs(other)
    other_ca = make_ca(other, names=("kubernetes.test",))
    api = FakeAPI(work, TOKEN, [node("node-a"), node("node-b", cpu="8"),
                                node("node-c", ready="False")])
    ci = pg.createdb("nodes")
    d = h.Daemon(ci, work, extra_args=[
        "--egress-connect-to", f"kubernetes.test:6443:127.0.0.1:{api.port}"])
    d.token = h.make_token(ci, "admin", "admin", d)
    cfg = {"apiServer": "https://kubernetes.test:6443", "caBundle": open(ca).read(),
           "token": TOKEN, "healthCheckInterval": 5}
    try:
        entry = [p for p in d.get(f"{M}/catalog").json["plugins"] if p["name"] == NAME]
        assert entry and sorted(entry[0]["permissions"]) == ["network", "routes", "scheduler",
                                                              "storage"], \
            entry and entry[0]["permissions"]
        for bad, where in (({"apiServer": "http://kubernetes.test"}, "/apiServer"),
                           ({"caBundle": "not pem"}, "/caBundle"),
                           ({"token": ""}, "/token")):
            r = d.post(f"{M}/install/{NAME}", {"config": dict(cfg, **bad)})
            assert r.status == 422 and {e["path"] for e in r.json["error"]["errors"]} == \
                {where}, (bad, r)
        assert d.post(f"{M}/install/echo", {"config": {}}).status == 201
        r = d.post(f"{M}/install/{NAME}", {"config": cfg})
        assert r.status == 201, (r, d.log()[-3000:])
        assert TOKEN not in r.raw and TOKEN not in d.get(f"{M}/installed/{NAME}").raw
        d.wait_state(NAME, "running")

        r = d.get(f"{R}/nodes")
        assert r.status == 200, (r, d.log()[-2000:])
        hit = api.hits[-1]
        assert hit["method"] == "GET" and hit["path"] == "/api/v1/nodes", hit
        assert hit["headers"]["authorization"] == f"Bearer {TOKEN}", hit
        assert hit["headers"]["accept"] == "application/json", hit
        assert hit["headers"]["host"] in ("kubernetes.test:6443", "kubernetes.test"), hit
        nodes = r.json["nodes"]
        assert [n["name"] for n in nodes] == ["node-a", "node-b", "node-c"], nodes
        a = nodes[0]
        assert a["ready"] == "True" and a["unschedulable"] is False, a
        assert a["capacity"]["cpu"] == "4" and a["allocatable"]["cpu"] == "3900m", a
        assert a["labels"]["kubernetes.io/hostname"] == "node-a" and a["taints"] == [], a
        assert a["kubeletVersion"] == "v1.29.2" and a["architecture"] == "amd64", a
        assert a["containerRuntime"] == "containerd://1.7.13", a
        assert a["osImage"] == "Debian GNU/Linux 12 (bookworm)", a
        assert a["createdAt"] == "2026-11-01T09:00:00Z", a
        assert a["addresses"][0] == {"type": "InternalIP", "address": "10.0.0.11"}, a
        assert [c["type"] for c in a["conditions"]] == ["MemoryPressure", "DiskPressure",
                                                        "PIDPressure", "Ready"], a
        assert nodes[2]["ready"] == "False", nodes[2]

        st = d.get(f"{R}/nodes/stats").json
        assert (st["nodes"], st["ready"], st["notReady"], st["unschedulable"]) == (3, 2, 1, 0), st
        assert st["capacity"]["cpuCores"] == 16 and st["capacity"]["pods"] == 330, st
        assert st["capacity"]["memoryBytes"] == 3 * 16318420 * 1024, st
        assert abs(st["allocatable"]["cpuCores"] - 15.7) < 1e-9, st

        r = d.get(f"{R}/nodes/node-b")
        assert r.status == 200 and r.json["capacity"]["cpu"] == "8", r
        assert api.hits[-1]["path"] == "/api/v1/nodes/node-b", api.hits[-1]
        r = d.get(f"{R}/nodes/nope")
        assert r.status == 404 and r.json["error"] == {"code": "NotFound",
                                                       "message": 'nodes "nope" not found'}, r
        n = len(api.hits)
        r = d.get(f"{R}/nodes/Bad_Name")
        assert r.status == 400 and len(api.hits) == n, r

        # A label: one merge patch of metadata.labels; removed with null.
        r = d.request("PUT", f"{R}/nodes/node-a/labels",
                      body={"key": "streamspace.io/pool", "value": "gpu"})
        assert r.status == 200 and r.json["labels"]["streamspace.io/pool"] == "gpu", r
        hit = api.hits[-1]
        assert hit["method"] == "PATCH" and hit["path"] == "/api/v1/nodes/node-a", hit
        assert hit["headers"]["content-type"] == "application/merge-patch+json", hit
        assert json.loads(hit["body"]) == {"metadata": {"labels": {"streamspace.io/pool": "gpu"}}}
        assert api.nodes["node-a"]["metadata"]["labels"]["streamspace.io/pool"] == "gpu"
        r = d.request("DELETE", f"{R}/nodes/node-a/labels/-?key=streamspace.io/pool")
        assert r.status == 200 and "streamspace.io/pool" not in r.json["labels"], r
        assert json.loads(api.hits[-1]["body"]) == \
            {"metadata": {"labels": {"streamspace.io/pool": None}}}, api.hits[-1]
        d.request("PUT", f"{R}/nodes/node-a/labels", body={"key": "team", "value": "media"})
        r = d.request("DELETE", f"{R}/nodes/node-a/labels/team")
        assert r.status == 200 and "team" not in api.nodes["node-a"]["metadata"]["labels"], r
        r = d.request("PUT", f"{R}/nodes/node-a/labels", body={"key": "bad key!", "value": "x"})
        assert r.status == 400, r

        # A taint: read, then the list patched whole with the version read.
        rv = api.nodes["node-b"]["metadata"]["resourceVersion"]
        r = d.request("POST", f"{R}/nodes/node-b/taints",
                      body={"key": "dedicated", "value": "streaming", "effect": "NoSchedule"})
        assert r.status == 200, r
        assert r.json["taints"] == [{"key": "dedicated", "value": "streaming",
                                     "effect": "NoSchedule"}], r
        get, patch = api.hits[-2], api.hits[-1]
        assert get["method"] == "GET" and get["path"] == "/api/v1/nodes/node-b", get
        assert json.loads(patch["body"]) == {
            "metadata": {"resourceVersion": rv},
            "spec": {"taints": [{"key": "dedicated", "value": "streaming",
                                 "effect": "NoSchedule"}]}}, patch
        r = d.request("POST", f"{R}/nodes/node-b/taints", body={"key": "x", "effect": "Sometimes"})
        assert r.status == 400, r
        r = d.request("DELETE", f"{R}/nodes/node-b/taints/dedicated")
        assert r.status == 200 and r.json["taints"] == [], r
        assert api.nodes["node-b"]["spec"]["taints"] == [], api.nodes["node-b"]["spec"]
        r = d.request("DELETE", f"{R}/nodes/node-b/taints/dedicated")
        assert r.status == 404, r

        # Cordon and uncordon: spec.unschedulable true, then removed (null).
        r = d.post(f"{R}/nodes/node-c/cordon")
        assert r.status == 200 and r.json["unschedulable"] is True, r
        assert json.loads(api.hits[-1]["body"]) == {"spec": {"unschedulable": True}}
        assert d.get(f"{R}/nodes/stats").json["unschedulable"] == 1
        r = d.post(f"{R}/nodes/node-c/uncordon")
        assert r.status == 200 and r.json["unschedulable"] is False, r
        assert json.loads(api.hits[-1]["body"]) == {"spec": {"unschedulable": None}}
        assert "unschedulable" not in api.nodes["node-c"]["spec"], api.nodes["node-c"]

        # The health job: node-c was not ready when first seen; then node-a turns, node-c heals.
        ev = f"echo plugin.{NAME}."
        try:
            h.wait_for(lambda: "health-check: node node-c not ready (False: NodeStatusUnknown)"
                       in d.log(), 20, "node-c announced")
            h.wait_for(lambda: d.log().count(ev + "node-not-ready") == 1, 20, "echo got it")
            api.set_ready("node-a", "False")
            api.set_ready("node-c", "True")
            h.wait_for(lambda: "health-check: node node-a not ready (False:" in d.log(), 20,
                       "node-a announced")
            h.wait_for(lambda: "health-check: node node-c ready again" in d.log(), 20, "node-c")
            h.wait_for(lambda: d.log().count(ev + "node-not-ready") == 2 and
                       d.log().count(ev + "node-ready") == 1, 20, "echo got both")
            # Unchanged on the next run: nothing announced again.
            n_runs = d.log().count("health-check: 3 nodes, 1 not ready")
            h.wait_for(lambda: d.log().count("health-check: 3 nodes, 1 not ready") > n_runs, 20,
                       "another run")
        except AssertionError as e:
            raise AssertionError(f"{e}; log: {d.log()[-3000:]}") from None
        assert d.log().count(ev + "node-not-ready") == 2, d.log()[-2000:]
        api.set_ready("node-a", "True")

        # Admin only.
        viewer = h.make_token(ci, "v", "viewer", d)
        assert d.get(f"{R}/nodes", token=viewer).status == 403
        # A CA the server does not chain to: TLS refuses, no request is answered.
        n = len(api.hits)
        r = d.request("PUT", f"{M}/config/{NAME}", body={"config": dict(
            cfg, caBundle=open(other_ca).read())})
        assert r.status == 200, r
        # (a new configuration restarts the host: the old one, then 503, then the new one)
        r = h.wait_for(lambda: (lambda x: x if x.status == 502 else None)(d.get(f"{R}/nodes")),
                       20, "the restarted host")
        assert r.status == 502 and r.json["error"]["code"] == "kubernetes_unreachable", r
        assert "tls" in r.json["error"]["message"], r
        assert len(api.hits) == n, api.hits[n:]
        # A wrong token: the API's 401 is the caller's bad gateway.
        d.request("PUT", f"{M}/config/{NAME}", body={"config": dict(cfg, token="wrong")})
        r = h.wait_for(lambda: (lambda x: x if x.json["error"]["code"] not in (
            "kubernetes_unreachable", "plugin_unavailable") else None)(d.get(f"{R}/nodes")),
            20, "the restarted host")
        assert r.status == 502 and r.json["error"]["code"] == "Unauthorized", r
        assert TOKEN not in d.log(), d.log()[-3000:]
    finally:
        rc = d.stop()
        assert rc == 0, d.log()[-3000:]


if __name__ == "__main__":
    sys.exit(h.run_cases([test_node_manager]))
