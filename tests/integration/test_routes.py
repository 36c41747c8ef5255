#!/usr/bin/env python3
"""A plugin's HTTP routes (issue 10 item 2; PROTOCOL.md "Routes") on a real
daemon over real HTTP: routed declares them in on_load and the daemon serves
them at /api/plugins/routed/... The happy path carries method, path, :params,
query, headers and body and the plugin's status and headers back;
Authorization, Cookie and framing headers never reach the plugin; a path no
route has is 404, a method it lacks 405; a body over --route-max-body is 413;
a handler that sleeps past --route-timeout-ms is 504 and its host is ended as
hung (cause deadline) and restarted; while a host restarts its routes answer
503 with Retry-After; answers HTTP cannot carry (framing or hop-by-hop
headers, CR/LF in a value, a status out of range, a body over the frame) are
502 with a log line, a failing handler 500, garbage on the socket 502 and a
restart; the shipped hello serves GET /hello; routed-n, without the routes permission, has ss_route refused
(permission_denied, a daemon log line) and no routes. The daemon is fine
throughout. (Tokens and roles need a database: pg/test_routes_auth.py.)"""
import atexit
import json
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, manifest_plugin  # noqa: E402

P = "/api/plugins/routed"
MAX_BODY = 4096
TIMEOUT_MS = 1500

work = tempfile.mkdtemp(prefix="ss-routes-")
os.chmod(work, 0o755)
atexit.register(shutil.rmtree, work, True)


plugins = [manifest_plugin(work, "routed", ["routes"], "routes"),
           manifest_plugin(work, "routed-n", [], "routes"), "hello"]


def restarts(d):
    return d.status("routed")["restarts"]


def wait_serving(d):
    d.wait_until("routed to serve its routes",
                 lambda: d.request("GET", P + "/hello").status == 200)


