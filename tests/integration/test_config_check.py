#!/usr/bin/env python3
"""streamspaced config check, as a plugin author runs it: a manifest's
defaultConfig and a given CONFIG checked against its configSchema, any value
against any schema with --schema; every error printed as "path: message";
exit 0 valid, 1 invalid, 2 unusable input (missing file, bad JSON, bad
manifest, bad schema). No sanitizer report on any path."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DAEMON, SANITIZER_MARKS, check, main  # noqa: E402

SCHEMA = {
    "type": "object",
    "required": ["webhookUrl"],
    "properties": {
        "webhookUrl": {"type": "string", "format": "uri",
                       "pattern": "^https://hooks\\.slack\\.com/"},
        "channel": {"type": "string", "pattern": "^#[a-z0-9_-]+$"},
        "level": {"enum": ["info", "warn", "error"]},
        "retries": {"type": "integer", "minimum": 0, "maximum": 10},
        "mentions": {"type": "array", "items": {"$ref": "#/definitions/user"},
                     "uniqueItems": True},
    },
    "definitions": {"user": {"type": "string", "pattern": "^@"}},
    "additionalProperties": False,
}

MANIFEST = {
    "name": "slacky", "version": "1.0.0", "displayName": "Slacky",
    "description": "test", "author": "t", "type": "extension",
    "configSchema": SCHEMA,
    "defaultConfig": {"webhookUrl": "https://hooks.slack.com/services/T/B/x",
                      "channel": "#general", "level": "info", "retries": 3},
}


def run(*args):
    p = subprocess.run([DAEMON, "config", "check"] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    bad = [l for l in (out + err).splitlines() if any(m in l for m in SANITIZER_MARKS)]
    check(not bad, "config check %s: sanitizer report: %s", " ".join(args), bad[:2])
    return p.returncode, out, err


def test(_d):
    with tempfile.TemporaryDirectory(prefix="ss-config-check.") as tmp:
        def put(name, value, raw=False):
            path = os.path.join(tmp, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(value if raw else json.dumps(value))
            return path

        manifest = put("manifest.json", MANIFEST)

        # The shipped defaults are valid.
        rc, out, _ = run(manifest)
        check(rc == 0, "defaultConfig: rc %d: %s", rc, out)
        check(out == "defaultConfig: valid\n", "defaultConfig: %r", out)

        # A config with one of each kind of mistake: every error, with its path.
        bad = put("bad.json", {"webhookUrl": "http://example.com/x", "channel": "general",
                               "level": "debug", "retries": 11.5,
                               "mentions": ["@a", "b", "@a"], "colour": "red"})
        rc, out, _ = run(manifest, bad)
        check(rc == 1, "bad config: rc %d, expected 1: %s", rc, out)
        want = [
            "/webhookUrl: must match the pattern \"^https://hooks\\.slack\\.com/\" (pattern)",
            "/channel: must match the pattern \"^#[a-z0-9_-]+$\" (pattern)",
            "/level: must be one of [\"info\",\"warn\",\"error\"] (enum)",
            "/retries: must be integer, not number (type)",
            "/retries: must be at most 10 (maximum)",
            "/mentions: items 0 and 2 are equal (uniqueItems)",
            "/mentions/1: must match the pattern \"^@\" (pattern)",
            "/colour: is not an allowed property (additionalProperties)",
            "%s: invalid, 8 errors" % bad,
        ]
        check(out.splitlines() == want, "bad config: got\n%s\nwant\n%s", out, "\n".join(want))

        # A missing required property is named by its path.
        rc, out, _ = run(manifest, put("empty.json", {}))
        check(rc == 1 and out.startswith("/webhookUrl: is required (required)\n"),
              "empty config: rc %d: %s", rc, out)

        good = put("good.json", {"webhookUrl": "https://hooks.slack.com/services/A",
                                 "mentions": ["@ops"]})
        rc, out, _ = run(manifest, good)
        check(rc == 0 and out == "%s: valid\n" % good, "good config: rc %d: %s", rc, out)

        # Any value against any schema.
        schema = put("schema.json", SCHEMA)
        rc, out, _ = run("--schema", schema, good)
        check(rc == 0, "--schema good: rc %d: %s", rc, out)
        rc, out, _ = run("--schema", schema, put("str.json", "just a string"))
        check(rc == 1 and out.startswith("(root): must be object, not string (type)\n"),
              "--schema string: rc %d: %s", rc, out)
        rc, out, _ = run("--schema", put("null-schema.json", {"type": "null"}),
                         put("null.json", "null", raw=True))
        check(rc == 0, "null instance: rc %d: %s", rc, out)

        # A manifest without a configSchema accepts anything, and says so.
        plain = dict(MANIFEST)
        del plain["configSchema"]
        rc, out, _ = run(put("plain.json", plain), bad)
        check(rc == 0 and "no configSchema" in out, "no schema: rc %d: %s", rc, out)

        # Unusable input: exit 2 with a message naming the problem, nothing on stdout.
        broken = dict(MANIFEST)
        broken["configSchema"] = dict(SCHEMA, properties={"a": {"$ref": "#/definitions/nope"}})
        cases = [
            ([os.path.join(tmp, "missing.json")], "No such file or directory"),
            ([manifest, os.path.join(tmp, "missing.json")], "No such file or directory"),
            ([manifest, put("trunc.json", "{\"a\":", raw=True)], "not valid JSON"),
            ([manifest, put("trail.json", "{} x", raw=True)], "not valid JSON"),
            ([manifest, put("utf8.json", "\"\\u00e9\"", raw=True)], None),
            ([put("notjson.json", "manifest", raw=True)], "not valid JSON"),
            ([put("noname.json", {"version": "1.0.0"})], "name"),
            ([put("badref.json", broken)], "does not resolve"),
            (["--schema", put("badtype.json", {"type": "strin"}), good], "type must be"),
            (["--schema", put("badpat.json", {"pattern": "(a"}), good], "invalid pattern"),
            (["--schema", schema], "usage:"),
            ([], "usage:"),
            (["--bogus", manifest], "usage:"),
        ]
        for args, word in cases:
            rc, out, err = run(*args)
            if word is None:  # a valid JSON value that is not an object: just invalid
                check(rc == 1, "%s: rc %d: %s %s", args, rc, out, err)
                continue
            check(rc == 2, "%s: rc %d, expected 2: %s %s", args, rc, out, err)
            check(word in err, "%s: stderr does not say %r: %s", args, word, err)
            check(out == "", "%s: stdout not empty: %s", args, out)
        with open(os.path.join(tmp, "latin1.json"), "wb") as f:
            f.write(b"{\"webhookUrl\": \"https://hooks.slack.com/\xe9\"}")
        rc, out, err = run(manifest, os.path.join(tmp, "latin1.json"))
        check(rc == 2 and "not valid JSON" in err, "latin-1 config: rc %d: %s", rc, err)

        p = subprocess.run([DAEMON, "config", "--help"], stdout=subprocess.PIPE, timeout=30)
        check(p.returncode == 0 and b"config check MANIFEST" in p.stdout, "--help: %r", p.stdout)


main(test, start=False)
