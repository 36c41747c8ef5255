#!/usr/bin/env python3
"""Bad input over HTTP gets 400 or 413 with {"error": {"code", "message"}},
never a 5xx, never an accepted event, never a crash: invalid JSON, a body
that is not an event, a missing or unknown type, data that no host could
parse, a body over 1 MiB. Events accepted at the edge of what is allowed
reach the plugin without disturbing it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, check_error, echo_ids, main, wait_echo  # noqa: E402

MIB = 1024 * 1024


def nest(k, inner=""):
    return "[" * k + inner + "]" * k


BAD = [
    # (label, body, expected status)
    ("empty body", b"", 400),
    ("not JSON", b"hello", 400),
    ("truncated", b'{"type":"session.created"', 400),
    ("trailing comma", b'{"type":"session.created",}', 400),
    ("single quotes", b"{'type':'session.created'}", 400),
    ("comment", b'{"type":"session.created"/*x*/}', 400),
    ("trailing data", b'{"type":"session.created"} x', 400),
    ("two objects", b'{"type":"session.created"}{"type":"session.created"}', 400),
    ("number", b"42", 400),
    ("string", b'"session.created"', 400),
    ("null", b"null", 400),
    ("true", b"true", 400),
    ("missing type", b'{"data":{}}', 400),
    ("type null", b'{"type":null}', 400),
    ("type number", b'{"type":5}', 400),
    ("type object", b'{"type":{"name":"session.created"}}', 400),
    ("type empty", b'{"type":""}', 400),
    ("unknown core event", b'{"type":"session.exploded"}', 400),
    ("bare class", b'{"type":"session"}', 400),
    ("wildcard", b'{"type":"session.*"}', 400),
    ("upper case", b'{"type":"Session.Created"}', 400),
    ("plugin bad name", b'{"type":"plugin.BAD.x"}', 400),
    ("plugin no event", b'{"type":"plugin.echo."}', 400),
    ("plugin no name", b'{"type":"plugin..x"}', 400),
    ("type 129 bytes", ('{"type":"plugin.a.%s"}' % ("e" * 120)).encode(), 400),
    ("type with NUL", b'{"type":"session.created\\u0000x"}', 400),
    ("type with space", b'{"type":"session.created "}', 400),
    ("data array", b'{"type":"session.created","data":[1]}', 400),
    ("data string", b'{"type":"session.created","data":"x"}', 400),
    ("data number", b'{"type":"session.created","data":1}', 400),
    ("unknown field", b'{"type":"session.created","extra":1}', 400),
    ("invalid UTF-8", b'{"type":"session.created","data":{"a":"\xff"}}', 400),
    ("overlong UTF-8", b'{"type":"session.created","data":{"a":"\xc0\xaf"}}', 400),
    ("surrogate UTF-8", b'{"type":"session.created","data":{"a":"\xed\xa0\x80"}}', 400),
    ("UTF-8 past U+10FFFF", b'{"type":"session.created","data":{"a":"\xf4\x90\x80\x80"}}', 400),
    ("invalid UTF-8 in a key", b'{"type":"session.created","data":{"\xfe":1}}', 400),
    # 61 levels: past JSON_INPUT_DEPTH (60), what a body may nest so its event fits a frame.
    ("nesting past the input limit", ('{"type":"session.created","data":{"a":%s}}' %
                                      nest(59)).encode(), 400),
    ("deep nesting", ('{"type":"session.created","data":{"a":%s}}' % nest(5000)).encode(), 400),
    ("very deep nesting", nest(200000).encode(), 400),
    ("empty batch", b"[]", 400),
    ("batch of non-objects", b"[1,2]", 400),
    ("batch with a bad type", b'[{"type":"session.created"},{"type":"nope"}]', 400),
    ("nested batch", b'[[{"type":"session.created"}]]', 400),
    ("body just over 1 MiB",
     ('{"type":"session.created","data":{"s":"%s"}}' % ("x" * MIB)).encode(), 413),
    ("batch over the count limit",
     ("[" + ",".join(['{"type":"user.login"}'] * 10001) + "]").encode(), 413),
]


def test(d):
    d.wait_running("echo")
    before = d.accepted_total()
    for label, body, want in BAD:
        r = d.post_raw(body) if len(body) > MIB else d.request("POST", "/api/events", body)
        check_error(label, r, want)
    check(d.accepted_total() == before, "bad requests accepted %d events",
          d.accepted_total() - before)

    # Other routes: JSON errors too.
    for method, path, want in [("GET", "/api/events", 405), ("GET", "/nope", 404),
                               ("DELETE", "/healthz", 405),
                               ("GET", "/api/plugins/marketplace/installed/Bad_Name", 400),
                               ("GET", "/api/plugins/marketplace/installed/nope", 404)]:
        check_error("%s %s" % (method, path), d.request(method, path), want)

    check(d.alive() and d.healthy(), "daemon unhealthy after bad requests")
    st = d.status("echo")
    check(st["crashes"] == 0 and st["delivered"] == 0, "echo disturbed: %s", st)

    # At the edges of what is allowed: accepted, and delivered without harm.
    edge = [
        ("session.created", {"a": eval(nest(58))}),   # a body of JSON_INPUT_DEPTH (60)
        ("session.created", {"s": "caf\u00e9 \u20ac \U0001f600 \ud7ff"}),
        ("session.created", {"s": "nul\u0000inside", "c": "\u0001"}),
        ("session.created", {"big": 2 ** 63 - 1, "neg": -2 ** 63, "f": 1.5e300}),
        ("plugin.a.%s" % ("e" * 119), {}),                 # a 128-byte name
        ("session.created", {"s": "y" * (MIB - 400)}),     # just under the frame limit
    ]
    ids = [d.post_event(t, data) for t, data in edge]
    # A lone surrogate escape is no character: refused, not turned into U+FFFD.
    r = d.request("POST", "/api/events", b'{"type":"user.login","data":{"s":"\\ud800"}}')
    check(r.status == 400 and "unpaired surrogate" in r.json["error"]["message"],
          "escaped lone surrogate: %r", r)
    st = d.wait_delivered("echo", len(ids))
    check(st["crashes"] == 0 and st["poisoned"] == 0, "edge events hurt echo: %s", st)
    wait_echo(d, len(ids))
    check(echo_ids(d) == ids, "echo saw %s, expected %s", echo_ids(d), ids)


main(test, plugins=["echo"])
