#!/usr/bin/env python3
"""Issue 11: catalog repositories and their sync. The shipped catalog is
registered and synced at start-up; a repository served by a loopback HTTP
server run by this test syncs with ETag (304, nothing changed), keeps every
version, reports and skips bad entries, and one that answers garbage, times
out or answers 100 MB is refused with its reason while the daemon carries on
and the rows it had stay. Two daemons syncing at once fetch once."""
import http.server
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"
SHIPPED = os.path.join(h.BUILD, "catalog", "catalog.json")
SHA = "ab" * 32


def entry(name, version, **kw):
    e = {"name": name, "version": version, "displayName": name.title(),
         "description": f"{name} {version}", "author": "test", "category": "Testing",
         "type": "extension", "tags": ["t"], "downloadUrl": f"{name}/{version}/plugin.tar.gz",
         "sha256": SHA, "abi": 1, "arch": "x86_64"}
    e.update(kw)
    return e


class Repo:
    """A loopback HTTP server answering /catalog.json as the test says (body,
    ETag, a delay, a size), counting each request and the If-None-Match seen."""

    def __init__(self):
        self.body = json.dumps({"plugins": []}).encode()
        self.etag = None
        self.delay = 0
        self.huge = 0
        self.requests = []
        repo = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                repo.requests.append((self.path, self.headers.get("If-None-Match")))
                if repo.delay:
                    time.sleep(repo.delay)
                if self.path != "/catalog.json":
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if repo.etag and self.headers.get("If-None-Match") == repo.etag:
                    self.send_response(304)
                    self.send_header("ETag", repo.etag)
                    self.end_headers()
                    return
                self.send_response(200)
                if repo.etag:
                    self.send_header("ETag", repo.etag)
                if repo.huge:
                    # No Content-Length: the limit must hold as the bytes arrive.
                    self.send_header("Connection", "close")
                    self.end_headers()
                    chunk = b" " * 65536
                    try:
                        for _ in range(repo.huge // len(chunk)):
                            self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                self.send_header("Content-Length", str(len(repo.body)))
                self.end_headers()
                try:
                    self.wfile.write(repo.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the daemon gave up (the timeout test)

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def set(self, entries, etag=None):
        self.body = json.dumps({"plugins": entries}).encode()
        self.etag = etag

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def repos(d):
    r = d.get(f"{M}/repositories")
    assert r.status == 200, r
    return {x["name"]: x for x in r.json["repositories"]}


def sync(d, rid=None):
    r = d.post(f"{M}/sync" + (f"?id={rid}" if rid else ""))
    assert r.status == 200, r
    return {x["name"]: x for x in r.json["repositories"]}


def started(d):
    """Waits for d's start-up sync to end (else it could be the one to sync a repository
    the test adds next, and the test's sync would find it busy)."""
    h.wait_for(lambda: "scheduled sync done" in d.log(), what="the start-up sync")


def rows(ctx, d, repo_name):
    return ctx.pg.psql(d.db, "SELECT c.name, c.version, c.sha256, c.download_url FROM"
                       " catalog_plugins c JOIN catalog_repositories r ON r.id = c.repository_id"
                       f" WHERE r.name = '{repo_name}' ORDER BY 1, 2")


def test_shipped_catalog(ctx):
    """Registered by default and synced at start-up: the marketplace works offline."""
    d = ctx.fresh()
    with open(SHIPPED) as f:
        shipped = json.load(f)["plugins"]
    h.wait_for(lambda: repos(d).get("streamspace", {}).get("status") == "ok",
               what="the shipped catalog to sync")
    s = repos(d)["streamspace"]
    assert s["url"] == "file://" + os.path.realpath(os.path.dirname(SHIPPED)), s
    assert s["pluginCount"] == len({e["name"] for e in shipped}), s
    assert s["lastError"] is None and s["lastSyncedAt"], s
    got = rows(ctx, d, "streamspace")
    for e in shipped:
        assert f"{e['name']}|{e['version']}|{e['sha256']}|file://" in got, (e["name"], got)
    cat = {p["name"]: p for p in d.get(f"{M}/catalog").json["plugins"]}
    for e in shipped:
        assert e["name"] in cat, (e["name"], sorted(cat))
    # A second sync of a file:// repository changes nothing.
    again = sync(d)["streamspace"]
    assert (again["status"], again["added"], again["updated"], again["removed"]) == \
        ("synced", [], [], []), again


def test_remote_etag_versions_problems(ctx):
    srv = Repo()
    try:
        d = ctx.fresh(extra_args=["--catalog-sync-interval", "0"])
        started(d)
        srv.set([entry("alpha", "1.0.0")], etag='"e1"')
        r = d.post(f"{M}/repositories", {"name": "test", "url": srv.url})
        assert r.status == 201, r
        rid = r.json["id"]
        assert r.json["status"] == "never" and r.json["type"] == "remote", r.json
        assert d.post(f"{M}/repositories", {"name": "test", "url": srv.url}).status == 409

        res = sync(d, rid)["test"]
        assert (res["status"], res["added"], res["updated"], res["removed"]) == \
            ("synced", ["alpha@1.0.0"], [], []), res
        assert srv.requests[-1] == ("/catalog.json", None), srv.requests
        got = rows(ctx, d, "test")
        assert got == f"alpha|1.0.0|{SHA}|{srv.url}/alpha/1.0.0/plugin.tar.gz", got
        assert repos(d)["test"]["etag"] == '"e1"'

        # Same ETag: If-None-Match is sent, the server says 304, nothing changes.
        res = sync(d, rid)["test"]
        assert srv.requests[-1] == ("/catalog.json", '"e1"'), srv.requests
        assert (res["status"], res["added"], res["updated"], res["removed"]) == \
            ("unchanged", [], [], []), res
        assert rows(ctx, d, "test") == got

        # A newer version: both kept; a bad entry reported and skipped.
        srv.set([entry("alpha", "1.0.0"), entry("alpha", "2.0.0"),
                 entry("beta", "not-a-version"), {"name": "gamma"}], etag='"e2"')
        res = sync(d, rid)["test"]
        assert (res["status"], res["added"], res["removed"]) == \
            ("synced", ["alpha@2.0.0"], []), res
        assert len(res["problems"]) == 2, res
        assert {p["index"] for p in res["problems"]} == {2, 3}, res
        assert "2 entries skipped" in repos(d)["test"]["lastError"], repos(d)["test"]
        assert rows(ctx, d, "test").count("alpha|") == 2
        r = d.get(f"{M}/catalog")
        alpha = [p for p in r.json["plugins"] if p["name"] == "alpha"][0]
        # The newest by semver (not by sync order), every version once, oldest first.
        assert alpha["version"] == "2.0.0" and alpha["versions"] == ["1.0.0", "2.0.0"], alpha
        # The guide's fields first, in its order.
        assert list(alpha)[:11] == ["name", "version", "displayName", "description", "author",
                                    "category", "type", "tags", "iconUrl", "downloadUrl",
                                    "manifest"], list(alpha)
        assert alpha["downloadUrl"] == f"{srv.url}/alpha/2.0.0/plugin.tar.gz", alpha

        # 1.5.0 arriving after 2.0.0 is not the newest: semver decides, not the sync order.
        srv.set([entry("alpha", "1.0.0"), entry("alpha", "2.0.0"), entry("alpha", "1.5.0")],
                etag='"e2b"')
        assert sync(d, rid)["test"]["added"] == ["alpha@1.5.0"]
        alpha = [p for p in d.get(f"{M}/catalog").json["plugins"] if p["name"] == "alpha"][0]
        assert alpha["version"] == "2.0.0", alpha
        assert alpha["versions"] == ["1.0.0", "1.5.0", "2.0.0"], alpha

        # A changed entry is updated, a vanished one removed.
        srv.set([entry("alpha", "2.0.0", description="new words")], etag='"e3"')
        res = sync(d, rid)["test"]
        assert (res["added"], res["updated"], res["removed"]) == \
            ([], ["alpha@2.0.0"], ["alpha@1.0.0", "alpha@1.5.0"]), res

        # Garbage: refused whole, the rows stay, the status says why.
        before = rows(ctx, d, "test")
        srv.body, srv.etag = b"<html>not json", None
        res = sync(d, rid)["test"]
        assert res["status"] == "error" and "catalog.json refused" in res["error"], res
        st = repos(d)["test"]
        assert st["status"] == "error" and "catalog.json refused" in st["lastError"], st
        assert rows(ctx, d, "test") == before

        # 100 MB without Content-Length: cut at the limit, refused, the daemon fine.
        srv.huge = 100 * 1024 * 1024
        t0 = time.monotonic()
        res = sync(d, rid)["test"]
        assert res["status"] == "error" and "too-large" in res["error"], res
        assert time.monotonic() - t0 < 20
        assert rows(ctx, d, "test") == before
        srv.huge = 0
        with open(f"/proc/{d.proc.pid}/status") as f:
            rss_kb = int([ln for ln in f if ln.startswith("VmHWM:")][0].split()[1])
        assert rss_kb < 400 * 1024, rss_kb  # the 100 MB never sat in memory
        h.log(f"100 MB catalog.json refused in {time.monotonic() - t0:.2f} s,"
              f" daemon peak RSS {rss_kb // 1024} MiB (ASan build)")

        # Deleting the repository takes its rows with it.
        assert d.request("DELETE", f"{M}/repositories/{rid}").status == 200
        assert d.request("DELETE", f"{M}/repositories/{rid}").status == 404
        assert rows(ctx, d, "test") == ""
        assert "test" not in repos(d)
        assert d.get("/healthz").status == 200
    finally:
        srv.close()


def test_timeout_and_bad_input(ctx):
    srv = Repo()
    try:
        d = ctx.fresh(extra_args=["--catalog-sync-interval", "0", "--catalog-timeout-ms", "1000"])
        started(d)
        for body in ({"name": "x", "url": "ftp://example.com"}, {"name": "x", "url": "file:rel"},
                     {"name": "", "url": srv.url}, {"name": "x", "url": "http://a b"},
                     {"name": "x"}, {"name": "x", "url": srv.url, "extra": 1},
                     {"name": "x", "url": srv.url, "enabled": "yes"}):
            r = d.post(f"{M}/repositories", body)
            assert r.status == 400, (body, r)
        assert d.request("DELETE", f"{M}/repositories/abc").status == 400
        assert d.post(f"{M}/sync?id=0").status == 400

        r = d.post(f"{M}/repositories", {"name": "slow", "url": srv.url})
        srv.delay = 3
        t0 = time.monotonic()
        res = sync(d, r.json["id"])["slow"]
        assert res["status"] == "error" and "timeout" in res["error"], res
        assert time.monotonic() - t0 < 3, "the timeout did not cut the transfer"
        assert repos(d)["slow"]["status"] == "error"
    finally:
        srv.close()


def test_two_daemons_sync_once(ctx):
    """Both asked at once: one claims the repository and fetches; the other leaves it out."""
    srv = Repo()
    try:
        a = ctx.fresh(extra_args=["--catalog-sync-interval", "0"])
        b = h.Daemon(a.ci, h.tempdir("ss-repos-b-"), extra_args=["--catalog-sync-interval", "0"])
        b.token, b.db, b.ci = a.token, a.db, a.ci
        ctx.daemons.append(b)
        started(a)
        started(b)
        srv.set([entry("alpha", "1.0.0")])
        srv.delay = 1  # so that both requests overlap
        rid = a.post(f"{M}/repositories", {"name": "shared", "url": srv.url}).json["id"]
        out = {}
        ts = [threading.Thread(target=lambda d=d, k=k: out.__setitem__(k, sync(d, rid)))
              for k, d in (("a", a), ("b", b))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        status = sorted(out[k]["shared"]["status"] for k in out)
        assert status == ["busy", "synced"], out
        assert len([r for r in srv.requests if r[0] == "/catalog.json"]) == 1, srv.requests
        assert rows(ctx, a, "shared").startswith("alpha|1.0.0|")
        # The other daemon sees the result in the database.
        assert "alpha" in [p["name"] for p in b.get(f"{M}/catalog").json["plugins"]]
    finally:
        srv.close()


if __name__ == "__main__":
    sys.exit(h.run_with_ctx("repos", "ss-repos-", [
        test_shipped_catalog, test_remote_etag_versions_problems, test_timeout_and_bad_input,
        test_two_daemons_sync_once]))
