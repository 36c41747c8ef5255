#!/usr/bin/env python3
"""Issue 11: installs from catalog repositories. A shipped plugin that is not
in the plugin directory installs from the shipped catalog (downloaded,
verified, unpacked on the worker, renamed into the install directory,
recorded, started) and uninstalls; bad packages, built here with
scripts/package-plugin and python's tarfile, are refused with the check that
failed (archive bombs, FIFOs, setuid bits and duplicate entries included; a
signature by a trusted key over other bytes too), and afterwards the plugin and
install directories and the tables are byte-for-byte as before."""
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import http.server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"
PACKAGE = os.path.join(h.SOURCE, "scripts", "package-plugin")


def snapshot(ctx, d):
    """The plugin and install directories (every path, its type and bytes) and the tables."""
    out = {}
    for root in (d.plugin_dir, d.install_dir):
        for dp, dns, fns in os.walk(root):
            for n in sorted(dns + fns):
                p = os.path.join(dp, n)
                if os.path.islink(p) or os.path.isdir(p):
                    out[p] = "dir" if os.path.isdir(p) else "link"
                else:
                    with open(p, "rb") as f:
                        out[p] = hashlib.sha256(f.read()).hexdigest()
    # catalog_plugins without install_count (installs ever, kept by an uninstall: checked
    # on its own) and the updated_at its update touches.
    for t, row in (("installed_plugins", "x::text"), ("plugin_storage", "x::text"),
                   ("catalog_plugins", "(to_jsonb(x) - 'install_count' - 'updated_at')::text"),
                   ("catalog_repositories", "x::text")):
        out[t] = ctx.pg.psql(d.db, f"SELECT md5(COALESCE(string_agg({row}, '|' ORDER BY"
                             f" {row}), '')) FROM {t} x")
    return out


class Zeros(io.RawIOBase):
    """n zero bytes, read in pieces (an archive bomb's content, never held in memory)."""

    def __init__(self, n):
        self.left = n

    def readable(self):
        return True

    def readinto(self, b):
        k = min(len(b), self.left)
        b[:k] = bytes(k)
        self.left -= k
        return k


