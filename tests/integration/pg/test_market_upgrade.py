#!/usr/bin/env python3
"""Issue 11 item 4: upgrade, downgrade and rollback of plugins installed from a
catalog repository served over loopback HTTP by the test. Packages are the
build's echo plugin, packaged by scripts/package-plugin at several versions.

- an upgrade while events flow: every event handled exactly once across the
  switch, the configuration and storage carried over, both versions kept;
- a rollback switches back to the kept version with the repository's server
  stopped (no download), and a second rollback forward again;
- an upgrade whose new configSchema refuses the current configuration (422
  invalid_config with the path), and one whose .so cannot be loaded (422
  start_failed): the old host serves on, untouched, and the directories and
  tables are as before (the row's updated_at aside);
- --keep-versions bounds the versions kept; a rollback to a pruned one is 404;
- a second daemon on the database downloads what the first installed or upgraded to;
- a copy in the layout before per-version directories is moved into its
  version and keeps running."""
import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402
import test_catalog_install as ci  # noqa: E402
import test_upgrade as tu  # noqa: E402

M = "/api/plugins/marketplace"
PACKAGE = os.path.join(h.SOURCE, "scripts", "package-plugin")
FAIL_LOAD = os.path.join(h.BUILD, "tests", "hostile", "fail-load.so")


