#!/usr/bin/env python3
"""Issue 13, the marketplace's detail page: GET readme/{name} answers a
plugin's README.md from the plugin directory, and only a regular file of
UTF-8 text of bounded size: a symlink, a FIFO (never waited on), a huge or
binary file is refused with 422, a plugin without one is 404."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"


def test_readme(ctx):
    d = ctx.fresh()
    slack = os.path.join(d.plugin_dir, "streamspace-slack", "README.md")
    with open(slack) as f:
        want = f.read()
    r = d.get(f"{M}/readme/streamspace-slack")
    assert r.status == 200, r
    assert r.json == {"plugin": "streamspace-slack", "format": "markdown", "readme": want}, r
    viewer = h.make_token(d.ci, "vera", "viewer", d)
    assert d.get(f"{M}/readme/streamspace-slack", token=viewer).status == 200
    assert d.get(f"{M}/readme/streamspace-slack", token="").status == 401
    r = d.get(f"{M}/readme/hello")
    assert r.status == 404 and r.json["error"]["code"] == "not_found", r
    r = d.get(f"{M}/readme/nosuch")
    assert r.status == 404, r
    r = d.get(f"{M}/readme/Bad_Name")
    assert r.status == 400 and r.json["error"]["code"] == "bad_name", r
    hello = os.path.join(d.plugin_dir, "hello", "README.md")
    # A link to a file the daemon can read is not followed.
    os.symlink("/etc/passwd", hello)
    r = d.get(f"{M}/readme/hello")
    assert r.status == 422 and "symbolic link" in r.json["error"]["message"], r
    os.unlink(hello)
    # A FIFO is refused at once, not waited on (the worker thread would hang).
    os.mkfifo(hello)
    r = d.get(f"{M}/readme/hello")
    assert r.status == 422 and "regular file" in r.json["error"]["message"], r
    os.unlink(hello)
    with open(hello, "wb") as f:
        f.write(b"caf\xe9 latin-1\n")
    r = d.get(f"{M}/readme/hello")
    assert r.status == 422 and "UTF-8" in r.json["error"]["message"], r
    with open(hello, "wb") as f:
        f.write(b"x" * (256 * 1024 + 1))
    r = d.get(f"{M}/readme/hello")
    assert r.status == 422 and "262144 bytes" in r.json["error"]["message"], r
    with open(hello, "w") as f:
        f.write("# Hello\n\nSays hello. \u2728\n")
    r = d.get(f"{M}/readme/hello")
    assert r.status == 200 and r.json["readme"] == "# Hello\n\nSays hello. \u2728\n", r
    # The daemon still serves, and the secret file's bytes never left it.
    assert d.get("/healthz", token="").status == 200


if __name__ == "__main__":
    sys.exit(h.run_with_ctx("readme", "ss-readme-", [test_readme]))
