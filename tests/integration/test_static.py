"""The admin UI's files over real HTTP (issue 13): types, caching headers,
a strict CSP, no listing, no traversal, nothing outside the web root.

Runs the daemon twice: on the source tree's web/ (what `scripts/dev up`
serves), and on a made-up web root holding a symlink out of it, a hidden
file, a FIFO and an odd name, none of which may be served.
"""
import os
import re
import socket
import tempfile

from harness import Daemon, TestFailure, check

SOURCE = os.environ.get("SS_SOURCE_ROOT") or os.path.join(os.path.dirname(__file__), "..", "..")
WEB = os.path.join(SOURCE, "web")


def raw_get(d, target):
    """GET with the request target sent byte for byte (http.client would re-quote it)."""
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    try:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    check(m is not None, "no status line for %r: %r", target, data[:100])
    return int(m.group(1)), data


def vendored():
    for dirpath, _, files in os.walk(os.path.join(WEB, "vendor")):
        for f in files:
            if f.endswith(".js"):
                return os.path.relpath(os.path.join(dirpath, f), WEB)
    raise TestFailure("no vendored script under web/vendor (scripts/vendor-web)")


def test_source_tree():
    d = Daemon(extra_args=["--web-root", WEB], log_level="info").start()
    try:
        r = d.request("GET", "/")
        check(r.status == 302 and r.headers.get("Location") == "/admin/", "/ -> %r %r", r, r.headers)
        r = d.request("GET", "/admin")
        check(r.status == 301 and r.headers.get("Location") == "/admin/", "/admin -> %r", r)

        r = d.request("GET", "/admin/")
        check(r.status == 200, "/admin/: %r", r)
        with open(os.path.join(WEB, "index.html"), "rb") as f:
            check(r.body == f.read(), "/admin/ is not index.html")
        h = r.headers
        check(h.get("Content-Type") == "text/html; charset=utf-8", "type %r", h.get("Content-Type"))
        csp = h.get("Content-Security-Policy", "")
        for part in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                     "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"):
            check(part in csp, "CSP lacks %s: %r", part, csp)
        check("unsafe-inline" not in csp and "unsafe-eval" not in csp, "CSP too loose: %r", csp)
        check(h.get("X-Content-Type-Options") == "nosniff", "nosniff: %r", h)
        check(h.get("X-Frame-Options") == "DENY", "X-Frame-Options: %r", h)
        check(h.get("Cache-Control") == "no-cache", "index Cache-Control %r", h.get("Cache-Control"))
        etag = h.get("ETag", "")
        check(re.fullmatch(r'"[0-9a-f]{16}"', etag), "ETag %r", etag)
        # One Cache-Control only: the API's no-store must not be added beside it.
        status, data = raw_get(d, b"/admin/")
        check(data.lower().count(b"\r\ncache-control:") == 1, "Cache-Control twice: %r", data[:600])

        r = d.request("GET", "/admin/", headers={"If-None-Match": etag})
        check(r.status == 304 and r.body == b"", "If-None-Match: %r", r)
        r = d.request("GET", "/admin/", headers={"If-None-Match": '"0000000000000000", ' + etag})
        check(r.status == 304, "If-None-Match list: %r", r)
        r = d.request("GET", "/admin/", headers={"If-None-Match": '"0000000000000000"'})
        check(r.status == 200, "other ETag: %r", r)
        r = d.request("HEAD", "/admin/index.html")
        check(r.status == 200 and r.body == b"", "HEAD: %r", r)

        for path, want in (("/admin/app.css", "text/css; charset=utf-8"),
                           ("/admin/js/app.js", "text/javascript; charset=utf-8"),
                           ("/admin/favicon.svg", "image/svg+xml")):
            r = d.request("GET", path)
            check(r.status == 200 and r.headers.get("Content-Type") == want,
                  "%s: %r %r", path, r, r.headers.get("Content-Type"))
        v = vendored()
        r = d.request("GET", "/admin/" + v)
        check(r.status == 200 and r.headers.get("Content-Type", "").startswith("text/javascript"),
              "%s: %r", v, r)
        check(r.headers.get("Cache-Control") == "public, max-age=31536000, immutable",
              "vendored file cache %r", r.headers.get("Cache-Control"))

        # No listing: a directory is as absent as a missing file.
        for path in ("/admin/js/", "/admin/js", "/admin/vendor/", "/admin/nope.html",
                     "/admin/" + os.path.dirname(v) + "/"):
            r = d.request("GET", path)
            check(r.status == 404, "%s: %r", path, r)
            check(b"app.js" not in r.body and b"jsoneditor" not in r.body, "%s lists: %r", path, r)
        # Traversal, raw on the wire: refused (400) or unknown (404), never a file.
        for target in (b"/admin/../../../../etc/passwd", b"/admin/..%2f..%2fetc%2fpasswd",
                       b"/admin/%2e%2e/%2e%2e/etc/passwd", b"/admin/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                       b"/admin/js/..%2f..%2f..%2fetc%2fpasswd", b"/admin/index.html%00.js",
                       b"/admin/%00", b"/admin/..", b"/admin/.", b"/admin/js/%2e%2e",
                       b"/admin/..%5c..%5cetc%5cpasswd", b"/admin/%zz", b"/admin/%2",
                       b"/admin//etc/passwd", b"/admin/js//app.js", b"/admin/.git/config"):
            status, data = raw_get(d, target)
            check(status in (400, 404), "%r answered %d", target, status)
            check(b"root:" not in data and b"import " not in data, "%r leaked: %r", target,
                  data[:200])
        status, _ = raw_get(d, b"/admin/%69ndex.html")
        check(status == 200, "an escaped plain name is that name: %d", status)
        # Only GET and HEAD.
        r = d.request("POST", "/admin/", body=b"{}")
        check(r.status == 405, "POST /admin/: %r", r)
        # The API keeps answering as before, no-store.
        r = d.request("GET", "/healthz")
        check(r.status == 200 and r.headers.get("Cache-Control") == "no-store", "healthz %r", r)
        d.stop()
        d.check_sanitizers()
    finally:
        d.kill()