def package(work, name, version, edit=None, so=None):
    """build/plugins/<name> packaged as version (edit(manifest) may change the manifest, so
    replaces the shared object): (entry, archive bytes)."""
    src = os.path.join(work, f"src-{name}-{version}")
    shutil.copytree(os.path.join(h.PLUGINS, name), src, ignore=shutil.ignore_patterns("*.p"))
    mf = os.path.join(src, "manifest.json")
    with open(mf) as f:
        m = json.load(f)
    m["version"] = version
    if edit:
        edit(m)
    with open(mf, "w") as f:
        json.dump(m, f)
    if so:
        shutil.copy(so, os.path.join(src, f"{name}.so"))
    out = os.path.join(work, f"pkg-{name}-{version}")
    r = subprocess.run([sys.executable, PACKAGE, src, "--out", out], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    d = os.path.join(out, name, version)
    with open(os.path.join(d, "entry.json")) as f, open(os.path.join(d, "plugin.tar.gz"),
                                                         "rb") as g:
        return json.load(f), g.read()


class Repo:
    """A catalog repository on a loopback HTTP server: catalog.json and the archives."""

    def __init__(self, work, packages):
        self.dir = os.path.join(work, "repo")
        os.makedirs(self.dir)
        self.served = []
        entries = []
        for e, data in packages:
            rel = f"{e['name']}/{e['version']}/plugin.tar.gz"
            os.makedirs(os.path.join(self.dir, os.path.dirname(rel)))
            with open(os.path.join(self.dir, rel), "wb") as f:
                f.write(data)
            entries.append(dict(e, downloadUrl=rel, sha256=hashlib.sha256(data).hexdigest()))
        with open(os.path.join(self.dir, "catalog.json"), "w") as f:
            json.dump({"plugins": entries}, f)
        served = self.served

        class H(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                served.append(self.path)
                super().do_GET()

        self.srv = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(H, directory=self.dir))
        self.srv.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()

    def register(self, d):
        r = d.post(f"{M}/repositories", {"name": "up", "url": self.url})
        assert r.status == 201, r
        rid = r.json["id"]

        # Adding it starts a sync: a sync asked for meanwhile is "busy"; the next is done.
        def synced():
            res = d.post(f"{M}/sync?id={rid}").json["repositories"][0]
            return res["status"] in ("synced", "unchanged") and res
        res = h.wait_for(synced, 20, "the repository to sync")
        assert not res["problems"], res
        rows = [x for x in d.get(f"{M}/repositories").json["repositories"] if x["id"] == rid]
        assert rows[0]["status"] == "ok" and rows[0]["pluginCount"] > 0, rows


def daemon_without(ctx, work, name, extra=()):
    """A daemon whose plugin directory lacks name (it comes from the repository only)."""
    pd = h.copy_plugins(work)
    shutil.rmtree(os.path.join(pd, name))
    return ctx.fresh(work=work, extra_args=["--catalog-sync-interval", "0", "--catalog-dir", "",
                                            *extra])


def state(ctx, d):
    """ci.snapshot, the installed row compared without its updated_at (a change taken back
    touches it)."""
    out = ci.snapshot(ctx, d)
    row = "(to_jsonb(x) - 'updated_at')::text"
    out["installed_plugins"] = ctx.pg.psql(
        d.db, f"SELECT md5(COALESCE(string_agg({row}, '|' ORDER BY {row}), ''))"
        " FROM installed_plugins x")
    return out


def diff(a, b):
    return {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}


def versions(d, name):
    p = os.path.join(d.install_dir, name)
    return sorted(os.listdir(p)) if os.path.exists(p) else []


def row(ctx, d, name):
    return ctx.pg.psql(d.db, "SELECT version, COALESCE(previous_version, '-'), config::text"
                       f" FROM installed_plugins WHERE name = '{name}'")


def echo_once(d, n):
    """n events posted now reach echo, each handled exactly once."""
    ids = [d.post("/api/events", {"type": "user.login", "data": {}}).json["id"]
           for _ in range(n)]
    h.wait_for(lambda: all(tu.echoed(d).get(i) == 1 for i in ids), 20, "events to echo")


def test_upgrade_and_rollback(ctx):
    work = h.tempdir("ss-mup-")
    repo = Repo(work, [package(work, "echo", "1.0.0"), package(work, "echo", "1.1.0")])
    try:
        d = daemon_without(ctx, work, "echo")
        repo.register(d)
        r = d.post(f"{M}/install/echo", {"version": "1.0.0", "config": {"note": "kept"}})
        assert r.status == 201, r
        assert r.json["plugin"]["previousVersion"] is None, r
        d.wait_state("echo", "running")
        ctx.pg.psql(d.db, "INSERT INTO plugin_storage (plugin_name, key, value)"
                    " VALUES ('echo', 'k', '\"v\"')")

        timing = {}

        def upgrade():
            t0 = time.monotonic()
            r = d.post(f"{M}/install/echo", {"version": "1.1.0"})
            timing["upgrade"] = time.monotonic() - t0
            assert r.status == 200, r
            p = r.json["plugin"]
            assert p["version"] == "1.1.0" and p["previousVersion"] == "1.0.0", p
            assert p["config"] == {"note": "kept"}, p
            assert p["keptVersions"] == ["1.1.0", "1.0.0"], p
            assert "from version 1.0.0 to 1.1.0" in r.json["message"], r

        # 600 events posted across the switch: each handled once, by the old host or the new.
        tu.through_switch(ctx, d, upgrade)
        assert "/echo/1.1.0/plugin.tar.gz" in repo.served, repo.served
        assert row(ctx, d, "echo") == '1.1.0|1.0.0|{"note": "kept"}'
        assert ctx.pg.psql(d.db, "SELECT value::text FROM plugin_storage"
                           " WHERE plugin_name = 'echo'") == '"v"'
        assert versions(d, "echo") == ["1.0.0", "1.1.0"]
        # Rollback needs no download: the repository's server is gone.
        repo.stop()
        pid = d.runtime("echo")["pid"]
        t0 = time.monotonic()
        r = d.post(f"{M}/rollback/echo")
        timing["rollback"] = time.monotonic() - t0
        assert r.status == 200, r
        # A figure, not a check (the machine is shared): the answer comes once the new host
        # is ready; the upgrade's includes the download and the package's checks.
        h.log(f"upgrade 1.0.0 -> 1.1.0 while events flow: {timing['upgrade'] * 1000:.0f} ms;"
              f" rollback from disk: {timing['rollback'] * 1000:.0f} ms (ASan build)")
        p = r.json["plugin"]
        assert p["version"] == "1.0.0" and p["previousVersion"] == "1.1.0", p
        assert p["config"] == {"note": "kept"} and "rolled back" in r.json["message"], r
        h.wait_for(lambda: not h.pid_alive(pid), what="the 1.1.0 host to go")
        d.wait_state("echo", "running")
        assert row(ctx, d, "echo") == '1.0.0|1.1.0|{"note": "kept"}'
        echo_once(d, 20)
        # A second rollback goes forward again, also from disk.
        r = d.post(f"{M}/rollback/echo", {})
        assert r.status == 200 and r.json["plugin"]["version"] == "1.1.0", r
        assert row(ctx, d, "echo") == '1.1.0|1.0.0|{"note": "kept"}'
        d.wait_state("echo", "running")
        echo_once(d, 20)
        # Nothing to switch to: clear answers, nothing changes.
        r = d.post(f"{M}/rollback/echo", {"version": "1.1.0"})
        assert r.status == 409 and r.json["error"]["code"] == "already_installed", r
        r = d.post(f"{M}/rollback/echo", {"version": "0.9.0"})
        assert r.status == 404 and "not kept" in r.json["error"]["message"], r
        assert "(kept: 1.1.0, 1.0.0)" in r.json["error"]["message"], r
        r = d.post(f"{M}/rollback/echo", {"version": "x"})
        assert r.status == 400, r
        r = d.post(f"{M}/rollback/echo", {"bogus": 1})
        assert r.status == 400, r
        assert d.post(f"{M}/install/hello").status == 201
        r = d.post(f"{M}/rollback/hello")
        assert r.status == 409 and r.json["error"]["code"] == "nothing_to_roll_back", r
        r = d.post(f"{M}/rollback/counter")
        assert r.status == 409 and r.json["error"]["code"] == "not_installed", r
        r = d.post(f"{M}/rollback/no-such-plugin")
        assert r.status == 404, r
        assert row(ctx, d, "echo") == '1.1.0|1.0.0|{"note": "kept"}'
        # Uninstall takes every kept version with it; the storage stays.
        assert d.request("DELETE", f"{M}/uninstall/echo").status == 200
        d.wait_no_runtime("echo")
        assert not os.path.exists(os.path.join(d.install_dir, "echo"))
        assert ctx.pg.psql(d.db, "SELECT count(*) FROM plugin_storage") == "1"
    finally:
        repo.stop()


def test_upgrade_refused_keeps_old(ctx):
    work = h.tempdir("ss-mupr-")

    def needs_channel(m):
        m["configSchema"] = {"type": "object", "required": ["channel"],
                             "properties": {"channel": {"type": "string"}}}

    repo = Repo(work, [package(work, "echo", "1.0.0"),
                       package(work, "echo", "1.2.0", edit=needs_channel),
                       package(work, "echo", "1.3.0", so=FAIL_LOAD)])
    try:
        d = daemon_without(ctx, work, "echo")
        repo.register(d)
        assert d.post(f"{M}/install/echo", {"version": "1.0.0"}).status == 201
        d.wait_state("echo", "running")
        old = d.runtime("echo")["pid"]
        before = state(ctx, d)
        # The new schema judges the configuration carried over: refused, nothing changes.
        r = d.post(f"{M}/install/echo", {"version": "1.2.0"})
        assert r.status == 422 and r.json["error"]["code"] == "invalid_config", r
        errs = r.json["error"]["errors"]
        assert errs == [{"path": "/channel", "keyword": "required", "message": "is required"}], errs
        assert "channel" in r.json["error"]["message"], r
        assert "/echo/1.2.0/plugin.tar.gz" in repo.served
        assert state(ctx, d) == before, diff(before, state(ctx, d))
        # A version that cannot be loaded: 422 with the reason, the old host serves on.
        r = d.post(f"{M}/install/echo", {"version": "1.3.0"})
        assert r.status == 422 and r.json["error"]["code"] == "start_failed", r
        assert "could not be started" in r.json["error"]["message"], r
        assert "version 1.0.0 stays" in r.json["error"]["message"], r
        rt = d.runtime("echo")
        assert rt["pid"] == old and rt["state"] == "running", rt
        assert rt["restarts"] == 0 and rt["crashes"] == 0, rt
        d.wait_state("echo", "running")
        h.wait_for(lambda: state(ctx, d) == before, 10, "the 1.3.0 files to go")
        assert row(ctx, d, "echo") == "1.0.0|-|{}"
        echo_once(d, 20)
        assert d.runtime("echo")["pid"] == old
        # The same upgrade with a configuration that fits the new schema goes through.
        r = d.post(f"{M}/install/echo", {"version": "1.2.0", "config": {"channel": "c"}})
        assert r.status == 200 and r.json["plugin"]["config"] == {"channel": "c"}, r
        d.wait_state("echo", "running")
        assert versions(d, "echo") == ["1.0.0", "1.2.0"]
    finally:
        repo.stop()


def test_keep_versions(ctx):
    work = h.tempdir("ss-mupk-")
    repo = Repo(work, [package(work, "echo", v) for v in ("1.0.0", "1.1.0", "1.4.0")])
    try:
        d = daemon_without(ctx, work, "echo", extra=["--keep-versions", "2"])
        repo.register(d)
        assert d.post(f"{M}/install/echo", {"version": "1.0.0"}).status == 201
        for v in ("1.1.0", "1.4.0"):
            r = d.post(f"{M}/install/echo", {"version": v})
            assert r.status == 200, r
        # The running version and the previous one stay; 1.0.0 went.
        assert versions(d, "echo") == ["1.1.0", "1.4.0"]
        assert r.json["plugin"]["keptVersions"] == ["1.4.0", "1.1.0"], r
        assert "removed a version beyond --keep-versions" in d.log()
        r = d.post(f"{M}/rollback/echo", {"version": "1.0.0"})
        assert r.status == 404 and "not kept" in r.json["error"]["message"], r
        # Installing it again downloads it; 1.4.0 (neither running nor previous) goes.
        r = d.post(f"{M}/install/echo", {"version": "1.0.0"})
        assert r.status == 200 and r.json["plugin"]["previousVersion"] == "1.4.0", r
        assert versions(d, "echo") == ["1.0.0", "1.4.0"]
        assert repo.served.count("/echo/1.0.0/plugin.tar.gz") == 2, repo.served
        d.wait_state("echo", "running")
    finally:
        repo.stop()
    for bad in (["--keep-versions", "0"], ["--keep-versions", "x"]):
        b = h.Daemon(d.ci, h.tempdir("ss-mupk-"), extra_args=bad, wait=False)
        assert b.wait_exit() != 0 and "keep-versions" in b.log(), b.log()
    b = h.Daemon(d.ci, h.tempdir("ss-mupk-"), env={"STREAMSPACE_KEEP_VERSIONS": "0"},
                 wait=False)
    assert b.wait_exit() != 0 and "STREAMSPACE_KEEP_VERSIONS" in b.log(), b.log()


def test_two_daemons(ctx):
    """Two daemons on one database, each with its own install directory: a plugin installed
    from a repository through one is downloaded, checked and run by the other too, follows
    its upgrade, and its rollback from each daemon's own kept copy (the server stopped)."""
    wa, wb = h.tempdir("ss-mup2-"), h.tempdir("ss-mup2-")
    repo = Repo(wa, [package(wa, "echo", "1.0.0"), package(wa, "echo", "1.1.0")])
    try:
        a = daemon_without(ctx, wa, "echo")
        shutil.rmtree(os.path.join(h.copy_plugins(wb), "echo"))
        b = h.Daemon(a.ci, wb, extra_args=["--catalog-sync-interval", "0", "--catalog-dir", ""])
        b.token, b.ci, b.db = a.token, a.ci, a.db
        ctx.daemons.append(b)
        repo.register(a)

        def runs(d, version):
            # runtime.version is what the .so says of itself (the same build in every
            # package here): the version's directory tells them apart.
            rt = d.runtime("echo")
            return rt is not None and rt["state"] == "running" and \
                f"/echo/{version}/echo.so" in rt["path"]

        assert a.post(f"{M}/install/echo", {"version": "1.0.0"}).status == 201
        h.wait_for(lambda: runs(b, "1.0.0"), 20, "the other daemon to run 1.0.0")
        assert versions(b, "echo") == ["1.0.0"]
        assert "echo: version 1.0.0 downloaded from the repositories" in b.log()
        assert a.post(f"{M}/install/echo", {"version": "1.1.0"}).status == 200
        h.wait_for(lambda: runs(b, "1.1.0"), 20, "the other daemon to run 1.1.0")
        assert versions(b, "echo") == ["1.0.0", "1.1.0"]
        assert repo.served.count("/echo/1.1.0/plugin.tar.gz") == 2, repo.served
        repo.stop()
        assert a.post(f"{M}/rollback/echo").status == 200
        h.wait_for(lambda: runs(b, "1.0.0"), 20, "the other daemon to roll back")
        assert runs(a, "1.0.0")
        assert b.get(f"{M}/installed/echo").json["error"] is None
        assert a.request("DELETE", f"{M}/uninstall/echo").status == 200
        h.wait_for(lambda: not os.path.exists(os.path.join(b.install_dir, "echo")), 20,
                   "the other daemon to remove its copies")
    finally:
        repo.stop()


def test_flat_layout_moved(ctx):
    """A copy made before per-version directories (<install-dir>/<name>/manifest.json) is
    moved to <install-dir>/<name>/<version>/ and runs."""
    d = ctx.fresh()
    assert d.post(f"{M}/install/hello").status == 201
    d.wait_state("hello", "running")
    assert d.stop() == 0
    ctx.daemons.remove(d)
    inst = os.path.join(d.install_dir, "hello")
    for n in os.listdir(os.path.join(inst, "1.0.0")):
        os.rename(os.path.join(inst, "1.0.0", n), os.path.join(inst, n))
    os.rmdir(os.path.join(inst, "1.0.0"))
    d2 = h.Daemon(d.ci, d.workdir)
    d2.token, d2.ci, d2.db = d.token, d.ci, d.db
    ctx.daemons.append(d2)
    d2.wait_state("hello", "running")
    assert os.listdir(inst) == ["1.0.0"], os.listdir(inst)
    assert os.path.exists(os.path.join(inst, "1.0.0", "hello.so"))


if __name__ == "__main__":
    sys.exit(h.run_with_ctx("mup", "ss-mup-", [
        test_upgrade_and_rollback, test_upgrade_refused_keeps_old, test_keep_versions,
        test_two_daemons, test_flat_layout_moved]))
