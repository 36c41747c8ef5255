#!/usr/bin/env python3
"""The scale section's database point: N distinct plugins from the plugin
directory, installed and enabled in PostgreSQL, started by the daemon at
its start-up (the registry's path, not --plugin).

    python3 bench/scale_db.py ROOT BUILDDIR [N]        (default N: 200)

N copies of plugins/counter/counter.c, each under its own name
(counter001, ...) with its manifest, go into a plugin directory; a first
daemon on a throwaway PostgreSQL (the test harness's) installs every one
through the API and is stopped. The figures are a second daemon's on the
same database and directories, as "name value unit" lines:
  scale_db_boot_ms_N          daemon exec to the Nth "ready" in its log (the
                              migrations, the registry's load of the
                              enabled rows and every host's start included)
  scale_db_pss_total_kib_N    Pss of the daemon and every process under it,
                              idle (SS_BENCH_IDLE_MS, 500 ms, after the last ready)
  scale_db_pss_daemon_kib_N   the daemon's own share
  scale_db_pss_per_host_kib_N (total - daemon) / N
SS_BENCH_SCALE_DB_ROUNDS (1) repeats the second daemon's start.
"""
import concurrent.futures
import json
import os
import resource
import subprocess
import sys
import time

root, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
N = int(sys.argv[3]) if len(sys.argv) > 3 else 200
ROUNDS = int(os.environ.get("SS_BENCH_SCALE_DB_ROUNDS", "1"))
IDLE_MS = int(os.environ.get("SS_BENCH_IDLE_MS", "500"))
os.environ["SS_BUILD_ROOT"] = build
sys.path.insert(0, os.path.join(root, "tests", "integration", "pg"))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"


def say(msg):
    print("==> " + msg, file=sys.stderr, flush=True)


def build_plugins(pd):
    """N counters in pd/counterNNN/, each with its manifest, compiled two at a time."""
    cflags = subprocess.run(["pkg-config", "--cflags", "json-c"], capture_output=True,
                            text=True, check=True).stdout.split()
    with open(os.path.join(root, "plugins", "counter", "manifest.json")) as f:
        manifest = json.load(f)

    def one(i):
        name = "counter%03d" % i
        d = os.path.join(pd, name)
        os.makedirs(d)
        os.chmod(d, 0o755)
        subprocess.run(["cc", "-O2", "-fPIC", "-shared", "-fvisibility=hidden",
                        '-DCOUNTER_NAME="%s"' % name, "-I", os.path.join(root, "sdk", "include"),
                        *cflags, os.path.join(root, "plugins", "counter", "counter.c"),
                        "-o", os.path.join(d, name + ".so")], check=True)
        m = dict(manifest, name=name, entrypoints={"main": name + ".so"})
        with open(os.path.join(d, "manifest.json"), "w") as f:
            json.dump(m, f)
        return name
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        return list(ex.map(one, range(1, N + 1)))


def pss(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree(root_pid):
    """Every process under root_pid, itself included."""
    parent = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/stat" % p) as f:
                    s = f.read()
                parent[int(p)] = int(s[s.rfind(")") + 2:].split()[1])
            except OSError:
                pass
    out = []
    for p in parent:
        q = p
        while q in parent and q > 1:
            if q == root_pid:
                out.append(p)
                break
            q = parent[q]
    return out


def ready_lines(path):
    with open(path) as f:
        return sum(1 for line in f if ": ready: pid" in line)


def stop(d):
    d.proc.terminate()
    d.proc.wait(60)
    d.logf.close()


# Each host holds a few of the daemon's descriptors (daemon/config.h).
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
work = h.tempdir("ss-bench-scale-db-")
pd = os.path.join(work, "plugins")
os.makedirs(pd)
say("scale (database): %d plugins: building them" % N)
names = build_plugins(pd)
pg = h.PG()
try:
    ci = pg.createdb("scale")
    say("scale (database): installing %d plugins through a first daemon" % N)
    d = h.Daemon(ci, work)
    try:
        d.token = h.make_token(ci, "admin", "admin", d)
        for name in names:
            r = d.post("%s/install/%s" % (M, name))
            if r.status != 201:
                raise RuntimeError("install %s: %r" % (name, r))
        for name in names:
            d.wait_state(name, "running", timeout=120)
    finally:
        stop(d)
    for rnd in range(ROUNDS):
        say("scale (database): %d plugins: the daemon's start, round %d" % (N, rnd + 1))
        t0 = time.monotonic()
        d = h.Daemon(ci, work, wait=False)
        try:
            h.wait_for(lambda: ready_lines(d.logpath) >= N or d.proc.poll() is not None, 120,
                       "every plugin ready", interval=0.002)
            t1 = time.monotonic()
            if d.proc.poll() is not None:
                raise RuntimeError("the daemon exited: %s" % d.log()[-2000:])
            print("scale_db_boot_ms_%d %d ms" % (N, (t1 - t0) * 1000), flush=True)
            time.sleep(IDLE_MS / 1000)
            total = sum(pss(p) for p in tree(d.proc.pid))
            own = pss(d.proc.pid)
            print("scale_db_pss_total_kib_%d %d KiB" % (N, total), flush=True)
            print("scale_db_pss_daemon_kib_%d %d KiB" % (N, own), flush=True)
            print("scale_db_pss_per_host_kib_%d %d KiB" % (N, (total - own) // N), flush=True)
        finally:
            stop(d)
finally:
    pg.close()
