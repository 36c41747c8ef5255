#!/usr/bin/env python3
"""Issue 8, the registry's part, on a real PostgreSQL: a row that does not
read back is an error for that plugin (never an uninstall, never a crash); a
FIFO named manifest.json does not hang the daemon and a broken plugin
directory entry is reported once per change, not per request; a
configuration the plugin refuses is not stored; an install whose plugin
cannot start leaves nothing behind and says why; a failed plugin's queued
events are counted dropped when it is disabled or uninstalled."""
import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"
PICKY = os.path.join(h.BUILD, "tests", "integration", "plugins", "picky.so")


def plugin_dir_with_builds(work):
    """<work>/plugins as the harness makes it, so a test can add to it before start."""
    return h.copy_plugins(work)


def add_picky(pd):
    d = os.path.join(pd, "picky")
    os.makedirs(d)
    shutil.copy(PICKY, d)
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump({"name": "picky", "version": "1.0.0", "permissions": ["read:sessions"]}, f)


def test_unreadable_row(ctx):
    d = ctx.fresh()
    assert d.post(f"{M}/install/hello", {"config": {"greeting": "hi"}}).status == 201
    d.wait_state("hello", "running")
    pid = d.runtime("hello")["pid"]
    inst = os.path.join(d.install_dir, "hello", "1.0.0")
    # Deeper than any document the daemon reads (JSON_MAX_DEPTH): only plain SQL writes this.
    deep = '{"a":' * 80 + "1" + "}" * 80
    ctx.pg.psql(d.db, f"UPDATE installed_plugins SET config = '{deep}' WHERE name = 'hello'")

    def reported():
        r = d.get(f"{M}/installed/hello")
        return r.status == 200 and r.json.get("error") and r
    r = h.wait_for(reported, 10, "the unreadable row to be reported")
    assert "does not read back" in r.json["error"], r
    assert r.json["config"] is None, r
    # Nothing was taken for an uninstall: the host runs, the files stay.
    assert d.runtime("hello")["pid"] == pid and h.pid_alive(pid)
    assert os.path.exists(os.path.join(inst, "hello.so"))
    lst = d.get(f"{M}/installed")
    assert lst.status == 200, lst
    row = [p for p in lst.json["plugins"] if p["name"] == "hello"]
    assert row and "does not read back" in row[0]["error"], lst
    # Disabling needs nothing from it and takes effect; enabling is recorded and says why
    # it cannot be applied.
    r = d.post(f"{M}/disable/hello")
    assert r.status == 200 and "does not read back" in r.json["message"], r
    h.wait_for(lambda: not h.pid_alive(pid), what="the host to stop")
    r = d.post(f"{M}/enable/hello")
    assert r.status == 200 and "does not read back" in r.json["plugin"]["error"], r
    assert d.runtime("hello") is None
    # A restart reads it again: reported, not started, not removed, no crash.
    d = ctx.restart(d)
    r = d.get(f"{M}/installed/hello")
    assert r.status == 200 and "does not read back" in r.json["error"], r
    assert r.json["runtime"] is None, r
    assert os.path.exists(os.path.join(inst, "hello.so"))
    # Repaired with SQL, it runs again.
    ctx.pg.psql(d.db, "UPDATE installed_plugins SET config = '{}' WHERE name = 'hello'")
    d.wait_state("hello", "running")
    assert d.get(f"{M}/installed/hello").json["error"] is None


def test_fifo_and_broken_entries(ctx):
    work = h.tempdir("ss-fifo-")
    pd = plugin_dir_with_builds(work)
    os.makedirs(os.path.join(pd, "evil"))
    os.mkfifo(os.path.join(pd, "evil", "manifest.json"))
    os.makedirs(os.path.join(pd, "broken"))
    with open(os.path.join(pd, "broken", "manifest.json"), "w") as f:
        f.write('{"name":')
    # Before: open() of the FIFO waited for a writer and the daemon never listened.
    d = ctx.fresh(work=work)
    for _ in range(20):
        r = d.get(f"{M}/catalog")
        assert r.status == 200, r
    names = [p["name"] for p in r.json["plugins"]]
    assert "hello" in names and "evil" not in names and "broken" not in names, names
    log = d.log()
    assert log.count("/evil: skipped") == 1, log
    assert log.count("/broken: skipped") == 1, log
    assert "not a regular file" in log, log
    # A change is reported (once); what did not change stays quiet.
    os.makedirs(os.path.join(pd, "broken2"))
    with open(os.path.join(pd, "broken2", "manifest.json"), "w") as f:
        f.write("[]")
    h.wait_for(lambda: "/broken2: skipped" in d.log(), 10, "the new broken entry")
    for _ in range(10):
        assert d.get(f"{M}/catalog").status == 200
    log = d.log()
    assert log.count("/broken2: skipped") == 1, log
    assert log.count("/evil: skipped") == 1, log
    assert log.count("/broken: skipped") == 1, log
    # Installing it names the check that refused it (the entry is known, not a plugin).
    r = d.post(f"{M}/install/evil")
    assert r.status == 422 and r.json["error"]["code"] == "package_refused", r
    assert r.json["error"]["check"] == "manifest", r
    assert "not a regular file" in r.json["error"]["message"], r
    assert d.post(f"{M}/install/no-such-plugin").status == 404


