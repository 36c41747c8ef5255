#!/usr/bin/env python3
"""Issue 11 items 4 and 6, blue/green: another version of a serving plugin starts
beside it and takes over once ready. Events flowing through the switch are
each handled exactly once (counted from the plugin's own log lines, one per
event, across both hosts); a new version that cannot be loaded leaves the old
host serving, untouched. A changed .so in the plugin directory is reloaded
the same way (hot reload)."""
import os
import re
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"


def set_version(d, name, version):
    h.set_manifest(os.path.join(d.plugin_dir, name, "manifest.json"), version=version)


def echoed(d):
    """Event id -> how many times an echo host logged it."""
    seen = {}
    for m in re.finditer(r"echo user\.login (\d+)", d.log()):
        seen[int(m.group(1))] = seen.get(int(m.group(1)), 0) + 1
    return seen


class Publisher(threading.Thread):
    """Posts n events one after another; keeps the ids the daemon accepted."""

    def __init__(self, d, n):
        super().__init__(daemon=True)
        self.d, self.n, self.ids, self.errors = d, n, [], []

    def run(self):
        for i in range(self.n):
            r = self.d.post("/api/events", {"type": "user.login", "data": {"seq": i}})
            if r.status == 202:
                self.ids.append(r.json["id"])
            else:
                self.errors.append(r)


def delivered_all(d, want):
    rt = d.runtime("echo")
    return rt["delivered"] >= want and rt["queue_depth"] == 0 and rt["inflight"] == 0


def through_switch(ctx, d, switch):
    """600 events posted while switch() makes a new echo host take over: each handled once."""
    old = d.runtime("echo")["pid"]
    pub = Publisher(d, 600)
    pub.start()
    h.wait_for(lambda: len(pub.ids) >= 100, 30, "the first events")
    switch()
    pub.join(120)
    assert not pub.is_alive() and pub.errors == [], pub.errors[:3]
    assert len(pub.ids) == 600
    h.wait_for(lambda: delivered_all(d, 600), 30, "every event delivered")
    h.wait_for(lambda: "switched to version" in d.log(), 30, "the switch")
    rt = d.runtime("echo")
    assert rt["pid"] != old and not h.pid_alive(old), rt
    assert rt["state"] == "running", rt
    # The bus's own account: every accepted event acknowledged once, none lost or resent.
    assert rt["accepted"] == 600 and rt["delivered"] == 600, rt
    assert rt["redelivered"] == 0 and rt["dropped"] == 0 and rt["poisoned"] == 0, rt
    assert rt["log_dropped"] == 0 and rt["log_truncated"] == 0, rt
    # The plugin's account: every id handled exactly once, by the old host or the new.
    seen = echoed(d)
    assert sorted(seen) == sorted(pub.ids), (len(seen), len(pub.ids))
    assert set(seen.values()) == {1}, {k: v for k, v in seen.items() if v != 1}
    # Both hosts handled some: the switch happened while events flowed.
    before, after = d.log().split("switched to version", 1)
    n_old, n_new = (len(re.findall(r"echo user\.login", x)) for x in (before, after))
    assert n_old > 0 and n_new > 0, (n_old, n_new)


def test_upgrade_while_events_flow(ctx):
    d = ctx.fresh()
    assert d.post(f"{M}/install/echo").status == 201
    d.wait_state("echo", "running")

    def upgrade():
        set_version(d, "echo", "1.1.0")
        r = d.post(f"{M}/install/echo", {"version": "1.1.0"})
        assert r.status == 200 and r.json["plugin"]["version"] == "1.1.0", r

    through_switch(ctx, d, upgrade)
    assert ctx.pg.psql(d.db, "SELECT version FROM installed_plugins WHERE name = 'echo'") \
        == "1.1.0"