def tar_bytes(members):
    """A gzip tar of (name, data or None for a directory, kind) built with tarfile."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tf:
        for name, data, kind in members:
            ti = tarfile.TarInfo(name)
            if kind == "file":
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            elif kind == "setuid":
                ti.size, ti.mode = len(data), 0o4755
                tf.addfile(ti, io.BytesIO(data))
            elif kind == "zeros":
                ti.size = data
                tf.addfile(ti, Zeros(data))
            elif kind == "fifo":
                ti.type = tarfile.FIFOTYPE
                tf.addfile(ti)
            elif kind == "symlink":
                ti.type, ti.linkname = tarfile.SYMTYPE, data
                tf.addfile(ti)
            elif kind == "hardlink":
                ti.type, ti.linkname = tarfile.LNKTYPE, data
                tf.addfile(ti)
            elif kind == "chr":
                ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
                tf.addfile(ti)
    return buf.getvalue()


def catalog_repo(ctx, d, work, entries):
    """A file:// repository of entries (each with its archive bytes), registered and synced."""
    repo = os.path.join(work, "repo")
    os.makedirs(repo, exist_ok=True)
    plugins = []
    for e, data in entries:
        rel = f"{e['name']}/{e['version']}/plugin.tar.gz"
        os.makedirs(os.path.join(repo, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(repo, rel), "wb") as f:
            f.write(data)
        if not e.get("downloadUrl", "").startswith("http"):
            e = dict(e, downloadUrl=rel)
        e.setdefault("sha256", hashlib.sha256(data).hexdigest())
        plugins.append(e)
    with open(os.path.join(repo, "catalog.json"), "w") as f:
        json.dump({"plugins": plugins}, f)
    r = d.post(f"{M}/repositories", {"name": "test", "url": "file://" + repo})
    assert r.status == 201, r
    res = d.post(f"{M}/sync?id={r.json['id']}").json["repositories"][0]
    assert res["status"] == "synced" and not res["problems"], res


def counter_package(work, version="1.0.0", key=None):
    """counter built by meson, packaged by scripts/package-plugin at version: (entry, bytes)."""
    src = os.path.join(work, f"src-{version}")
    shutil.copytree(os.path.join(h.PLUGINS, "counter"), src,
                    ignore=shutil.ignore_patterns("*.p"))
    h.set_manifest(os.path.join(src, "manifest.json"), version=version)
    out = os.path.join(work, f"pkg-{version}")
    cmd = [sys.executable, PACKAGE, src, "--out", out] + (["--key", key] if key else [])
    r = subprocess.run(cmd, capture_output=True, text=True, input="\n")
    assert r.returncode == 0, r.stderr
    with open(os.path.join(out, "counter", version, "entry.json")) as f:
        entry = json.load(f)
    with open(os.path.join(out, "counter", version, "plugin.tar.gz"), "rb") as f:
        return entry, f.read()


def without_counter(work):
    pd = h.copy_plugins(work)
    shutil.rmtree(os.path.join(pd, "counter"))
    return pd


def test_install_shipped_from_catalog(ctx):
    work = h.tempdir("ss-cati-")
    without_counter(work)
    d = ctx.fresh(work=work)
    h.wait_for(lambda: "scheduled sync done" in d.log(), what="the start-up sync")
    before = snapshot(ctx, d)
    r = d.post(f"{M}/install/counter")
    assert r.status == 201, r
    assert r.json["plugin"]["version"] == "1.0.0", r.json
    d.wait_state("counter", "running")
    inst = os.path.join(d.install_dir, "counter")
    assert os.listdir(inst) == ["1.0.0"], os.listdir(inst)
    assert os.path.exists(os.path.join(inst, "1.0.0", "counter.so")), os.listdir(inst)
    assert [n for n in os.listdir(d.install_dir) if n.startswith(".download")] == []
    row = ctx.pg.psql(d.db, "SELECT name, version, enabled FROM installed_plugins")
    assert row == "counter|1.0.0|t", row
    assert d.post(f"{M}/install/counter").status == 409
    # Counted once, per plugin: the catalog's counter shows it.
    cat = [p for p in d.get(f"{M}/catalog").json["plugins"] if p["name"] == "counter"][0]
    assert cat["installCount"] == 1 and cat["installed"], cat
    # Uninstall: host, files and row gone.
    assert d.request("DELETE", f"{M}/uninstall/counter").status == 200
    d.wait_no_runtime("counter")
    assert not os.path.exists(inst)
    after = snapshot(ctx, d)
    assert after == before, {k: (before.get(k), after.get(k)) for k in set(before) | set(after)
                             if before.get(k) != after.get(k)}


def test_bad_packages_refused(ctx):
    work = h.tempdir("ss-catb-")
    without_counter(work)
    d = ctx.fresh(work=work, extra_args=["--catalog-sync-interval", "0"])
    h.wait_for(lambda: "scheduled sync done" in d.log(), what="the start-up sync")
    good, data = counter_package(work)
    so = open(os.path.join(h.PLUGINS, "counter", "counter.so"), "rb").read()
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        manifest = tf.extractfile("manifest.json").read()

    def v(version, **kw):
        e = dict(good, version=version)
        e.pop("sha256")
        e.pop("downloadUrl")
        e.pop("signature", None)
        e.update(kw)
        return e

    def man(version, name="counter"):
        m = json.loads(manifest)
        m["version"], m["name"] = version, name
        return json.dumps(m).encode()

    cases = [  # version, entry, archive, the check
        ("9.0.1", v("9.0.1", sha256="00" * 32), data, "sha256"),
        ("9.0.2", v("9.0.2"), tar_bytes([("../evil", b"x", "file")]), "dotdot"),
        ("9.0.3", v("9.0.3"), tar_bytes([("/etc/evil", b"x", "file")]), "absolute-path"),
        ("9.0.4", v("9.0.4"), tar_bytes([("manifest.json", man("9.0.4"), "file"),
                                         ("counter.so", "/etc/passwd", "symlink")]), "symlink"),
        ("9.0.5", v("9.0.5"), tar_bytes([("manifest.json", man("9.0.5"), "file"),
                                         ("counter.so", "manifest.json", "hardlink")]),
         "hardlink"),
        ("9.0.6", v("9.0.6"), tar_bytes([("null", None, "chr")]), "device"),
        ("9.0.7", v("9.0.7"), data[: len(data) // 2], "corrupt"),
        ("9.0.8", v("9.0.8"), tar_bytes([("counter.so", so, "file")]), "manifest"),
        ("9.0.9", v("9.0.9"), tar_bytes([("manifest.json", man("9.0.9", "other"), "file"),
                                         ("counter.so", so, "file")]), "manifest"),
        ("9.0.10", v("9.0.10", arch="aarch64"), data, "arch"),
        ("9.0.11", v("9.0.11", abi=99), data, "abi"),
        ("9.0.12", v("9.0.12"), tar_bytes([("manifest.json", man("9.0.12"), "file"),
                                           ("counter.so", b"\x7fELF not really", "file")]),
         "elf"),
        # Archive bombs: 257 entries (the limit is 256), and 3 x 100 MiB of zeros (each
        # under the 128 MiB file limit, 300 MiB past the 256 MiB total) in a 1.3 MB download.
        ("9.0.13", v("9.0.13"), tar_bytes([("manifest.json", man("9.0.13"), "file")] +
                                          [(f"f{i}", b"", "file") for i in range(256)]),
         "entries"),
        ("9.0.14", v("9.0.14"), tar_bytes([("manifest.json", man("9.0.14"), "file")] +
                                          [(f"z{i}.bin", 100 << 20, "zeros") for i in range(3)]),
         "archive-bomb"),
        ("9.0.15", v("9.0.15"), tar_bytes([("manifest.json", man("9.0.15"), "file"),
                                           ("pipe", None, "fifo")]), "fifo"),
        ("9.0.16", v("9.0.16"), tar_bytes([("manifest.json", man("9.0.16"), "file"),
                                           ("counter.so", so, "setuid")]), "mode"),
        ("9.0.17", v("9.0.17"), tar_bytes([("manifest.json", man("9.0.17"), "file"),
                                           ("counter.so", so, "file"),
                                           ("counter.so", so, "file")]), "duplicate"),
    ]
    catalog_repo(ctx, d, work, [(e, a) for _, e, a, _ in cases])
    before = snapshot(ctx, d)
    for version, _, _, check in cases:
        r = d.post(f"{M}/install/counter", {"version": version})
        assert r.status == 422, (version, r)
        err = r.json["error"]
        assert err["code"] == "package_refused" and err["check"] == check, (version, check, err)
        after = snapshot(ctx, d)
        assert after == before, (version, {k: (before.get(k), after.get(k))
                                           for k in set(before) | set(after)
                                           if before.get(k) != after.get(k)})
    assert d.post(f"{M}/install/counter", {"version": "7.7.7"}).status == 404
    assert d.get("/healthz").status == 200


def test_signatures(ctx):
    work = h.tempdir("ss-cats-")
    without_counter(work)
    # Debian's minisign makes the key pair; scripts/package-plugin signs with it.
    sk, pk = os.path.join(work, "k.key"), os.path.join(work, "k.pub")
    r = subprocess.run(["minisign", "-G", "-W", "-s", sk, "-p", pk], capture_output=True)
    assert r.returncode == 0, r
    sk2, pk2 = os.path.join(work, "other.key"), os.path.join(work, "other.pub")
    subprocess.run(["minisign", "-G", "-W", "-s", sk2, "-p", pk2], check=True,
                   capture_output=True)
    d = ctx.fresh(work=work, extra_args=["--catalog-sync-interval", "0", "--catalog-dir", "",
                                         "--trusted-key", pk, "--require-signatures"])
    signed, sdata = counter_package(work, "2.0.0", key=sk)
    other, odata = counter_package(work, "2.0.1", key=sk2)
    unsigned, udata = counter_package(work, "2.0.2")
    bad = dict(signed, version="2.0.3")
    # The trusted key's signature (made by minisign) of other bytes: the key id matches,
    # the signature does not verify.
    forged = dict(other, version="2.0.4", signature=signed["signature"])
    forged.pop("sha256")
    catalog_repo(ctx, d, work, [(signed, sdata), (other, odata), (unsigned, udata),
                                (bad, odata), (forged, odata)])
    before = snapshot(ctx, d)
    for version, check in (("2.0.1", "signature-key"), ("2.0.2", "unsigned"),
                           ("2.0.3", "sha256"), ("2.0.4", "signature")):
        r = d.post(f"{M}/install/counter", {"version": version})
        assert r.status == 422 and r.json["error"]["check"] == check, (version, r)
        assert snapshot(ctx, d) == before, version
    r = d.post(f"{M}/install/counter", {"version": "2.0.0"})
    assert r.status == 201, r
    d.wait_state("counter", "running")


def test_archive_too_large(ctx):
    """A 100 MB archive (no Content-Length) is cut at the 64 MiB limit as it arrives and
    refused; the daemon is fine and nothing is left."""
    served = []

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            served.append(self.path)
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"\0" * 65536
            try:
                for _ in range(100 * 1024 * 1024 // len(chunk)):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        work = h.tempdir("ss-catl-")
        without_counter(work)
        d = ctx.fresh(work=work, extra_args=["--catalog-sync-interval", "0"])
        h.wait_for(lambda: "scheduled sync done" in d.log(), what="the start-up sync")
        good, _ = counter_package(work)
        big = dict(good, version="8.0.0", sha256="11" * 32,
                   downloadUrl=f"http://127.0.0.1:{srv.server_address[1]}/big.tar.gz")
        big.pop("signature", None)
        catalog_repo(ctx, d, work, [(big, b"")])
        before = snapshot(ctx, d)
        t0 = time.monotonic()
        r = d.post(f"{M}/install/counter", {"version": "8.0.0"})
        elapsed = time.monotonic() - t0
        assert r.status == 422 and r.json["error"]["check"] == "download", r
        assert "too-large" in r.json["error"]["message"], r
        assert served == ["/big.tar.gz"], served
        assert snapshot(ctx, d) == before
        with open(f"/proc/{d.proc.pid}/status") as f:
            rss_kb = int([ln for ln in f if ln.startswith("VmHWM:")][0].split()[1])
        assert rss_kb < 400 * 1024, rss_kb
        h.log(f"100 MB archive refused at the 64 MiB limit in {elapsed:.2f} s,"
              f" daemon peak RSS {rss_kb // 1024} MiB (ASan build)")
        assert d.get("/healthz").status == 200
    finally:
        srv.shutdown()
        srv.server_close()


def test_start_failure_leaves_nothing(ctx):
    """A package that passes every check but whose plugin fails its on_load: 422
    start_failed once the host has failed, and no files, row or host are left."""
    work = h.tempdir("ss-catf-")
    without_counter(work)
    src = os.path.join(work, "fail-load")
    os.makedirs(src)
    shutil.copy(os.path.join(h.BUILD, "tests", "hostile", "fail-load.so"), src)
    with open(os.path.join(src, "manifest.json"), "w") as f:
        json.dump({"name": "fail-load", "version": "0.0.1"}, f)
    out = os.path.join(work, "pkg")
    r = subprocess.run([sys.executable, PACKAGE, src, "--out", out], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(out, "fail-load", "0.0.1", "entry.json")) as f:
        entry = json.load(f)
    with open(os.path.join(out, "fail-load", "0.0.1", "plugin.tar.gz"), "rb") as f:
        data = f.read()
    d = ctx.fresh(work=work, extra_args=["--catalog-sync-interval", "0"])
    h.wait_for(lambda: "scheduled sync done" in d.log(), what="the start-up sync")
    catalog_repo(ctx, d, work, [(entry, data)])
    before = snapshot(ctx, d)
    r = d.post(f"{M}/install/fail-load")
    assert r.status == 422 and r.json["error"]["code"] == "start_failed", r
    assert "on_load" in r.json["error"]["message"], r
    d.wait_no_runtime("fail-load")
    assert snapshot(ctx, d) == before


if __name__ == "__main__":
    sys.exit(h.run_with_ctx("cati", "ss-cati-", [
        test_install_shipped_from_catalog, test_bad_packages_refused, test_signatures,
        test_archive_too_large, test_start_failure_leaves_nothing]))
