#!/usr/bin/env python3
"""Plugin storage from one plugin (issue 10, "Benchmark") on one throwaway
PostgreSQL (the test harness's: fsync off, as the tests run it), beside the
same statements run directly in the same run.

The routed test plugin's kvbench route runs N ss_storage_set (then
ss_storage_get) calls one after another over K keys and times each call
inside the plugin (host -> daemon -> libpq -> PostgreSQL -> back). The
baseline is pgbench, one client, extended protocol, running the daemon's own
statements (kv.c: SELECT ss_storage_set(...) and the SELECT of a get) over
the same K keys of another plugin name, for the same number of calls.

  storage_set_per_s, storage_get_per_s, storage_get_p99_us, storage_set_p99_us
  storage_pg_set_per_s, storage_pg_get_per_s, storage_pg_get_p99_us,
  storage_pg_set_p99_us                                    (the baseline)
  storage_set_ratio, storage_get_ratio                     (plugin / baseline)

Each figure is the median of SS_BENCH_STORAGE_ROUNDS (3) rounds that alternate
the plugin and pgbench.

    bench/storage.py ROOT BUILDDIR [CALLS] [KEYS]"""
import glob
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys

root, build = sys.argv[1], sys.argv[2]
calls = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
keys = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
rounds = int(os.environ.get("SS_BENCH_STORAGE_ROUNDS", "3"))
os.environ["SS_BUILD_ROOT"] = os.path.abspath(build)
sys.path.insert(0, os.path.join(root, "tests", "integration", "pg"))
import pgharness as h  # noqa: E402

SET_SQL = """\\set k random(0, {last})
SELECT ss_storage_set('pgbench', 'bench-' || :k, '{{"n": 1, "text": "a benchmark value"}}'::jsonb,
  NULL::bigint, 0, NULL::jsonb, 10000::bigint, 67108864::bigint);
"""
GET_SQL = """\\set k random(0, {last})
SELECT value::text FROM plugin_storage WHERE plugin_name = 'pgbench'
  AND key = 'bench-' || :k AND (expires_at IS NULL OR expires_at > now());
"""


def pgbench(pg, db, script, n):
    """(calls per second, p99 in us) of n runs of script by one client."""
    work = h.tempdir("ss-bench-pgbench-")
    os.chmod(work, 0o777)
    path = os.path.join(work, "script.sql")
    with open(path, "w") as f:
        f.write(script.format(last=keys - 1))
    os.chmod(path, 0o644)
    r = subprocess.run(pg.as_user + [os.path.join(pg.bindir, "pgbench"), "-n", "-M", "extended",
                                     "-c", "1", "-t", str(n), "-f", path, "-l",
                                     "--log-prefix", os.path.join(work, "lat"),
                                     "-h", pg.sock, "-U", "postgres", db],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=work)
    if r.returncode != 0:
        raise RuntimeError("pgbench: " + r.stdout)
    tps = float(next(line.split("=")[1].split()[0] for line in r.stdout.splitlines()
                     if line.startswith("tps =")))
    lat = []
    for log in glob.glob(os.path.join(work, "lat.*")):
        with open(log) as f:
            lat += [int(line.split()[2]) for line in f if line.strip()]
    lat.sort()
    return tps, lat[int(len(lat) * 0.99)] if lat else 0


def plugin_dir(work):
    src = os.path.join(work, "src", "routed")
    os.makedirs(src)
    shutil.copy(os.path.join(build, "tests", "integration", "plugins", "routed.so"), src)
    with open(os.path.join(src, "manifest.json"), "w") as f:
        json.dump({"name": "routed", "version": "1.0.0", "displayName": "routed",
                   "description": "bench", "author": "bench",
                   "entrypoints": {"main": "routed.so"}, "permissions": ["routes", "storage"]}, f)
    return os.path.join(work, "src")


pg = h.PG()
d = None
try:
    ci = pg.createdb("bench")
    tok = h.make_token(ci, "admin", "admin")
    work = h.tempdir("ss-bench-storage-")
    d = h.Daemon(ci, work, plugin_src=plugin_dir(work),
                 extra_args=["--route-timeout-ms", "600000", "--log-level", "warn"])
    d.token = tok
    r = d.post("/api/plugins/marketplace/install/routed")
    assert r.status == 201, r
    h.wait_for(lambda: d.get("/api/plugins/routed/hello").status == 200, 20, "routed's routes")

    def plugin(op, n):
        # Not d.post: its 15 s timeout is a test's, and a loaded machine can take longer.
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=600)
        try:
            conn.request("POST", f"/api/plugins/routed/kvbench?op={op}&n={n}&keys={keys}",
                         headers={"Authorization": "Bearer " + tok})
            r = conn.getresponse()
            body = json.loads(r.read())
        finally:
            conn.close()
        assert r.status == 200 and body["errors"] == 0, (r.status, body)
        return body

    # Warm up both (keys exist, plans cached), then measure.
    plugin("set", keys)
    pgbench(pg, "bench", SET_SQL, keys)
    # Rounds alternate plugin and baseline, so that the shared machine's swings fall on
    # both; each figure is the median of its rounds (every round on stderr).
    res = {}
    for op, script in (("set", SET_SQL), ("get", GET_SQL)):
        runs = []
        for i in range(rounds):
            got = plugin(op, calls)
            tps, p99 = pgbench(pg, "bench", script, calls)
            runs.append((got["per_s"], got["p99_us"], tps, p99))
            print(f"storage {op} round {i + 1}: plugin {got['per_s']:.0f}/s p99 "
                  f"{got['p99_us']} us, pgbench {tps:.0f}/s p99 {p99} us", file=sys.stderr,
                  flush=True)
        med = [statistics.median(r[k] for r in runs) for k in range(4)]
        res[op] = med[0], med[2]
        print(f"storage_{op}_per_s {med[0]:.0f} ops/s", flush=True)
        print(f"storage_{op}_p99_us {med[1]:.0f} us", flush=True)
        print(f"storage_pg_{op}_per_s {med[2]:.0f} ops/s", flush=True)
        print(f"storage_pg_{op}_p99_us {med[3]:.0f} us", flush=True)
    for op in ("set", "get"):
        print(f"storage_{op}_ratio {res[op][0] / res[op][1]:.3f} ratio")
finally:
    if d is not None:
        d.stop()
    pg.close()
