#!/usr/bin/env python3
"""Issue 8, items 1 and 10, over real HTTP with a real PostgreSQL: one JSON
depth limit everywhere (a config the API accepts reads back from the database,
reaches the plugin, and survives a restart), numbers kept as written, strict
JSON only, keys json-c cannot hold refused, every refusal saying where."""
import json
import os
import sys
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"
# proto/json.h: JSON_MAX_DEPTH 64, JSON_WRAP_DEPTH 4 -> HTTP bodies may nest 60.
INPUT_DEPTH = 60


def nest(depth):
    """A value `depth` levels deep as json-c counts them: depth-1 objects around a string."""
    v = "leaf"
    for _ in range(depth - 1):
        v = {"a": v}
    return v


def put_config(d, cfg, raw=None, token=None):
    return d.request("PUT", f"{M}/config/hello", body=None if raw else cfg, raw=raw, token=token)


def installed(d, token=None):
    r = d.get(f"{M}/installed/hello", token=token)
    assert r.status == 200, r
    return r


def test_deep_config_reads_back(ctx):
    """The review's crash: a config 31 levels deep, then the row read back at depth 32."""
    d = ctx.fresh()
    viewer = h.make_token(d.ci, "vera", "viewer", d)
    assert d.post(f"{M}/install/hello").status == 201
    d.wait_state("hello", "running")
    for depth in (31, INPUT_DEPTH):
        cfg = nest(depth)
        r = put_config(d, cfg)
        assert r.status == 200, (depth, r)
        # The NOTIFY-driven apply reads the row back; the host gets the config frame.
        h.wait_for(lambda: json.loads(installed(d).raw)["config"] == cfg, what="read back")
        assert installed(d, token=viewer).json["config"] == cfg
        assert d.state("hello") == "running", d.runtime("hello")
        assert d.proc.poll() is None, d.log()[-3000:]
    # The plugin received it: hello logs each new configuration it is given.
    h.wait_for(lambda: d.log().count("new configuration") >= 2, what="the plugin to get it")
    # A restart reads every row back from PostgreSQL and starts the plugin with it.
    d2 = ctx.restart(d)
    d2.wait_state("hello", "running")
    assert installed(d2, token=viewer).json["config"] == nest(INPUT_DEPTH)
    assert "does not read back" not in d2.log(), d2.log()[-3000:]


def test_unreadable_row_is_an_error_of_that_plugin(ctx):
    """A row deeper than any reader allows, written in plain SQL: the plugin's error, not 'gone'."""
    d = ctx.fresh()
    viewer = h.make_token(d.ci, "vera", "viewer", d)
    assert d.post(f"{M}/install/hello", {"config": {"greeting": "before"}}).status == 201
    d.wait_state("hello", "running")
    pid = d.runtime("hello")["pid"]
    deep = json.dumps(nest(70)).replace("'", "''")
    ctx.pg.psql(d.db, f"UPDATE installed_plugins SET config = '{deep}' WHERE name = 'hello'")

    def reported(daemon):
        r = daemon.get(f"{M}/installed/hello", token=viewer)
        assert r.status == 200, r
        err = r.json.get("error") or ""
        return ("does not read back" in err and "nesting deeper than 64" in err) and r

    r = h.wait_for(lambda: reported(d), what="the unreadable row to be reported")
    # Nothing was taken for "uninstalled": the host runs on, its files stay.
    assert r.json["runtime"]["state"] == "running" and r.json["runtime"]["pid"] == pid, r
    assert os.path.exists(os.path.join(d.install_dir, "hello", "1.0.0", "manifest.json"))
    listed = d.get(f"{M}/installed", token=viewer)
    assert listed.status == 200 and [p["name"] for p in listed.json["plugins"]] == ["hello"]
    # A restart reads it again: reported, nothing removed, the daemon serves.
    d2 = ctx.restart(d)
    h.wait_for(lambda: reported(d2), what="the unreadable row reported after a restart")
    assert os.path.exists(os.path.join(d2.install_dir, "hello", "1.0.0", "manifest.json"))
    assert ctx.pg.psql(d.db, "SELECT count(*) FROM installed_plugins") == "1"
    # A good configuration repairs it.
    assert put_config(d2, {"greeting": "after"}).status == 200
    d2.wait_state("hello", "running")
    assert installed(d2).json["error"] is None, installed(d2)


