#!/usr/bin/env python3
"""Issue 13, the marketplace's detail page: GET readme/{name} answers a
plugin's README.md from the plugin directory, and only a regular file of
UTF-8 text of bounded size: a symlink, a FIFO (never waited on), a huge or
binary file is refused with 422, a plugin without one is 404. A plugin
installed from a catalog repository, which is not in the plugin directory,
answers its package's README.md (its installed copy's), and after it is
uninstalled, 404 again."""
import hashlib
import json
import os
import shutil
import subprocess
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


def test_readme_catalog_installed(ctx):
    work = h.tempdir("ss-readmec-")
    shutil.rmtree(os.path.join(h.copy_plugins(work), "counter"))
    d = ctx.fresh(work=work, extra_args=["--catalog-sync-interval", "0"])
    h.wait_for(lambda: "scheduled sync done" in d.log(), what="the start-up sync")
    # counter at 3.0.0 with a README, packaged by scripts/package-plugin into a file:// repository.
    src = os.path.join(work, "src")
    shutil.copytree(os.path.join(h.PLUGINS, "counter"), src, ignore=shutil.ignore_patterns("*.p"))
    h.set_manifest(os.path.join(src, "manifest.json"), version="3.0.0")
    text = "# Counter\n\nCounts events, from a package. \u2728\n"
    with open(os.path.join(src, "README.md"), "w") as f:
        f.write(text)
    out = os.path.join(work, "pkg")
    r = subprocess.run([sys.executable, os.path.join(h.SOURCE, "scripts", "package-plugin"), src,
                        "--out", out], capture_output=True, text=True, input="\n")
    assert r.returncode == 0, r.stderr
    repo = os.path.join(work, "repo")
    os.makedirs(os.path.join(repo, "counter", "3.0.0"))
    with open(os.path.join(out, "counter", "3.0.0", "entry.json")) as f:
        entry = json.load(f)
    with open(os.path.join(out, "counter", "3.0.0", "plugin.tar.gz"), "rb") as f:
        data = f.read()
    with open(os.path.join(repo, "counter", "3.0.0", "plugin.tar.gz"), "wb") as f:
        f.write(data)
    entry.update(downloadUrl="counter/3.0.0/plugin.tar.gz", sha256=hashlib.sha256(data).hexdigest())
    with open(os.path.join(repo, "catalog.json"), "w") as f:
        json.dump({"plugins": [entry]}, f)
    r = d.post(f"{M}/repositories", {"name": "test", "url": "file://" + repo})
    assert r.status == 201, r
    assert d.post(f"{M}/sync?id={r.json['id']}").json["repositories"][0]["status"] == "synced"

    r = d.get(f"{M}/readme/counter")
    assert r.status == 404, r  # not installed, not in the plugin directory
    r = d.post(f"{M}/install/counter", {"version": "3.0.0"})
    assert r.status == 201, r
    assert not os.path.exists(os.path.join(d.plugin_dir, "counter"))
    r = d.get(f"{M}/readme/counter")
    assert r.status == 200, r
    assert r.json == {"plugin": "counter", "format": "markdown", "readme": text}, r
    assert d.request("DELETE", f"{M}/uninstall/counter").status == 200
    r = d.get(f"{M}/readme/counter")
    assert r.status == 404 and r.json["error"]["code"] == "not_found", r


if __name__ == "__main__":
    sys.exit(h.run_with_ctx("readme", "ss-readme-", [test_readme, test_readme_catalog_installed]))