def test_hot_reload_while_events_flow(ctx):
    """Issue 11 item 6: a new .so of an enabled plugin dropped into the plugin directory."""
    d = ctx.fresh()
    assert d.post(f"{M}/install/echo").status == 201
    d.wait_state("echo", "running")
    so = os.path.join(d.plugin_dir, "echo", "echo.so")

    def replace_so():
        # The way a deploy puts a new build in place: a copy, then rename over the old.
        tmp = os.path.join(d.plugin_dir, "echo", ".echo.so.new")
        h.shutil.copy(so, tmp)
        os.rename(tmp, so)

    through_switch(ctx, d, replace_so)
    with open(so, "rb") as a, open(os.path.join(d.install_dir, "echo", "1.0.0", "echo.so"), "rb") as b:
        assert a.read() == b.read()
    assert d.state("echo") == "running"


def test_upgrade_keeps_the_last_crash(ctx):
    """The runtime history is the plugin's, not one version's: restarts,
    crashes and the last exit (the Installed view's "Last crash") carry over
    a blue/green switch; the old host's planned stop is not an exit."""
    d = ctx.fresh()
    assert d.post(f"{M}/install/echo").status == 201
    d.wait_state("echo", "running")
    first = d.runtime("echo")["pid"]
    os.kill(first, signal.SIGKILL)
    h.wait_for(lambda: (d.runtime("echo") or {}).get("restarts") == 1
               and d.state("echo") == "running", 30, "echo restarted")
    crashed = d.runtime("echo")
    assert crashed["last_exit"]["reason"] == "signal", crashed
    set_version(d, "echo", "1.1.0")
    r = d.post(f"{M}/install/echo", {"version": "1.1.0"})
    assert r.status == 200 and r.json["plugin"]["version"] == "1.1.0", r
    h.wait_for(lambda: "switched to version" in d.log(), 30, "the switch")
    rt = d.runtime("echo")
    assert rt["pid"] not in (first, crashed["pid"]) and rt["state"] == "running", rt
    assert rt["restarts"] == 1 and rt["crashes"] == 1, rt
    assert rt["last_exit"] == crashed["last_exit"], (crashed, rt)
    assert rt["last_exit"]["signal_name"] == "SIGKILL", rt


def test_upgrade_that_cannot_load_keeps_old(ctx):
    d = ctx.fresh()
    assert d.post(f"{M}/install/echo").status == 201
    d.wait_state("echo", "running")
    old = d.runtime("echo")["pid"]
    # Version 1.2.0's .so cannot be loaded as echo (it is another plugin's, failing on_load).
    h.shutil.copy(os.path.join(h.BUILD, "tests", "hostile", "fail-load.so"),
                  os.path.join(d.plugin_dir, "echo", "echo.so"))
    set_version(d, "echo", "1.2.0")
    r = d.post(f"{M}/install/echo", {"version": "1.2.0"})
    assert r.status == 422 and r.json["error"]["code"] == "start_failed", (r, d.log()[-6000:])
    assert "could not be started" in r.json["error"]["message"], r
    # The row is back at the version that runs, and 1.2.0's copy is gone.
    assert ctx.pg.psql(d.db, "SELECT version, previous_version IS NULL FROM installed_plugins"
                       " WHERE name = 'echo'") == "1.0.0|t"
    h.wait_for(lambda: os.listdir(os.path.join(d.install_dir, "echo")) == ["1.0.0"], 10,
               "the 1.2.0 copy to go")
    # The old host never noticed: same pid, still running, still delivering.
    rt = d.runtime("echo")
    assert rt["pid"] == old and rt["state"] == "running", rt
    assert rt["restarts"] == 0 and rt["crashes"] == 0, rt
    ids = [d.post("/api/events", {"type": "user.login", "data": {}}).json["id"]
           for _ in range(20)]
    h.wait_for(lambda: all(echoed(d).get(i) == 1 for i in ids), 20, "events to the old host")
    assert d.runtime("echo")["pid"] == old
    assert "upgrade to" in d.log() and "the running version stays" in d.log()


def main():
    return h.run_with_ctx("u", "ss-upg-", [
        test_upgrade_while_events_flow, test_hot_reload_while_events_flow,
        test_upgrade_keeps_the_last_crash, test_upgrade_that_cannot_load_keeps_old])


if __name__ == "__main__":
    sys.exit(main())
