#!/usr/bin/env python3
"""Issue 14: the daemon's own events go through the durable outbox like
POSTed ones. A plugin's ss_emit is answered ok only once its event is
committed to ss_events (origin = the emitter), survives kill -9 of the
daemon that ran the emitter, and reaches a subscriber delivered by another
daemon once per host (twice only across the crash, under the same id).
Platform events of the registry (plugin.installed, .disabled, .uninstalled
...) are announced from the database once, whoever made the change: an
install through daemon A reaches an admin subscriber delivered by daemon B
once, as an outbox row; an install, a disable and an uninstall made with
plain SQL are announced once each; the plugin a platform event is about
never receives it."""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402
import pgharness as h  # noqa: E402
import test_durable_multi as dm  # noqa: E402

M = "/api/plugins/marketplace"


def plugin_src(admin):
    """kv-a and kv-b (kvdriver: emit on request) and rec-p (records plugin.*)."""
    src = os.path.join(h.tempdir("ss-de-src-"), "src")
    harness.manifest_plugin(src, "kv-a", ["read:sessions"], "emits on request")
    harness.manifest_plugin(src, "kv-b", ["read:sessions"], "emits on request")
    harness.manifest_plugin(src, "rec-p", ["storage"] + (["admin"] if admin else []),
                            "records plugin.* deliveries")
    return src


def recorded(c, plugin="rec-p"):
    """[(id, incarnation, seq, type, data)] of every delivery rec-p stored."""
    out = c.sql("SELECT key || ' ' || value::text FROM plugin_storage "
                f"WHERE plugin_name = '{plugin}'")
    rows = []
    for line in out.splitlines():
        key, value = line.split(" ", 1)
        v = json.loads(value)
        i, inc, seq = (int(x) for x in key.split("."))
        rows.append((i, inc, seq, v["t"], v.get("d")))
    return rows


def acked_emits(d):
    """The seqs kv-a's ss_emit returned SS_OK for, from d's log."""
    out = set()
    for m in re.finditer(r"^info kv-a: res (\{.*\})$", d.log(), re.M):
        o = json.loads(m.group(1))
        if o.get("r") == 0:
            out.add(o["seq"])
    return out


def outbox_rows(c, where):
    """{id: (type, origin, platform, data)} of the outbox rows matching where (over e,
    read as a whole row: a schema without origin and platform reads them as None)."""
    out = c.sql(f"SELECT to_jsonb(e)::text FROM ss_events e WHERE {where} ORDER BY id")
    rows = {}
    for line in out.splitlines():
        o = json.loads(line)
        rows[o["id"]] = (o["type"], o.get("origin"), o.get("platform"), o["data"])
    return rows


PLATFORM = "coalesce((to_jsonb(e)->>'platform')::boolean, false)"


def test_emit_durable_across_kill9(pg):
    c = dm.Cluster(pg, "de1", src=plugin_src(admin=False))
    try:
        a = c.start()
        for name in ("kv-a", "rec-p"):
            assert a.post(f"{M}/install/{name}").status == 201
            a.wait_state(name, "running")
            h.wait_for(lambda n=name: dm.owner_daemon(c, n) is a, 15, f"a's lease of {name}")
        b = c.start()
        for name in ("kv-a", "rec-p"):
            b.wait_state(name, "running")
        total = 200

        def post(lo, hi):
            for s in range(lo, hi, 20):
                batch = [{"type": "session.created",
                          "data": {"who": "kv-a", "op": "emit", "seq": i, "event": "tick",
                                   "data": {"n": i}}} for i in range(s, min(s + 20, hi))]
                r = b.post("/api/events", batch)
                assert r.status == 202, r

        post(0, 100)
        # Killed mid-stream: kv-a is emitting and rec-p taking them, both on a.
        h.wait_for(lambda: len(outbox_rows(c, "type = 'plugin.kv-a.tick'")) >= 30, 30,
                   "kv-a's first emits in the outbox")
        before = acked_emits(a)
        c.kill9(a)
        post(100, total)

        def committed():
            return {d["n"] for t, _, _, d in outbox_rows(c, "type = 'plugin.kv-a.tick'").values()}
        h.wait_for(lambda: committed() >= set(range(total)), 60,
                   "an emit of every event committed")
        rows = outbox_rows(c, "type = 'plugin.kv-a.tick'")
        # Emitted by kv-a, not platform events; an ok answer means the row was there.
        assert all(o == "kv-a" and p is False for _, o, p, _ in rows.values()), rows
        acked = before | acked_emits(b)
        assert acked and acked <= committed(), sorted(acked - committed())[:20]
        assert len(before) > 0, "no emit was answered on a before the kill"
        # Every committed emit reached rec-p (delivered by b after the kill), under the
        # outbox's id; twice only across the end of a's host, never within one host.
        h.wait_for(lambda: set(rows) <= {r[0] for r in recorded(c)}, 60,
                   "rec-p to have every emitted event\n" + c.dump())
        got = recorded(c)
        assert {r[0] for r in got} <= set(outbox_rows(c, "true")), "ids not from the outbox"
        by_host = {}
        for i, inc, seq, t, d in sorted(got, key=lambda r: (r[1], r[2])):
            assert t == "plugin.kv-a.tick" and rows[i][3] == d, (i, t, d)
            by_host.setdefault(inc, []).append(i)
        for inc, ids in by_host.items():
            assert ids == sorted(set(ids)), (inc, ids[:40])
        dups = len(got) - len({r[0] for r in got})
        assert dups <= 64, dups
        assert dm.owner_daemon(c, "rec-p") is b
        h.log(f"{len(rows)} emits committed for {total} events, {len(acked)} answered ok, "
              f"{len(got)} deliveries to rec-p ({dups} again across the kill)")
    finally:
        c.stop()