def test_depth_limit_at_the_api(ctx):
    d = ctx.fresh()
    assert d.post(f"{M}/install/hello").status == 201
    d.wait_state("hello", "running")
    r = put_config(d, nest(INPUT_DEPTH + 1))
    assert r.status == 400 and r.json["error"]["code"] == "bad_json", r
    msg = r.json["error"]["message"]
    assert f"nesting deeper than {INPUT_DEPTH} levels" in msg and "at byte " in msg, msg
    # Wrapped in {"config": ...} the config itself may be one level less.
    assert put_config(d, {"config": nest(INPUT_DEPTH - 1)}).status == 200
    r = put_config(d, {"config": nest(INPUT_DEPTH)})
    assert r.status == 400, r
    # Events: data at the limit is accepted and delivered, one more is refused.
    ev = {"type": "session.created", "data": nest(INPUT_DEPTH - 1)}
    assert d.post("/api/events", ev).status == 202
    ev["data"] = {"a": ev["data"]}
    assert d.post("/api/events", ev).status == 400
    # The deepest accepted event reached the plugin without harming its host.
    h.wait_for(lambda: d.runtime("hello")["delivered"] == 1, 20, "the deep event's delivery")
    rt = d.runtime("hello")
    assert rt["state"] == "running" and rt["crashes"] == 0, rt


def test_numbers_kept(ctx):
    """1e308 and 1e30 came back as 18446744073709551615; -9223372036854775809 as INT64_MIN."""
    d = ctx.fresh()
    assert d.post(f"{M}/install/hello").status == 201
    raw = (b'{"big":1e308,"b30":1e30,"neg":-9223372036854775809,"u64":18446744073709551616,'
           b'"max":18446744073709551615,"min":-9223372036854775808,"f":1.5,"tiny":1e-300}')
    r = put_config(d, None, raw=raw)
    assert r.status == 200, r
    want = json.loads(raw, parse_float=Decimal, parse_int=Decimal)

    def numbers(resp):
        body = json.loads(resp.raw, parse_float=Decimal, parse_int=Decimal)
        return body["plugin"]["config"] if "plugin" in body else body["config"]

    for resp in (r, installed(d)):
        got = numbers(resp)
        for k, v in want.items():
            # PostgreSQL's jsonb spells 1e30 out; the value is the same, exactly.
            assert got[k] == v, (k, got[k], v, resp.raw)
    stored = json.loads(ctx.pg.psql(d.db, "SELECT config FROM installed_plugins "
                                          "WHERE name = 'hello'"), parse_float=Decimal,
                        parse_int=Decimal)
    assert stored == want, stored
    # A number no double can hold is refused, and says so.
    r = put_config(d, None, raw=b'{"x": 1e400}')
    assert r.status == 400 and "out of range" in r.json["error"]["message"], r


def test_strict_json(ctx):
    d = ctx.fresh()
    assert d.post(f"{M}/install/hello").status == 201
    cases = [
        (b'{"a\\u0000b": 1}', "U+0000", 1),          # json-c keeps it as key "a"
        (b"{'greeting': 'x'}", "double quotes", 1),   # json-c takes single-quoted keys
        (b'{"greeting": "x"} // c', "trailing", 18),
        (b'/* c */ {"greeting": "x"}', "comments", 0),
        (b'{"greeting": "x", "greeting": "y"}', "duplicate key", 18),
        (b'{"greeting": "x",}', "double quotes", 17),
        (b'{"greeting": "\\ud800"}', "unpaired surrogate", 14),
    ]
    for raw, what, at in cases:
        r = put_config(d, None, raw=raw)
        assert r.status == 400 and r.json["error"]["code"] == "bad_json", (raw, r)
        msg = r.json["error"]["message"]
        assert what in msg and f"at byte {at}:" in msg, (raw, msg)
    # Nothing of it was stored.
    cfg = json.loads(ctx.pg.psql(d.db, "SELECT config FROM installed_plugins "
                                       "WHERE name = 'hello'"))
    assert cfg == {"greeting": "hello"}, cfg
    # The same reader guards POST /api/events.
    r = d.request("POST", "/api/events", raw=b"{'type': 'session.created'}")
    assert r.status == 400 and "at byte 1:" in r.json["error"]["message"], r


def main():
    return h.run_with_ctx("j", "ss-json-", [
        test_deep_config_reads_back, test_unreadable_row_is_an_error_of_that_plugin,
        test_depth_limit_at_the_api, test_numbers_kept, test_strict_json])


if __name__ == "__main__":
    sys.exit(main())