def test_hostile_root():
    root = tempfile.mkdtemp(prefix="ss-web-")
    outside = tempfile.mkdtemp(prefix="ss-outside-")
    with open(os.path.join(outside, "secret.txt"), "w") as f:
        f.write("outside-secret")
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("<!doctype html><title>t</title>")
    with open(os.path.join(root, ".hidden.js"), "w") as f:
        f.write("hidden")
    with open(os.path.join(root, "we ird.js"), "w") as f:
        f.write("odd")
    os.symlink(os.path.join(outside, "secret.txt"), os.path.join(root, "link.txt"))
    os.symlink(outside, os.path.join(root, "linkdir"))
    os.mkfifo(os.path.join(root, "fifo.js"))
    d = Daemon(extra_args=["--web-root", root], log_level="info").start()
    try:
        check(d.request("GET", "/admin/").status == 200, "index not served")
        for path in ("/admin/link.txt", "/admin/linkdir/secret.txt", "/admin/.hidden.js",
                     "/admin/we%20ird.js", "/admin/fifo.js"):
            r = d.request("GET", path)
            check(r.status in (400, 404), "%s: %r", path, r)
            check(b"outside-secret" not in r.body and b"hidden" != r.body, "%s leaked", path)
        d.wait_line(r"not served: link\.txt is a symbolic link")
        d.wait_line(r"not served: linkdir is a symbolic link")
        d.wait_line(r"not served: fifo\.js is not a regular file")
        d.wait_line(r"not served: we ird\.js")
        d.stop()
        d.check_sanitizers()
    finally:
        d.kill()


def test_no_root():
    d = Daemon(extra_args=["--web-root", "/nonexistent/web"], log_level="info").start()
    try:
        d.wait_line(r"no admin UI: /nonexistent/web: No such file or directory")
        r = d.request("GET", "/admin/")
        check(r.status == 404 and b"not installed" in r.body, "no root: %r", r)
        check(d.request("GET", "/healthz").status == 200, "the API must serve on")
        d.stop()
        d.check_sanitizers()
    finally:
        d.kill()


if __name__ == "__main__":
    import sys
    failed = 0
    for t in (test_source_tree, test_hostile_root, test_no_root):
        try:
            t()
            print(f"ok   {t.__name__}")
        except TestFailure as e:
            failed += 1
            print(f"FAIL {t.__name__}: {e}")
    print("PASS" if not failed else "FAIL")
    sys.exit(1 if failed else 0)
