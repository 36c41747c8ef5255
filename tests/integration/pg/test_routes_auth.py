#!/usr/bin/env python3
"""Plugin routes with real tokens (issue 10 item 2) on a real PostgreSQL:
the route's role is checked by the daemon before the plugin hears of the
request (no token 401, a token of too low a role 403, a public route needs
none), the plugin gets the caller's token name and role but never the
Authorization header; and routes appear and disappear with the plugin
(disable, enable, uninstall, install again, a blue/green upgrade) with no
daemon restart.
Routes and storage together: the kvbench route runs storage calls from
inside a handler (the route's deadline pauses while the daemon works)."""
import json
import os
import shutil
import threading
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"
P = "/api/plugins/routed"
TESTPLUGINS = os.path.join(h.BUILD, "tests", "integration", "plugins")


def plugin_src(work, version="1.0.0"):
    src = os.path.join(work, "src")
    for name, perms in (("routed", ["routes", "storage"]), ("routed-n", [])):
        d = os.path.join(src, name)
        os.makedirs(d, exist_ok=True)
        shutil.copy(os.path.join(TESTPLUGINS, name + ".so"), d)
        with open(os.path.join(d, "manifest.json"), "w") as f:
            json.dump({"name": name, "version": version, "displayName": name,
                       "description": "routes", "author": "tests",
                       "entrypoints": {"main": name + ".so"}, "permissions": perms}, f)
    return src


def setup(ctx):
    work = h.tempdir("ss-routes-")
    d = ctx.fresh(work=work, plugin_src=plugin_src(work),
                  extra_args=["--route-timeout-ms", "5000"])
    toks = {role: h.make_token(d.ci, role[0], role, d) for role in ("viewer", "service")}
    toks["admin"] = d.token
    for name in ("routed", "routed-n"):
        r = d.post(f"{M}/install/{name}")
        assert r.status == 201, r
        d.wait_state(name, "running")
    return d, toks


def test_roles(ctx):
    d, t = setup(ctx)
    r = d.get(P + "/public", token="")
    assert r.status == 200 and r.json["caller"] is None and r.json["role"] is None, r
    r = d.get(P + "/public", token=t["viewer"])
    assert r.status == 200 and r.json["caller"] is None, "a public route names no caller: %r" % r

    r = d.get(P + "/items/1", token="")
    assert r.status == 401 and r.headers.get("WWW-Authenticate") == "Bearer", r
    r = d.get(P + "/items/1", token="not-a-real-token")
    assert r.status == 401 and "invalid_token" in r.headers.get("WWW-Authenticate", ""), r
    r = d.get(P + "/items/1", token=t["viewer"], headers={"Cookie": "c=1", "X-Test": "v"})
    assert r.status == 200 and r.json["caller"] == "v" and r.json["role"] == "viewer", r
    assert "authorization" not in r.json["headers"] and "cookie" not in r.json["headers"], r
    assert r.json["x_test"] == "v", r

    # PATCH needs service, DELETE admin: refused before the plugin hears of it.
    r = d.request("PATCH", P + "/items/1", body={}, token=t["viewer"])
    assert r.status == 403 and r.json["error"]["code"] == "forbidden", r
    r = d.request("DELETE", P + "/items/1", token=t["service"])
    assert r.status == 403, r
    r = d.request("PATCH", P + "/items/1", body={"a": 1}, token=t["service"])
    assert r.status == 200 and r.json["caller"] == "s" and r.json["role"] == "service", r
    assert r.json["json"] == {"a": 1}, r
    r = d.request("PATCH", P + "/items/1", body={}, token=t["admin"])
    assert r.status == 200 and r.json["role"] == "admin", r
    r = d.request("DELETE", P + "/items/9", token=t["admin"])
    assert r.status == 200 and r.json["id"] == "9" and r.json["caller"] == "admin", r

    # An unknown route is 404 whoever asks; routed-n has none (no routes permission).
    assert d.get(P + "/nothing", token="").status == 404
    assert d.get("/api/plugins/routed-n/hello", token=t["admin"]).status == 404
    assert 'routed-n: denied: route.add needs the "routes" permission' in d.log()
    # The marketplace's own endpoints are untouched by the plugins' subtree.
    assert d.get(M + "/installed", token=t["viewer"]).status == 200


def test_routes_follow_the_plugin(ctx):
    d, t = setup(ctx)
    assert d.get(P + "/hello", token="").status == 200
    assert d.post(f"{M}/disable/routed").status == 200
    d.wait_no_runtime("routed")
    r = d.get(P + "/hello", token="")
    assert r.status == 404, "a disabled plugin has no routes: %r" % r
    assert d.post(f"{M}/enable/routed").status == 200
    d.wait_state("routed", "running")
    h.wait_for(lambda: d.get(P + "/hello", token="").status == 200, 20, "routes back")
    r = d.request("DELETE", f"{M}/uninstall/routed")
    assert r.status == 200, r
    h.wait_for(lambda: d.get(P + "/hello", token="").status == 404, 20, "routes gone")
    assert d.post(f"{M}/install/routed").status == 201
    d.wait_state("routed", "running")
    h.wait_for(lambda: d.get(P + "/hello", token="").status == 200, 20, "routes again")

    # Storage from inside a route handler: the deadline (5 s) pauses while the daemon works.
    r = d.post(P + "/kvbench?op=set&n=200&keys=50", token=t["admin"])
    assert r.status == 200 and r.json["ops"] == 200 and r.json["errors"] == 0, (r, d.log()[-3000:])
    r = d.post(P + "/kvbench?op=get&n=200&keys=50", token=t["admin"])
    assert r.status == 200 and r.json["errors"] == 0, r
    assert d.runtime("routed")["crashes"] == 0


def test_routes_across_an_upgrade(ctx):
    """A blue/green version change: the old host serves its routes until the new one
    takes over, then the new host's routes answer; a caller meanwhile sees 200 or 503."""
    d, t = setup(ctx)
    old = d.runtime("routed")["pid"]
    h.set_manifest(os.path.join(d.plugin_dir, "routed", "manifest.json"), version="1.1.0")
    seen = set()
    stop = []

    def poll():
        while not stop:
            seen.add(d.get(P + "/hello", token="").status)
    th = threading.Thread(target=poll)
    th.start()
    try:
        r = d.post(f"{M}/install/routed", {"version": "1.1.0"})
        assert r.status == 200 and r.json["plugin"]["version"] == "1.1.0", r
    finally:
        stop.append(1)
        th.join()
    rt = d.runtime("routed")
    assert rt["pid"] != old and rt["state"] == "running", rt  # (its version is the .so's)
    assert seen <= {200, 503} and 200 in seen, seen
    r = d.get(P + "/items/5", token=t["viewer"])
    assert r.status == 200 and r.json["id"] == "5", r


if __name__ == "__main__":
    sys.exit(h.run_with_ctx("ss_routes_", "ss-routes-", [
        test_roles, test_routes_follow_the_plugin, test_routes_across_an_upgrade]))