def test_config_rejected(ctx):
    work = h.tempdir("ss-picky-")
    add_picky(plugin_dir_with_builds(work))
    d = ctx.fresh(work=work)
    r = d.post(f"{M}/install/picky", {"config": {"accept": True, "n": 1}})
    assert r.status == 201, r
    d.wait_state("picky", "running")
    pid = d.runtime("picky")["pid"]
    stored = "SELECT config FROM installed_plugins WHERE name = 'picky'"
    r = d.request("PUT", f"{M}/config/picky", body={"accept": False, "n": 2})
    assert r.status == 422 and r.json["error"]["code"] == "config_rejected", r
    # The old one stays: in the database, in the API, in the running plugin.
    assert json.loads(ctx.pg.psql(d.db, stored)) == {"accept": True, "n": 1}
    assert d.get(f"{M}/installed/picky").json["config"] == {"accept": True, "n": 1}
    assert d.runtime("picky")["pid"] == pid
    # ... and after a restart of the plugin.
    assert d.post(f"{M}/disable/picky").status == 200
    d.wait_no_runtime("picky")
    assert d.post(f"{M}/enable/picky").status == 200
    d.wait_state("picky", "running")
    last = [ln for ln in d.log().splitlines() if "config now" in ln][-1]
    assert '"n":1' in last, last
    # One it accepts is stored and in force.
    r = d.request("PUT", f"{M}/config/picky", body={"accept": True, "n": 3})
    assert r.status == 200, r
    assert json.loads(ctx.pg.psql(d.db, stored)) == {"accept": True, "n": 3}
    h.wait_for(lambda: '"n":3' in [ln for ln in d.log().splitlines()
                                    if "config now" in ln][-1], 10, "the new configuration")


def test_install_failure_leaves_nothing(ctx):
    work = h.tempdir("ss-fail-")
    pd = plugin_dir_with_builds(work)
    dst = os.path.join(pd, "fail-load")
    os.makedirs(dst)
    shutil.copy(os.path.join(h.BUILD, "tests", "hostile", "fail-load.so"), dst)
    with open(os.path.join(dst, "manifest.json"), "w") as f:
        json.dump({"name": "fail-load", "version": "0.0.1"}, f)
    d = ctx.fresh(work=work)
    # The shipped catalog's start-up sync adds rows of its own: counted after it.
    h.wait_for(lambda: "scheduled sync done" in d.log(), what="the start-up sync")
    before = ctx.pg.psql(d.db, "SELECT count(*), COALESCE(sum(install_count), 0) "
                         "FROM catalog_plugins")
    r = d.post(f"{M}/install/fail-load")
    # Answered once the host failed, with the reason; before: 201 "activated successfully".
    assert r.status == 422 and r.json["error"]["code"] == "start_failed", r
    assert "on_load" in r.json["error"]["message"], r
    assert ctx.pg.psql(d.db, "SELECT count(*) FROM installed_plugins") == "0"
    assert ctx.pg.psql(d.db, "SELECT count(*), COALESCE(sum(install_count), 0) "
                       "FROM catalog_plugins") == before
    assert not os.path.exists(os.path.join(d.install_dir, "fail-load"))
    assert os.listdir(d.install_dir) == [], os.listdir(d.install_dir)
    d.wait_no_runtime("fail-load")
    assert d.get(f"{M}/installed/fail-load").status == 404
    # A plugin that can run installs as before.
    assert d.post(f"{M}/install/hello").status == 201


def series(d, name):
    """Every /metrics line of streamspace_plugin_<name> for bad-exit-3, by its labels."""
    r = d.get("/metrics")
    assert r.status == 200, r
    out = {}
    for m in re.finditer(r'^streamspace_plugin_%s\{plugin="bad-exit-3"(,reason="(\w+)")?\} '
                         r'(\d+)$' % name, r.raw, re.M):
        out[m.group(2) or ""] = int(m.group(3))
    return out


def accounts(d):
    """bad-exit-3's event series from /metrics: name -> value, dropped_by as a dict."""
    st = {k: series(d, k).get("") for k in ("accepted", "delivered", "failed", "poisoned",
                                           "dropped", "queue_depth", "inflight")}
    st["dropped_by"] = series(d, "dropped_by")
    assert None not in st.values(), st
    assert set(st["dropped_by"]) == {"overflow", "disabled", "uninstalled", "shutdown",
                                     "handover"}, st
    return st


def summed(st):
    return (st["delivered"] + st["failed"] + st["poisoned"] + st["dropped"] +
            st["queue_depth"] + st["inflight"])


def post_events(d, n, first):
    r = d.post("/api/events", [{"type": "session.created", "data": {"i": first + i}}
                               for i in range(n)])
    assert r.status == 202 and len(r.json["ids"]) == n, r
    return r.json["ids"]