def test(d):
    d.wait_running("routed")
    d.wait_line(r"routed: routes declared")

    # The happy path: params, query, headers, body, and the answer's status and headers.
    r = d.request("GET", P + "/items/42?q=hello%20world&q=second&x=1",
                  headers={"X-Test": "yes", "Authorization": "Bearer secret-token",
                           "Cookie": "session=abc", "Accept": "application/json"})
    check(r.status == 200, "GET item: %s", r)
    j = r.json
    check(j["method"] == "GET" and j["path"] == "/items/42" and j["id"] == "42" and
          j["params"] == {"id": "42"}, "params: %s", j)
    check(j["q"] == "hello world" and j["query"] == {"q": "hello world", "x": "1"},
          "query (the first of a name, decoded): %s", j)
    check(j["x_test"] == "yes" and j["headers"].get("accept") == "application/json",
          "headers: %s", j["headers"])
    for gone in ("authorization", "cookie", "connection", "content-length"):
        check(gone not in j["headers"], "%s reached the plugin: %s", gone, j["headers"])
    check(r.headers.get("X-Plugin") == "routed" and
          r.headers.get("Content-Type") == "application/json", "answer headers: %s", r.headers)
    check(j["caller"] is None and j["role"] is None,
          "no authenticator (no database): no caller: %s", j)

    body = {"name": "widget", "tags": ["a", "b"], "text": "h\u00e9llo"}
    r = d.request("POST", P + "/items", body)
    check(r.status == 201 and r.json["json"] == body and json.loads(r.json["body"]) == body,
          "POST body: %s", r)
    r = d.request("PATCH", P + "/items/7", "plain text", headers={"Content-Type": "text/plain"})
    check(r.status == 200 and r.json["body"] == "plain text" and r.json["json"] is None,
          "PATCH with a text body: %s", r)
    r = d.request("GET", P + "/items/new")
    check(r.status == 200 and r.json["id"] is None, "a literal beats a :param: %s", r)
    r = d.request("GET", P + "/items/a%2Fb")
    check(r.status == 400, "an encoded / in a param: %s", r)
    r = d.request("HEAD", P + "/hello")
    check(r.status == 200 and r.body == b"" and int(r.headers["Content-Length"]) > 0,
          "HEAD on a GET route: %s %s", r, r.headers)
    r = d.request("GET", P + "/hello")
    check(r.status == 200 and r.json == {"message": "Hello from plugin!"}, "hello: %s", r)
    r = d.request("GET", P + "/status/204")
    check(r.status == 204 and r.body == b"", "204: %s", r)

    # Routes the plugin does not have.
    for path in (P + "/nothing", P + "/items/1/2", P, P + "/", "/api/plugins/nosuch/hello",
                 "/api/plugins/routed-n/hello", "/api/plugins/NOT_A_NAME/x"):
        r = d.request("GET", path)
        check(r.status == 404 and r.json["error"]["code"] == "not_found", "%s: %s", path, r)
    r = d.request("PUT", P + "/items/1", {})
    check(r.status == 405 and r.headers.get("Allow") == "GET, HEAD, PATCH, DELETE",
          "405 with Allow: %s %s", r, r.headers)

    # Bodies: over the route limit 413; not UTF-8 415.
    r = d.request("POST", P + "/items", "x" * (MAX_BODY + 1),
                  headers={"Content-Type": "text/plain"})
    check(r.status == 413 and r.json["error"]["code"] == "too_large", "oversize: %s", r)
    r = d.request("POST", P + "/items", "x" * MAX_BODY, headers={"Content-Type": "text/plain"})
    check(r.status == 201 and len(r.json["body"]) == MAX_BODY, "a body at the limit: %s", r)
    r = d.request("POST", P + "/items", b"\xff\xfe", headers={"Content-Type": "text/plain"})
    check(r.status == 415, "a body that is not UTF-8: %s", r)

    # Answers HTTP cannot carry: 502 and a log line naming why; the host serves on.
    before = d.status("routed")
    for kind, why in (("length", "Content-Length"), ("te", "Transfer-Encoding"),
                      ("crlf", "X-Evil"), ("name", "Bad Name"), ("status", "200-599"),
                      ("status-low", "200-599")):
        mark = len(d.snapshot())
        r = d.request("GET", P + "/bad/" + kind)
        check(r.status == 502 and r.json["error"]["code"] == "bad_gateway", "%s: %s", kind, r)
        check("Set-Cookie" not in r.headers and "stolen" not in json.dumps(r.headers),
              "%s: a smuggled header: %s", kind, r.headers)
        d.wait_line(r"routed: route GET /api/plugins/routed/bad/%s: bad answer: .*%s" %
                    (kind, why), start=mark)
    r = d.request("GET", P + "/bad/huge")
    check(r.status == 502, "a body over the frame: %s", r)
    r = d.request("GET", P + "/bad/fail")
    check(r.status == 500 and r.json["error"]["code"] == "handler_failed", "fail: %s", r)
    st = d.status("routed")
    check(st["crashes"] == before["crashes"] and st["state"] == "running",
          "bad answers ended the host: %s", st)

    # Garbage on the socket: the host is ended (protocol) and restarted; the caller 502.
    n = restarts(d)
    r = d.request("GET", P + "/bad/garbage")
    check(r.status == 502 and r.json["error"]["code"] == "plugin_lost", "garbage: %s", r)
    d.wait_status("routed", lambda s: s["restarts"] > n and s["state"] == "running",
                  "a restart after garbage")
    check(d.status("routed")["last_exit"]["reason"] == "protocol", "garbage: %s",
          d.status("routed")["last_exit"])
    wait_serving(d)

    # A crash in the handler: 502 for that caller; while the host restarts, 503.
    n = restarts(d)
    r = d.request("GET", P + "/bad/crash")
    check(r.status == 502, "crash: %s", r)
    seen = set()
    saw_503 = None
    for _ in range(2000):
        r = d.request("GET", P + "/hello")
        seen.add(r.status)
        if r.status == 503:
            saw_503 = r
        if r.status == 200 and restarts(d) > n:
            break
        time.sleep(0.002)
    check(saw_503 is not None, "no 503 while the host restarted (saw %s)", seen)
    check(saw_503.headers.get("Retry-After") and
          saw_503.json["error"]["code"] == "plugin_unavailable", "503: %s %s", saw_503,
          saw_503.headers)
    check(seen <= {200, 502, 503}, "statuses while restarting: %s", seen)

    # Kill the host from outside, then call at once: 503 (or 502 while the loss is noticed).
    wait_serving(d)
    n = restarts(d)
    os.kill(d.status("routed")["pid"], signal.SIGKILL)
    d.wait_status("routed", lambda s: s["state"] != "running" or s["restarts"] > n,
                  "the kill to be noticed")
    r = d.request("GET", P + "/hello")
    check(r.status in (503, 200), "after a kill: %s", r)
    wait_serving(d)

    # A handler that sleeps past the deadline: 504, and the host is ended as hung.
    n = restarts(d)
    t0 = time.monotonic()
    r = d.request("GET", P + "/sleep")
    took = time.monotonic() - t0
    check(r.status == 504 and r.json["error"]["code"] == "plugin_timeout", "sleep: %s", r)
    check(took < 30, "504 took %.1f s", took)
    d.wait_status("routed", lambda s: s["restarts"] > n and s["state"] == "running",
                  "a restart after the deadline")
    le = d.status("routed")["last_exit"]
    check(le["reason"] == "deadline" and "http.request" in le["description"], "504: %s", le)
    wait_serving(d)
    r = d.request("GET", P + "/sleep?ms=10")
    check(r.status == 200, "a short sleep: %s", r)

    # Without the routes permission ss_route is refused, clearly, and logged.
    m = d.wait_line(r"routed-n: ss_route GET /hello: (-?\d+) (\S+): (.*)$")
    check(m.group(1) == "-4" and m.group(2) == "permission_denied" and
          "routes" in m.group(3), "routed-n: %s", m.group(0))
    d.wait_line(r'routed-n: denied: route.add needs the "routes" permission')
    # A declaration the daemon refuses is the plugin's error, not its end.
    m = d.wait_line(r"routed: duplicate route: (-?\d+) (\S+): (.*)$")
    check(m.group(1) == "-1" and m.group(2) == "bad_request", "duplicate: %s", m.group(0))

    # The shipped hello plugin serves the guide's example route.
    d.wait_running("hello")
    r = d.request("GET", "/api/plugins/hello/hello")
    check(r.status == 200 and r.json == {"message": "Hello from plugin!"}, "hello: %s", r)

    check(d.healthy(), "daemon unhealthy")
    check(d.status("routed-n")["crashes"] == 0, "routed-n: %s", d.status("routed-n"))


main(test, plugins=plugins,
     extra_args=["--route-max-body", str(MAX_BODY), "--route-timeout-ms", str(TIMEOUT_MS)])