def platform_deliveries(c, type_, about):
    return [r for r in recorded(c) if r[3] == type_ and (r[4] or {}).get("plugin") == about]


def test_platform_events_once_from_the_database(pg):
    c = dm.Cluster(pg, "de2", src=plugin_src(admin=True))
    try:
        b = c.start()
        assert b.post(f"{M}/install/rec-p").status == 201
        b.wait_state("rec-p", "running")
        h.wait_for(lambda: dm.owner_daemon(c, "rec-p") is b, 15, "b's lease of rec-p")
        a = c.start()
        a.wait_state("rec-p", "running")

        def once(type_, about, timeout=30):
            got = h.wait_for(lambda: platform_deliveries(c, type_, about), timeout,
                             f"{type_} of {about} at rec-p\n" + c.dump())
            return got

        # An install through a: announced once, as an outbox row, delivered by b.
        assert a.post(f"{M}/install/kv-b").status == 201
        got = once("plugin.installed", "kv-b")
        assert got[0][4] == {"plugin": "kv-b", "version": "1.0.0", "user": "admin"}, got
        rows = outbox_rows(c, PLATFORM)
        assert got[0][0] in rows and rows[got[0][0]][:3] == ("plugin.installed", "kv-b", True)
        # A disable, then an uninstall, by plain SQL: each announced once.
        c.sql("UPDATE installed_plugins SET enabled = false WHERE name = 'kv-b'")
        got = once("plugin.disabled", "kv-b")
        assert got[0][4] == {"plugin": "kv-b", "version": "1.0.0"}, got
        c.sql("DELETE FROM installed_plugins WHERE name = 'kv-b'")
        got = once("plugin.uninstalled", "kv-b")
        assert got[0][4] == {"plugin": "kv-b", "version": "1.0.0", "purged": False}, got
        # An install by SQL: both daemons start it, one announcement.
        c.sql("INSERT INTO installed_plugins (name, version, enabled, installed_by) "
              "VALUES ('kv-a', '1.0.0', true, 'ops')")
        for d in (a, b):
            d.wait_state("kv-a", "running")
        got = once("plugin.installed", "kv-a")
        assert got[0][4] == {"plugin": "kv-a", "version": "1.0.0", "user": "ops"}, got
        # An uninstall with purge through b.
        r = b.request("DELETE", f"{M}/uninstall/kv-a?purge=true")
        assert r.status == 200, r
        got = once("plugin.uninstalled", "kv-a")
        assert got[0][4]["purged"] is True, got
        time.sleep(3)  # heartbeats and converges of both daemons: nothing more comes
        want = [("plugin.installed", "kv-b"), ("plugin.disabled", "kv-b"),
                ("plugin.uninstalled", "kv-b"), ("plugin.installed", "kv-a"),
                ("plugin.uninstalled", "kv-a")]
        rows = outbox_rows(c, PLATFORM + " AND type LIKE 'plugin.%' AND type <> 'plugin.crashed'")
        assert [(t, o) for t, o, _, _ in rows.values()] == \
            [("plugin.installed", "rec-p")] + want, rows
        for type_, about in want:
            n = len(platform_deliveries(c, type_, about))
            assert n == 1, (type_, about, n, recorded(c))
        # Never the plugin it is about: rec-p's own install did not reach it.
        assert not [r for r in recorded(c) if (r[4] or {}).get("plugin") == "rec-p"]
    finally:
        c.stop()


if __name__ == "__main__":
    pg = h.PG(tcp=True, sync_commit=True)
    try:
        only = sys.argv[1:]
        tests = [test_emit_durable_across_kill9, test_platform_events_once_from_the_database]
        sys.exit(h.Suite().run([t for t in tests if not only or t.__name__ in only], pg))
    finally:
        pg.close()