def until_failed(d, n, first, accepted=0):
    """Once bad-exit-3 has a host and has taken the accepted events it is owed (the
    outbox's, when enabled again), posts n events and waits for it to fail; its status.
    Its state is no signal to wait on: a host given events at once crashes on the first,
    and its "running" can come and go between two polls."""
    h.wait_for(lambda: (d.runtime("bad-exit-3") or {}).get("accepted", -1) == accepted, 20,
               f"bad-exit-3 to have a host that took {accepted} events")
    ids = post_events(d, n, first) if n else []
    d.wait_state("bad-exit-3", "failed", 60)
    return d.runtime("bad-exit-3"), ids


def test_disable_failed_accounts_queued(ctx):
    """Issue 8 item 5: a plugin that crashes on every event ends failed with events
    queued; disabling it counts them dropped ('disabled') on this daemon, and with a
    database they are delivered again after the re-enable (issue 14: a disable pauses);
    uninstalling counts the rest 'uninstalled', and its series stay in /metrics, summing
    to what was accepted."""
    work = h.tempdir("ss-acct-")
    pd = plugin_dir_with_builds(work)
    dst = os.path.join(pd, "bad-exit-3")
    os.makedirs(dst)
    shutil.copy(os.path.join(h.BUILD, "tests", "integration", "plugins", "bad-exit-3.so"), dst)
    with open(os.path.join(dst, "manifest.json"), "w") as f:
        json.dump({"name": "bad-exit-3", "version": "0.0.1",
                   "permissions": ["read:sessions", "read:users"]}, f)
    d = ctx.fresh(work=work)
    assert d.post(f"{M}/install/bad-exit-3").status == 201
    # Each host exits on its first event. A crash with several events unanswered is
    # charged to none (proto/PROTOCOL.md, "Delivery"): they go one at a time, and the
    # first event crashes two hosts alone (poison), so does the second, and that fifth
    # crash in the window marks it failed.
    d.wait_state("bad-exit-3", "running")  # it has no events yet: the state holds
    rt, first = until_failed(d, 200, 0)
    assert rt["crashes"] == 5 and rt["poisoned"] == 2 and rt["delivered"] == 0, rt
    assert rt["accepted"] == 200 and rt["queue_depth"] == 198 and rt["inflight"] == 0, rt
    assert summed(rt) == 200, rt
    st = accounts(d)
    assert st["accepted"] == 200 and st["queue_depth"] == 198 and st["dropped"] == 0, st

    # Disabled while failed: the 198 queued are dropped for 'disabled' here, not lost.
    r = d.post(f"{M}/disable/bad-exit-3")
    assert r.status == 200, r
    d.wait_no_runtime("bad-exit-3")
    st = accounts(d)
    assert st["dropped_by"] == {"overflow": 0, "disabled": 198, "uninstalled": 0,
                                "shutdown": 0, "handover": 0}, st
    assert st["dropped"] == 198 and st["poisoned"] == 2 and st["delivered"] == 0, st
    assert st["queue_depth"] == 0 and st["inflight"] == 0, st
    assert summed(st) == st["accepted"] == 200, st
    # Nothing is counted for it while it is disabled; what is posted meanwhile stays in
    # the outbox, past its cursor (durable delivery).
    meanwhile = post_events(d, 5, 200)
    assert accounts(d) == st

    # With a database a disable pauses delivery (README, "Durable events"): enabled
    # again it is given, from the outbox and in order, the 198 that were queued at the
    # disable (its cursor stayed before them) and the 5 posted meanwhile, accepted
    # again. It fails on them with a fresh crash history: one crash with several
    # unanswered (charged to none; which one of the five it is depends on how the
    # outbox's rows reach the window), then two alone each for the first two of the
    # 198; uninstalling it counts what is still queued 'uninstalled'. The series carry
    # on from the old counts.
    assert d.post(f"{M}/enable/bad-exit-3").status == 200
    rt, _ = until_failed(d, 0, 0, accepted=403)
    assert rt["accepted"] == 403 and rt["poisoned"] == 4, rt
    assert rt["poison_events"][-2:] == first[2:4], (first[:6], rt)
    queued = rt["queue_depth"] + rt["inflight"]
    assert queued == 403 - 4 - 198, rt
    assert d.request("DELETE", f"{M}/uninstall/bad-exit-3").status == 200
    d.wait_no_runtime("bad-exit-3")
    st = accounts(d)
    assert st["accepted"] == 403 and st["poisoned"] == 4 and st["delivered"] == 0, st
    assert st["dropped_by"] == {"overflow": 0, "disabled": 198, "uninstalled": queued,
                                "shutdown": 0, "handover": 0}, st
    assert summed(st) == 403, st


def main():
    return h.run_with_ctx("h", "ss-hard-", [
        test_unreadable_row, test_fifo_and_broken_entries, test_config_rejected,
        test_install_failure_leaves_nothing, test_disable_failed_accounts_queued])


if __name__ == "__main__":
    sys.exit(main())
