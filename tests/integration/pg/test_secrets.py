#!/usr/bin/env python3
"""Issue 8, item 2, over real HTTP with a real PostgreSQL: a viewer never sees
a secret of a plugin's configuration, whatever depth of the configSchema marks
it (properties, items in both forms, additionalProperties, patternProperties,
oneOf with a $ref, if/then) or whatever common name it has; a masked secret
sent back keeps its stored value; and the daemon's log never holds a secret,
though the plugin logs its configuration (hello does, at load and on every
change)."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"
MASK = "********"

SCHEMA = {
    "type": "object",
    "$defs": {"secret": {"type": "string", "sensitive": True}},
    "properties": {
        # hello logs its greeting at load: a secret here tests the start-up path.
        "greeting": {"type": "string", "sensitive": True, "default": "hello"},
        "endpoints": {"type": "array", "items": {"type": "object", "properties": {
            "url": {"type": "string"}, "auth": {"type": "string", "sensitive": True}}}},
        "pair": {"type": "array", "items": [{"type": "string"},
                                            {"type": "string", "format": "password"}]},
        "accounts": {"type": "object", "additionalProperties": {
            "type": "object", "properties": {"pin": {"type": "string", "writeOnly": True}}}},
        "keys": {"type": "object", "patternProperties": {
            "^k_": {"type": "string", "sensitive": True}}},
        "mode": {"oneOf": [{"type": "object", "properties": {"hidden": {"$ref": "#/$defs/secret"}}},
                           {"type": "string"}]},
        "cond": {"type": "object", "if": {"properties": {"x": {"const": 1}}},
                 "then": {"properties": {"y": {"sensitive": True}}}},
    },
}

CONFIG = {
    "greeting": "SECRET-greeting-value",
    "endpoints": [{"url": "https://a.example", "auth": "SECRET-endpoint-auth"}],
    "pair": ["visible-user", "SECRET-pair-password"],
    "accounts": {"main": {"pin": "SECRET-account-pin", "id": "acc-1"}},
    "keys": {"k_one": "SECRET-pattern-key", "other": "visible-key"},
    "mode": {"hidden": "SECRET-ref-value"},
    "cond": {"x": 1, "y": "SECRET-cond-then"},
    # Not in the schema: the key-name fallback.
    "credentials": {"user": "u", "pass": "SECRET-credentials-pass"},
    "passphrase": "SECRET-passphrase",
    "pwd": "SECRET-pwd-value",
    "Authorization": "Bearer SECRET-authorization",
    "webhookUrl": "https://hooks.example/services/SECRET-webhook",
    "channel": "#visible",
}

MASKED = {
    "greeting": MASK,
    "endpoints": [{"url": "https://a.example", "auth": MASK}],
    "pair": ["visible-user", MASK],
    "accounts": {"main": {"pin": MASK, "id": "acc-1"}},
    "keys": {"k_one": MASK, "other": "visible-key"},
    "mode": {"hidden": MASK},
    "cond": {"x": 1, "y": MASK},
    "credentials": MASK,
    "passphrase": MASK,
    "pwd": MASK,
    "Authorization": MASK,
    "webhookUrl": MASK,
    "channel": "#visible",
}


def plugin_src():
    """The built hello, with a manifest whose configSchema marks secrets at every depth."""
    src = h.tempdir("ss-sec-src-")
    shutil.copytree(os.path.join(h.PLUGINS, "hello"), os.path.join(src, "hello"))
    path = os.path.join(src, "hello", "manifest.json")
    with open(path) as f:
        m = json.load(f)
    m["configSchema"] = SCHEMA
    with open(path, "w") as f:
        json.dump(m, f)
    return src


def no_secret(text, where):
    assert "SECRET" not in text, f"a secret in {where}: {text[-3000:]}"


def views(d, viewer):
    """Every way a viewer reads the configuration."""
    one = d.get(f"{M}/installed/hello", token=viewer)
    many = d.get(f"{M}/installed", token=viewer)
    assert one.status == 200 and many.status == 200, (one, many)
    return one, many


def test_secrets_masked_and_redacted(pg):
    ci = pg.createdb("sec")
    admin = h.make_token(ci, "admin", "admin")
    work = h.tempdir("ss-sec-")
    d = h.Daemon(ci, work, plugin_src=plugin_src())
    d.token = admin
    daemons = [d]
    try:
        viewer = h.make_token(ci, "vera", "viewer", d)
        r = d.post(f"{M}/install/hello", {"config": CONFIG})
        assert r.status == 201, r
        no_secret(r.raw, "the install answer")
        d.wait_state("hello", "running")
        for resp in views(d, viewer):
            no_secret(resp.raw, "a viewer's answer")
        assert views(d, viewer)[0].json["config"] == MASKED, views(d, viewer)[0].json
        # The plugin logged its (secret) greeting at load: blanked out.
        h.wait_for(lambda: f"{MASK} from hello 1.0.0" in d.log(), what="hello's greeting")
        no_secret(d.log(), "the daemon log after load")

        # A client sends back what it read, with one change: the secrets stay as stored.
        sent = views(d, viewer)[0].json["config"]
        sent["endpoints"][0]["url"] = "https://b.example"
        r = d.request("PUT", f"{M}/config/hello", body={"config": sent})
        assert r.status == 200, r
        no_secret(r.raw, "the config answer")
        stored = json.loads(pg.psql("sec", "SELECT config FROM installed_plugins "
                                           "WHERE name = 'hello'"))
        want = json.loads(json.dumps(CONFIG))
        want["endpoints"][0]["url"] = "https://b.example"
        assert stored == want, stored
        # hello logs every new configuration whole: every secret blanked out.
        h.wait_for(lambda: "new configuration" in d.log() and "b.example" in d.log(),
                   what="hello to log its new configuration")
        no_secret(d.log(), "the daemon log after a config change")
        line = next(x for x in d.log().splitlines() if "new configuration" in x)
        assert line.count(MASK) >= 12, line

        # A new secret in a live change is known before the plugin can log it.
        sent["passphrase"] = "SECRET-new-passphrase"
        sent["endpoints"][0]["url"] = "https://c.example"
        assert d.request("PUT", f"{M}/config/hello", body={"config": sent}).status == 200
        h.wait_for(lambda: "c.example" in d.log(), what="the second change")
        no_secret(d.log(), "the daemon log after a new secret")

        # A restart reads the rows back from PostgreSQL: still masked, still redacted.
        assert d.stop() == 0, d.log()[-3000:]
        d2 = h.Daemon(ci, work, plugin_src=plugin_src())
        daemons.append(d2)
        d2.token = admin
        d2.wait_state("hello", "running")
        h.wait_for(lambda: f"{MASK} from hello 1.0.0" in d2.log(), what="hello's greeting")
        for resp in views(d2, viewer):
            no_secret(resp.raw, "a viewer's answer after a restart")
        # Admins see the same masked view: a secret is written, never read back.
        no_secret(d2.get(f"{M}/installed/hello").raw, "an admin's answer")
        no_secret(d2.log(), "the log of the restarted daemon")
    finally:
        for x in daemons:
            x.stop()


def main():
    pg = h.PG()
    suite = h.Suite()
    try:
        return suite.run([test_secrets_masked_and_redacted], pg)
    finally:
        pg.close()


if __name__ == "__main__":
    sys.exit(main())
