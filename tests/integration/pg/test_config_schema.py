#!/usr/bin/env python3
"""Issue 10, item 3, over real HTTP with a real PostgreSQL: a configuration is
checked against the manifest's configSchema on install and on PUT config.
A config that does not match is refused with 422 invalid_config listing every
error ({path, keyword, message}, paths as JSON Pointers), and nothing changes:
no row and no host after a refused install, the stored config and the running
plugin untouched after a refused change. A masked secret sent back is checked
as the value it stands for, and no error or log line holds a secret. A plugin
whose configSchema does not compile is not offered at all."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"
MASK = "********"

SCHEMA = {
    "type": "object",
    "required": ["greeting"],
    "additionalProperties": False,
    "properties": {
        "greeting": {"type": "string", "minLength": 2, "maxLength": 40},
        "level": {"enum": ["info", "warn"]},
        "retries": {"type": "integer", "minimum": 0, "maximum": 5},
        "webhookUrl": {"type": "string", "format": "uri", "pattern": "^https://"},
        "token": {"type": "string", "sensitive": True, "pattern": "^xox"},
        "targets": {"type": "array", "items": {"$ref": "#/definitions/target"}},
    },
    "definitions": {"target": {"type": "object", "required": ["channel"],
                               "properties": {"channel": {"type": "string",
                                                          "pattern": "^#"}}}},
}


def plugin_dir(work):
    """hello with the schema above; echo with a configSchema that does not compile."""
    pd = h.copy_plugins(work)
    for name, schema, defaults in (("hello", SCHEMA, {"greeting": "hello", "level": "info"}),
                                   ("echo", {"$ref": "#/definitions/missing"}, {})):
        path = os.path.join(pd, name, "manifest.json")
        with open(path) as f:
            m = json.load(f)
        m["configSchema"] = schema
        m["defaultConfig"] = defaults
        with open(path, "w") as f:
            json.dump(m, f)


def errors_of(r):
    assert r.status == 422, r
    err = r.json["error"]
    assert err["code"] == "invalid_config", r
    return [(e["path"], e["keyword"]) for e in err["errors"]], err


def stored_config(pg):
    return pg.psql("cfs", "SELECT config FROM installed_plugins WHERE name = 'hello'")


def test_config_checked_on_install_and_change(pg):
    ci = pg.createdb("cfs")
    admin = h.make_token(ci, "admin", "admin")
    work = h.tempdir("ss-cfs-")
    plugin_dir(work)
    # No shipped catalog: a plugin refused here must not come from a repository instead.
    d = h.Daemon(ci, work, extra_args=["--catalog-dir", ""])
    d.token = admin
    try:
        # One of each mistake: all of them listed, in a stable order, and nothing installed.
        bad = {"greeting": "x", "level": "debug", "retries": 9, "webhookUrl": "http://a.example/",
               "token": "SECRET-not-a-slack-token", "targets": [{"channel": "ops"}, {}],
               "colour": "red"}
        r = d.post(f"{M}/install/hello", {"config": bad})
        got, err = errors_of(r)
        assert got == [("/greeting", "minLength"), ("/level", "enum"), ("/retries", "maximum"),
                       ("/webhookUrl", "pattern"), ("/token", "pattern"),
                       ("/targets/0/channel", "pattern"), ("/targets/1/channel", "required"),
                       ("/colour", "additionalProperties")], got
        assert "does not match the configSchema of hello" in err["message"], err
        assert "SECRET" not in r.raw, r.raw
        assert d.post(f"{M}/install/hello", {"config": bad}).raw == r.raw, "not stable"
        assert stored_config(pg) == "", "a refused install left a row"
        assert d.get(f"{M}/installed/hello").status in (404, 409)

        # The manifest's defaults count: an install that removes nothing is checked merged.
        r = d.post(f"{M}/install/hello", {"config": {"greeting": 5}})
        assert errors_of(r)[0] == [("/greeting", "type")], r

        good = {"greeting": "hey", "retries": 2, "webhookUrl": "https://hooks.example/x",
                "token": "xoxb-SECRET-token", "targets": [{"channel": "#ops"}]}
        r = d.post(f"{M}/install/hello", {"config": good})
        assert r.status == 201, r
        d.wait_state("hello", "running")
        before = stored_config(pg)
        assert json.loads(before) == dict(good, level="info"), before

        # A change that does not match: 422 with every error, nothing stored, the host kept.
        pid = d.runtime("hello").get("pid")
        r = d.request("PUT", f"{M}/config/hello",
                      body={"config": {"greeting": "hey", "retries": -1, "level": None}})
        got, _ = errors_of(r)
        assert got == [("/retries", "minimum"), ("/level", "enum")], got
        assert stored_config(pg) == before
        assert d.state("hello") == "running" and d.runtime("hello").get("pid") == pid

        # What a viewer read (the token masked) sent back with a change: checked as the
        # stored token, which matches; a mask that stood for nothing would not.
        view = d.get(f"{M}/installed/hello").json["config"]
        assert view["token"] == MASK, view
        view["retries"] = 3
        r = d.request("PUT", f"{M}/config/hello", body={"config": view})
        assert r.status == 200, r
        assert json.loads(stored_config(pg))["retries"] == 3
        assert json.loads(stored_config(pg))["token"] == "xoxb-SECRET-token"
        r = d.request("PUT", f"{M}/config/hello",
                      body={"config": {"greeting": "hey", "token": "SECRET-wrong"}})
        assert errors_of(r)[0] == [("/token", "pattern")], r
        assert "SECRET" not in r.raw, r.raw

        # A bare object is the configuration itself, checked the same way.
        r = d.request("PUT", f"{M}/config/hello", body={"greeting": "hi", "nope": 1})
        assert errors_of(r)[0] == [("/nope", "additionalProperties")], r

        # echo's configSchema has a $ref to nothing: refused with the manifest, never
        # offered; installing it names the check and the reason.
        r = d.post(f"{M}/install/echo", {})
        assert r.status == 422 and r.json["error"]["code"] == "package_refused", r
        assert r.json["error"]["check"] == "manifest", r
        assert "does not resolve" in r.json["error"]["message"], r
        h.wait_for(lambda: "does not resolve" in d.log(), what="echo's schema error logged")
        assert "SECRET" not in d.log(), "a secret in the daemon log"
    finally:
        d.stop()


def main():
    pg = h.PG()
    suite = h.Suite()
    try:
        return suite.run([test_config_checked_on_install_and_change], pg)
    finally:
        pg.close()


if __name__ == "__main__":
    sys.exit(main())
