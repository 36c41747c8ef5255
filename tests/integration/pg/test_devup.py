#!/usr/bin/env python3
"""scripts/dev-up.sh: a throwaway PostgreSQL under ROOT/.dev/pg, a fresh
admin token printed with curl commands that work as printed, the daemon in
the foreground; run twice, the cluster and the working tokens are reused; run
while one runs, it refuses before touching anything; a token revoked behind
its back is replaced."""
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402


def up(root, port, flags=()):
    """dev-up.sh on root (flags go to the daemon) until it listens: (process, output)."""
    env = dict(os.environ, SS_DEV_LISTEN=f"127.0.0.1:{port}")
    env.pop("STREAMSPACE_DATABASE", None)
    p = subprocess.Popen([os.path.join(h.SOURCE, "scripts", "dev-up.sh"), root, h.BUILD,
                          h.pg_bindir()] + list(flags), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=env, text=True)
    out = []
    for line in p.stdout:
        out.append(line)
        if "listening on" in line:
            break
    return p, "".join(out)


def down(p):
    p.send_signal(signal.SIGTERM)
    rest = p.communicate(timeout=30)[0]
    return p.returncode, rest


def main():
    root = h.tempdir("ss-devup-")
    os.chmod(root, 0o755)
    pgdata = os.path.join(root, ".dev", "pg", "data")
    port = h.free_port()
    p, out = up(root, port)
    try:
        tok = re.search(r"admin token\s+(sst_\S+)", out).group(1)
        assert os.path.exists(os.path.join(pgdata, "PG_VERSION")), out
        # The admin UI's address, as printed, serves the UI; the token printed logs in to it.
        ui = re.search(r"admin UI\s+(http://\S+/admin/)", out).group(1)
        with urllib.request.urlopen(ui, timeout=15) as r:
            page = r.read().decode()
            assert r.status == 200 and "text/html" in r.headers["Content-Type"], r.headers
            assert "js/app.js" in page, page[:300]
        req = urllib.request.Request(ui.replace("/admin/", "/api/plugins/marketplace/installed"),
                                     headers={"Authorization": f"Bearer {tok}"})
        with urllib.request.urlopen(req, timeout=15) as r:
            assert r.status == 200
        curls = [ln.strip() for ln in out.splitlines() if ln.strip().startswith("curl ")]
        paths = " ".join(curls)
        for ep in ("catalog", "install/", "installed", "config/", "enable/", "disable/",
                   "uninstall/", "rate/", "ratings/", "/api/events", "repositories", "sync",
                   "rollback/"):
            assert ep in paths, f"no curl command for {ep}:\n{out}"
        env = dict(os.environ, SS_TOKEN=tok,
                   SS_SERVICE=re.search(r"export SS_TOKEN=\S+ SS_SERVICE=(\S+)", out).group(1))
        # Every printed command works as printed, in order.
        answers = {}
        for c in curls:
            r = subprocess.run(["bash", "-c", c.replace("curl -s", "curl -s -f", 1)], env=env,
                               capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, f"{c}\n{r.stdout}{r.stderr}"
            answers[c] = r.stdout
        # The marketplace's walk: counter from the repository "mine" at 1.1.0, upgraded to
        # 1.2.0 (both downloaded), rolled back to 1.1.0 from disk, uninstalled.
        walk = [json.loads(a) for c, a in answers.items() if "/counter" in c]
        assert [w["plugin"]["version"] for w in walk] == ["1.1.0", "1.2.0", "1.1.0", "1.1.0"], \
            walk
        assert walk[2]["plugin"]["previousVersion"] == "1.2.0", walk[2]
        assert "rolled back" in walk[2]["message"], walk[2]
        # No TCP socket for PostgreSQL: Unix socket only.
        psql = os.path.join(h.pg_bindir(), "psql")
        r = subprocess.run([psql if os.path.exists(psql) else "psql", "-X", "-A", "-t", "-h", os.path.join(root, ".dev", "pg"),
                            "-U", "postgres", "-d", "streamspace", "-c",
                            "SHOW listen_addresses"], capture_output=True, text=True)
        assert r.stdout.strip() == "", r
    finally:
        rc, rest = down(p)
    assert rc == 0, rest
    # Again: the cluster is reused, and so is the token that still works.
    p, out2 = up(root, port)
    try:
        assert "reusing the running PostgreSQL" in out2, out2
        assert "reusing the tokens" in out2, out2
        tok2 = re.search(r"admin token\s+(sst_\S+)", out2).group(1)
        assert tok2 == tok, out2
        d = h.Daemon.__new__(h.Daemon)
        d.port, d.token = port, tok2
        h.wait_for(lambda: d.get("/api/plugins/marketplace/catalog").status == 200, 10,
                   "the kept token to work")
        # A second `up` while this one runs: refused with the reason, nothing revoked.
        env = dict(os.environ, SS_DEV_LISTEN=f"127.0.0.1:{port}")
        r = subprocess.run([os.path.join(h.SOURCE, "scripts", "dev-up.sh"), root, h.BUILD,
                            h.pg_bindir()], capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode != 0, r
        assert f"127.0.0.1:{port} is already in use" in r.stderr, r.stderr
        assert d.get("/api/plugins/marketplace/catalog").status == 200
    finally:
        down(p)
    # A token revoked behind its back is replaced by a new one on the next `up`.
    subprocess.run([os.path.join(h.BUILD, "daemon", "streamspaced"), "token", "revoke",
                    "--name", "dev-admin", "--database",
                    f"host={os.path.join(root, '.dev', 'pg')} dbname=streamspace user=postgres"],
                   check=True, capture_output=True)
    p, out3 = up(root, port)
    try:
        tok3 = re.search(r"admin token\s+(sst_\S+)", out3).group(1)
        assert tok3 != tok and "creating the dev-admin" in out3, out3
        d = h.Daemon.__new__(h.Daemon)
        d.port, d.token = port, tok3
        h.wait_for(lambda: d.get("/api/plugins/marketplace/catalog").status == 200, 10,
                   "the new token to work")
        # (503 "cannot tell" while the cache reloads after connecting, then 401.)
        h.wait_for(lambda: d.get("/api/plugins/marketplace/catalog", token=tok).status == 401,
                   10, "the revoked token to be refused")
    finally:
        down(p)
        bindir = h.pg_bindir()
        as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(as_pg + [os.path.join(bindir, "pg_ctl"), "-D", pgdata, "-m",
                                "immediate", "stop"], capture_output=True)
        h.shutil.rmtree(root, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
