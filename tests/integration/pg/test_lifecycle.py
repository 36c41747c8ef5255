#!/usr/bin/env python3
"""Issue 3, end to end on a real PostgreSQL: migrations, install -> running,
disable -> stopped, enable -> running, live config, uninstall -> gone (files
and rows), start-up loads what is enabled, plain SQL changes are applied,
catalog filters and sorting, ratings."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"


def tables(pg, db):
    return set(pg.psql(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
               .split())


# Every migration the source tree has (migrations/NNNN_*.sql, numbered 1, 2, ...).
N_MIG = len([f for f in os.listdir(os.path.join(h.SOURCE, "migrations"))
             if f[:4].isdigit() and f.endswith(".sql")])


def test_migrations_empty_then_up_to_date(ctx):
    ci = ctx.pg.createdb("mig")
    work = h.tempdir("ss-mig-")
    d = h.Daemon(ci, work)
    ctx.daemons.append(d)
    assert f"{N_MIG} migrations applied now" in d.log(), d.log()
    assert ctx.pg.psql("mig", "SELECT string_agg(version::text, ',' ORDER BY version) "
                       "FROM schema_migrations") == ",".join(map(str, range(1, N_MIG + 1)))
    want = {"schema_migrations", "catalog_repositories", "catalog_plugins",
            "installed_plugins", "plugin_storage", "api_tokens", "plugin_ratings",
            "plugin_storage_usage"}
    assert want <= tables(ctx.pg, "mig"), tables(ctx.pg, "mig")
    # catalog_plugins keeps every version: unique on (repository, name, version).
    idx = ctx.pg.psql("mig", "SELECT indexdef FROM pg_indexes WHERE tablename = "
                      "'catalog_plugins' AND indexdef LIKE '%UNIQUE%'")
    assert "(repository_id, name, version)" in idx, idx
    assert d.stop() == 0
    ctx.daemons.remove(d)
    # Up to date: nothing applied again, the daemon starts.
    d2 = h.Daemon(ci, work)
    ctx.daemons.append(d2)
    assert "0 migrations applied now" in d2.log(), d2.log()
    assert ctx.pg.psql("mig", "SELECT count(*) FROM schema_migrations") == str(N_MIG)


def test_migrations_concurrent_start(ctx):
    ci = ctx.pg.createdb("migc")
    ds = [h.Daemon(ci, h.tempdir("ss-migc-"), wait=False) for _ in range(3)]
    ctx.daemons.extend(ds)
    for d in ds:
        d.wait_ready()
    assert ctx.pg.psql("migc", "SELECT count(*) FROM schema_migrations") == str(N_MIG)
    applied = sum(f"{N_MIG} migrations applied now" in d.log() for d in ds)
    assert applied == 1, [d.log() for d in ds]


def test_schema_newer_refused(ctx):
    ci = ctx.pg.createdb("mign")
    h.make_token(ci, "x", "viewer")  # applies the schema
    ctx.pg.psql("mign", "INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')")
    d = h.Daemon(ci, h.tempdir("ss-mign-"), wait=False)
    rc = d.wait_exit()
    assert rc != 0
    log = d.log()
    assert "newer" in log and "9999" in log, log


def test_install_disable_enable_config_uninstall(ctx):
    d = ctx.fresh()
    r = d.get(f"{M}/catalog")
    assert r.status == 200, r
    names = [p["name"] for p in r.json["plugins"]]
    assert "hello" in names and r.json["count"] == len(names)
    hello = next(p for p in r.json["plugins"] if p["name"] == "hello")
    assert hello["installed"] is False and hello["enabled"] is False
    assert hello["displayName"] == "Hello" and hello["repository"] == "local"

    r = d.post(f"{M}/install/hello", {"config": {"greeting": "hi", "apiKey": "s3cret"}})
    assert r.status == 201, r
    assert r.json["plugin"]["enabled"] is True
    assert r.json["plugin"]["config"]["apiKey"] == "********"
    assert r.json["plugin"]["config"]["greeting"] == "hi"
    d.wait_state("hello", "running")
    pid1 = d.runtime("hello")["pid"]
    assert h.pid_alive(pid1)
    inst = os.path.join(d.install_dir, "hello", "1.0.0")
    assert os.path.exists(os.path.join(inst, "hello.so"))
    assert os.path.exists(os.path.join(inst, "manifest.json"))
    # The secret is stored, and only shown masked.
    cfg = json.loads(d.pg_config()) if hasattr(d, "pg_config") else json.loads(
        ctx.pg.psql(d.db, "SELECT config FROM installed_plugins WHERE name = 'hello'"))
    assert cfg == {"greeting": "hi", "apiKey": "s3cret"}, cfg
    assert "s3cret" not in d.get(f"{M}/installed").raw
    r = d.get(f"{M}/catalog")
    hello = next(p for p in r.json["plugins"] if p["name"] == "hello")
    assert hello["installed"] is True and hello["enabled"] is True
    assert hello["installCount"] == 1

    r = d.post(f"{M}/disable/hello")
    assert r.status == 200 and r.json["plugin"]["enabled"] is False, r
    h.wait_for(lambda: not h.pid_alive(pid1), what="the host to exit")
    d.wait_no_runtime("hello")
    assert ctx.pg.psql(d.db, "SELECT enabled FROM installed_plugins WHERE name='hello'") == "f"

    r = d.post(f"{M}/enable/hello")
    assert r.status == 200 and r.json["plugin"]["enabled"] is True, r
    d.wait_state("hello", "running")
    pid2 = d.runtime("hello")["pid"]
    assert pid2 != pid1 and h.pid_alive(pid2)

    # Live configuration: no restart of the host; masked secrets sent back are kept.
    r = d.request("PUT", f"{M}/config/hello",
                  body={"config": {"greeting": "hey", "apiKey": "********"}})
    assert r.status == 200, r
    assert r.json["plugin"]["config"] == {"greeting": "hey", "apiKey": "********"}
    cfg = json.loads(ctx.pg.psql(d.db, "SELECT config FROM installed_plugins "
                                 "WHERE name = 'hello'"))
    assert cfg == {"greeting": "hey", "apiKey": "s3cret"}, cfg
    h.wait_for(lambda: "new configuration" in d.log() and "hey" in d.log(),
               what="the plugin to receive its new configuration")
    assert d.runtime("hello")["pid"] == pid2
    assert d.get(f"{M}/installed/hello").json["config"]["greeting"] == "hey"

    # Uninstall with purge: host gone, rows gone (storage too), files gone.
    # (Without purge the storage stays: pg/test_storage.py.)
    ctx.pg.psql(d.db, "INSERT INTO plugin_storage (plugin_name, key, value) "
                "VALUES ('hello', 'k', '1')")
    r = d.request("DELETE", f"{M}/uninstall/hello?purge=true")
    assert r.status == 200, r
    h.wait_for(lambda: not h.pid_alive(pid2), what="the host to exit")
    assert d.get(f"{M}/installed/hello").status == 404
    assert ctx.pg.psql(d.db, "SELECT count(*) FROM installed_plugins") == "0"
    assert ctx.pg.psql(d.db, "SELECT count(*) FROM plugin_storage") == "0"
    assert not os.path.exists(inst)
    r = d.get(f"{M}/catalog")
    hello = next(p for p in r.json["plugins"] if p["name"] == "hello")
    assert hello["installed"] is False
    # Other plugins' files in the plugin directory are untouched.
    assert os.path.exists(os.path.join(d.plugin_dir, "hello", "hello.so"))


def test_events_reach_installed_plugin(ctx):
    d = ctx.fresh()
    svc = h.make_token(d.ci, "svc", "service", d)
    assert d.post(f"{M}/install/hello").status == 201
    d.wait_state("hello", "running")
    r = d.post("/api/events", {"type": "session.created", "data": {"id": "s1"}}, token=svc)
    assert r.status == 202, r
    h.wait_for(lambda: d.runtime("hello")["delivered"] >= 1, what="delivery")


def test_startup_loads_enabled(ctx):
    d = ctx.fresh()
    assert d.post(f"{M}/install/hello").status == 201
    assert d.post(f"{M}/install/echo").status == 201
    assert d.post(f"{M}/disable/echo").status == 200
    d.wait_state("hello", "running")
    d.stop()
    ctx.daemons.remove(d)
    d2 = h.Daemon(d.ci, d.workdir)
    d2.token = d.token
    ctx.daemons.append(d2)
    d2.wait_state("hello", "running")
    r = d2.get(f"{M}/installed/echo")
    assert r.status == 200 and r.json["enabled"] is False and r.json["runtime"] is None, r


def test_plain_sql_changes_applied(ctx):
    d = ctx.fresh()
    assert d.post(f"{M}/install/hello").status == 201
    d.wait_state("hello", "running")
    pid = d.runtime("hello")["pid"]
    ctx.pg.psql(d.db, "UPDATE installed_plugins SET enabled = false WHERE name = 'hello'")
    h.wait_for(lambda: not h.pid_alive(pid), what="SQL disable to stop the host")
    d.wait_no_runtime("hello")
    ctx.pg.psql(d.db, "UPDATE installed_plugins SET enabled = true WHERE name = 'hello'")
    d.wait_state("hello", "running")
    ctx.pg.psql(d.db, "UPDATE installed_plugins SET config = '{\"greeting\": \"sql\"}' "
                "WHERE name = 'hello'")
    h.wait_for(lambda: '"greeting":"sql"' in d.log(), what="SQL config to reach the plugin")
    # A plugin inserted with plain SQL is started; deleted with plain SQL, removed.
    ctx.pg.psql(d.db, "INSERT INTO installed_plugins (name, version, enabled, config) "
                "VALUES ('echo', '1.0.0', true, '{}')")
    d.wait_state("echo", "running")
    pid = d.runtime("echo")["pid"]
    ctx.pg.psql(d.db, "DELETE FROM installed_plugins WHERE name = 'echo'")
    h.wait_for(lambda: not h.pid_alive(pid), what="SQL delete to stop the host")
    h.wait_for(lambda: not os.path.exists(os.path.join(d.install_dir, "echo")),
               what="the files to go")
    ctx.pg.psql(d.db, "TRUNCATE installed_plugins")
    d.wait_no_runtime("hello")


def test_unmanaged_plugins_listed(ctx):
    # A plugin run with --plugin (development) is shown, marked as not managed.
    d = ctx.fresh(extra_args=("--plugin", os.path.join(h.PLUGINS, "echo", "echo.so")))
    d.wait_state("echo", "running")
    r = d.get(f"{M}/installed")
    assert r.status == 200 and r.json["count"] == 1, r
    assert r.json["plugins"][0]["managed"] is False
    assert d.post(f"{M}/install/hello").status == 201
    r = d.get(f"{M}/installed")
    assert sorted(p["name"] for p in r.json["plugins"]) == ["echo", "hello"], r


def test_pg_environment_variables(ctx):
    # --database "" (or a partial conninfo) takes the rest from the PG* variables;
    # the token CLI reads STREAMSPACE_DATABASE.
    ctx.pg.createdb("pgenv")
    env = {"PGHOST": ctx.pg.sock, "PGDATABASE": "pgenv", "PGUSER": "postgres"}
    r = h.subprocess.run([h.DAEMON, "token", "create", "--name", "envtok", "--role", "viewer"],
                         capture_output=True, text=True,
                         env={**os.environ, "STREAMSPACE_DATABASE": ctx.pg.conninfo("pgenv")})
    assert r.returncode == 0 and r.stdout.startswith("sst_"), r
    d = h.Daemon("", h.tempdir("ss-env-"), env=env)
    ctx.daemons.append(d)
    d.token = r.stdout.strip()
    assert d.get(f"{M}/catalog").status == 200
    assert ctx.pg.psql("pgenv", "SELECT count(*) FROM pg_stat_activity WHERE "
                       "application_name = 'streamspaced'") != "0"


def test_install_dir_housekeeping(ctx):
    ci = ctx.pg.createdb("house")
    tok = h.make_token(ci, "admin", "admin")
    work = h.tempdir("ss-house-")
    inst = os.path.join(work, "installed")
    # Left behind while no daemon ran: a stale copy and an unrelated directory.
    os.makedirs(os.path.join(inst, "echo"))
    with open(os.path.join(inst, "echo", "manifest.json"), "w") as f:
        f.write('{"name": "echo", "version": "1.0.0"}')
    os.makedirs(os.path.join(inst, "backups"))
    d = h.Daemon(ci, work)
    d.token = tok
    ctx.daemons.append(d)
    assert not os.path.exists(os.path.join(inst, "echo"))
    assert os.path.isdir(os.path.join(inst, "backups"))
    # Build-tree object directories are not copied on install.
    assert d.post(f"{M}/install/hello").status == 201
    assert not [n for n in os.listdir(os.path.join(inst, "hello", "1.0.0")) if n.endswith(".p")]
    # The install directory may never be the plugin directory.
    bad = h.Daemon(ci, work, env={"STREAMSPACE_INSTALL_DIR": d.plugin_dir}, wait=False)
    rc = bad.wait_exit()
    assert rc != 0 and "must not be the plugin directory" in bad.log(), bad.log()
    assert os.path.exists(os.path.join(d.plugin_dir, "echo", "echo.so"))


def test_failing_plugin_isolated_and_reenabled(ctx):
    d = ctx.fresh()
    assert d.post(f"{M}/install/hello").status == 201
    d.wait_state("hello", "running")
    pid = d.runtime("hello")["pid"]
    # A plugin whose on_load fails, dropped into the plugin directory.
    src = os.path.join(h.BUILD, "tests", "hostile", "fail-load.so")
    dst = os.path.join(d.plugin_dir, "fail-load")
    os.makedirs(dst)
    h.shutil.copy(src, dst)
    with open(os.path.join(dst, "manifest.json"), "w") as f:
        json.dump({"name": "fail-load", "version": "0.0.1"}, f)
    # Installing it fails, says why, and leaves nothing (test_hardening.py has the rest).
    r = d.post(f"{M}/install/fail-load")
    assert r.status == 422 and r.json["error"]["code"] == "start_failed", r
    d.wait_no_runtime("fail-load")
    # Put there with plain SQL, it is started and given up on like any crashing plugin.
    ctx.pg.psql(d.db, "INSERT INTO installed_plugins (name, version, enabled, config) "
                "VALUES ('fail-load', '0.0.1', true, '{}')")
    d.wait_state("fail-load", "failed", 60)
    # A load that fails fails the same way every time: failed at once, no retries.
    rt = d.runtime("fail-load")
    crashes = rt["crashes"]
    assert crashes == 1 and rt["restarts"] == 0, rt
    assert rt["last_exit"]["reason"] == "load", rt
    # Nothing happened to the other plugin.
    assert d.runtime("hello")["pid"] == pid and d.state("hello") == "running"
    # Enabling again gives it a fresh start (and a fresh crash history).
    assert d.post(f"{M}/enable/fail-load").status == 200
    h.wait_for(lambda: d.runtime("fail-load")["crashes"] > crashes, 20, "a new attempt")
    assert d.request("DELETE", f"{M}/uninstall/fail-load").status == 200
    d.wait_no_runtime("fail-load")
    assert d.runtime("hello")["pid"] == pid


def test_upgrade_in_place(ctx):
    d = ctx.fresh()
    assert d.post(f"{M}/install/hello", {"config": {"greeting": "v1"}}).status == 201
    d.wait_state("hello", "running")
    pid = d.runtime("hello")["pid"]
    ctx.pg.psql(d.db, "INSERT INTO plugin_storage (plugin_name, key, value) "
                "VALUES ('hello', 'k', '1')")
    # A new version lands in the plugin directory.
    h.set_manifest(os.path.join(d.plugin_dir, "hello", "manifest.json"), version="1.1.0")
    err = d.post(f"{M}/install/hello")
    assert err.status == 409 and err.json["error"]["code"] == "already_installed", err
    r = d.post(f"{M}/install/hello", {"version": "1.1.0"})
    assert r.status == 200 and r.json["plugin"]["version"] == "1.1.0", r
    assert r.json["plugin"]["config"] == {"greeting": "v1"}
    h.wait_for(lambda: not h.pid_alive(pid), what="the old host to go")
    d.wait_state("hello", "running")
    assert ctx.pg.psql(d.db, "SELECT version FROM installed_plugins") == "1.1.0"
    assert ctx.pg.psql(d.db, "SELECT count(*) FROM plugin_storage") == "1"
    with open(os.path.join(d.install_dir, "hello", "1.1.0", "manifest.json")) as f:
        assert json.load(f)["version"] == "1.1.0"
    r = d.post(f"{M}/install/hello", {"version": "1.1.0"})
    assert r.status == 409, r
    assert d.post(f"{M}/install/hello", {"version": "7.7.7"}).status == 404
    # The version that ran before is kept: going back to it needs nothing from the catalog.
    assert sorted(os.listdir(os.path.join(d.install_dir, "hello"))) == ["1.0.0", "1.1.0"]
    r = d.post(f"{M}/install/hello", {"version": "1.0.0"})
    assert r.status == 200 and r.json["plugin"]["version"] == "1.0.0", r
    assert r.json["plugin"]["previousVersion"] == "1.1.0", r
    assert r.json["plugin"]["config"] == {"greeting": "v1"}, r


def test_catalog_filters_and_sort(ctx):
    d = ctx.fresh()
    def names(q):
        r = d.get(f"{M}/catalog{q}")
        assert r.status == 200, r
        assert r.json["count"] == len(r.json["plugins"])
        return [p["name"] for p in r.json["plugins"]]
    assert names("") == sorted(names(""))
    assert names("?q=latency") == ["counter"]
    assert names("?q=LOGS") == ["echo", "hello"]
    assert names("?q=%25") == []  # no wildcard meaning
    assert names("?category=monitoring") == ["counter"]
    assert names("?type=extension") == names("")
    assert names("?type=theme") == []
    assert names("?q=debugging") == ["hello"]  # tags are searched
    assert d.post(f"{M}/install/echo").status == 201
    assert names("?sort=popular")[0] == "echo"
    assert d.post(f"{M}/rate/counter", {"rating": 5}).status == 200
    assert d.post(f"{M}/rate/hello", {"rating": 2}).status == 200
    assert names("?sort=rating")[:2] == ["counter", "hello"]
    ctx.pg.psql(d.db, "UPDATE catalog_plugins SET created_at = NOW() + interval '1 day' "
                "WHERE name = 'hello'")
    assert names("?sort=newest")[0] == "hello"
    assert names("?sort=name") == sorted(names(""))
    # A plugin dropped into the directory appears without a restart.
    os.system(f"cp -r {d.plugin_dir}/echo {d.plugin_dir}/echo2")
    with open(f"{d.plugin_dir}/echo2/manifest.json") as f:
        m = json.load(f)
    m["name"] = "echo2"
    m["entrypoints"] = {"main": "echo.so"}
    with open(f"{d.plugin_dir}/echo2/manifest.json", "w") as f:
        json.dump(m, f)
    # inotify: the catalog rows follow the directory without any request.
    count = "SELECT count(*) FROM catalog_plugins WHERE name = 'echo2'"
    h.wait_for(lambda: ctx.pg.psql(d.db, count) == "1", 10, "echo2 in catalog_plugins")
    assert "echo2" in names("")
    h.shutil.rmtree(f"{d.plugin_dir}/echo2")
    h.wait_for(lambda: ctx.pg.psql(d.db, count) == "0", 10, "echo2 to leave the catalog")
    assert "echo2" not in names("")


def test_ratings(ctx):
    d = ctx.fresh()
    viewer = h.make_token(d.ci, "vera", "viewer", d)
    r = d.post(f"{M}/rate/hello", {"rating": 5, "review": "great"})
    assert r.status == 200 and r.json["rating"]["user"] == "admin", r
    assert d.post(f"{M}/rate/hello", {"rating": 3}, token=viewer).status == 200
    r = d.get(f"{M}/ratings/hello")
    assert r.status == 200 and r.json["count"] == 2 and r.json["average"] == 4.0, r
    # One rating per user: a second one replaces the first.
    assert d.post(f"{M}/rate/hello", {"rating": 1, "review": "meh"}, token=viewer).status == 200
    r = d.get(f"{M}/ratings/hello")
    assert r.json["count"] == 2 and r.json["average"] == 3.0, r
    users = sorted(x["user"] for x in r.json["ratings"])
    assert users == ["admin", "vera"]
    cat = next(p for p in d.get(f"{M}/catalog").json["plugins"] if p["name"] == "hello")
    assert cat["ratingCount"] == 2 and float(cat["avgRating"]) == 3.0, cat
    r = d.get(f"{M}/ratings/echo")
    assert r.json == {"plugin": "echo", "ratings": [], "count": 0,
                      "average": None}, r


def main():
    return h.run_with_ctx("t", "ss-reg-", [
        test_migrations_empty_then_up_to_date, test_migrations_concurrent_start,
        test_schema_newer_refused, test_install_disable_enable_config_uninstall,
        test_events_reach_installed_plugin, test_startup_loads_enabled,
        test_plain_sql_changes_applied, test_unmanaged_plugins_listed,
        test_pg_environment_variables, test_install_dir_housekeeping,
        test_failing_plugin_isolated_and_reenabled, test_upgrade_in_place,
        test_catalog_filters_and_sort, test_ratings])


if __name__ == "__main__":
    sys.exit(main())
