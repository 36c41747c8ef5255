#!/usr/bin/env python3
"""Durable events (issue 14): POST /api/events with a database answers 202
after the commit. Prints, from one run on one throwaway PostgreSQL (the test
harness's: fsync off, as the tests run it):

  durable_events_per_s_{1,2,3}d  events stored per second with 1, 2, 3 daemons
                                 (8 clients spread over them, batches of B,
                                 the counter plugin installed: 202s per second)
  durable_delivered_per_s_{1,2,3}d  the same events from the first POST until
                                 the counter plugin acknowledged every one (its
                                 delivery owned by one of the daemons: each
                                 event once, the sum over the daemons checked)
  durable_memory_events_per_s    the same clients against a daemon without a
                                 database (--plugin counter): the in-memory door
  durable_copy_baseline_per_s    the same rows inserted by psql \\copy
  durable_ratio_1d               durable_events_per_s_1d / the COPY baseline
  durable_event_latency_p99_us   single-event POSTs, 4 clients, one daemon
  durable_cpu_{pg,daemon}_us_1d  CPU (user + system, /proc) per accepted event of
                                 the cluster's backends and of the daemon while
                                 the 1-daemon figure was taken: what load barely
                                 moves, unlike the rates

The clients are bench/durable_client (C, one thread and one keep-alive
connection each): with Python clients the figure was partly the client's
(8 threads took ~1.7 us of CPU per event on the 2 cores the daemon and
PostgreSQL share). SS_DURABLE_CLIENT names another client binary (to drive
an older build's daemon with this one).

    bench/durable.py ROOT BUILDDIR [EVENTS] [BATCH]"""
import os
import subprocess
import sys
import time

root, build = sys.argv[1], sys.argv[2]
total = int(sys.argv[3]) if len(sys.argv) > 3 else 200000
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 500
os.environ["SS_BUILD_ROOT"] = os.path.abspath(build)
sys.path.insert(0, os.path.join(root, "tests", "integration", "pg"))
import pgharness as h  # noqa: E402

CLIENTS = 8


CLIENT = os.environ.get("SS_DURABLE_CLIENT") or os.path.join(build, "bench", "durable_client")


def client(daemons, *args):
    """Runs the C client against daemons; its figures as {name: value}."""
    env = dict(os.environ, SS_TOKEN=daemons[0].token or "")
    r = subprocess.run([CLIENT, args[0], ",".join(str(d.port) for d in daemons),
                        *map(str, args[1:])], env=env, stdout=subprocess.PIPE, text=True)
    assert r.returncode == 0, (r.returncode, r.stdout)
    return {ln.split()[0]: float(ln.split()[1]) for ln in r.stdout.splitlines()}


def run_clients(daemons, n_events):
    per = n_events // (CLIENTS * batch)
    return client(daemons, "batches", CLIENTS, per, batch)["events_per_s"]


def cpu_s(pids):
    """User + system CPU seconds of pids so far (exited ones count 0)."""
    tck, total = os.sysconf("SC_CLK_TCK"), 0.0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tck
        except (OSError, IndexError, ValueError):
            pass
    return total


def delivered(ds):
    """counter's acknowledged events, summed over the daemons (one of them delivers)."""
    return sum((d.runtime("counter") or {}).get("delivered", 0) for d in ds)


def memory_door():
    """The same clients against a daemon without a database: its door's rate."""
    counter = os.path.join(build, "plugins", "counter", "counter.so")
    d = h.Daemon.__new__(h.Daemon)
    d.port = h.free_port()
    d.token = None
    d.logf = open(os.path.join(h.tempdir("ss-bench-mem-"), "daemon.log"), "w")
    d.proc = subprocess.Popen([h.DAEMON, "--listen", f"127.0.0.1:{d.port}", "--plugin",
                                 counter, "--queue-max", "1000000",
                                 "--queue-bytes-max", str(1 << 30),
                                 "--bus-bytes-max", str(2 << 30)],
                                stdout=d.logf, stderr=subprocess.STDOUT)
    h.wait_for(lambda: d.request("GET", "/healthz", token="").status == 200
               if d.proc.poll() is None else None, 20, "the in-memory daemon")
    try:
        run_clients([d], CLIENTS * batch)
        return run_clients([d], total)
    finally:
        d.proc.terminate()
        d.proc.wait()
        d.logf.close()


print(f"durable_memory_events_per_s {memory_door():.0f} events/s", flush=True)
pg = h.PG()
try:
    for n in (1, 2, 3):
        ci = pg.createdb(f"bench{n}")
        tok = h.make_token(ci, "admin", "admin")
        ds = []
        try:
            for _ in range(n):
                ds.append(h.Daemon(ci, h.tempdir("ss-bench-durable-")))
                ds[-1].token = tok
            assert ds[0].post("/api/plugins/marketplace/install/counter").status == 201
            for d in ds:
                d.wait_state("counter", "running")
            h.wait_for(lambda: pg.psql(f"bench{n}", "SELECT count(*) FROM ss_event_cursors "
                                       "WHERE plugin = 'counter' AND lease_until > now()") == "1",
                       20, "counter's lease")
            warm, n_events = CLIENTS * batch, (total // (CLIENTS * batch)) * CLIENTS * batch
            run_clients(ds, warm)
            h.wait_for(lambda: delivered(ds) >= warm, 60, "the warm-up delivered")
            t0 = time.monotonic()
            c0 = cpu_s(pg.pids()), cpu_s([d.proc.pid for d in ds])
            print(f"durable_events_per_s_{n}d {run_clients(ds, total):.0f} events/s", flush=True)
            if n == 1:
                # CPU per accepted event, which load barely moves (the rates it does).
                c1 = cpu_s(pg.pids()), cpu_s([d.proc.pid for d in ds])
                print(f"durable_cpu_pg_us_1d {(c1[0] - c0[0]) * 1e6 / n_events:.2f} us", flush=True)
                print(f"durable_cpu_daemon_us_1d {(c1[1] - c0[1]) * 1e6 / n_events:.2f} us",
                      flush=True)
            h.wait_for(lambda: delivered(ds) >= warm + n_events, 300, "every event delivered",
                       interval=0.01)
            print(f"durable_delivered_per_s_{n}d {n_events / (time.monotonic() - t0):.0f} events/s",
                  flush=True)
            # Each event once, in all: the lease kept the other daemons' hosts out of it.
            assert delivered(ds) == warm + n_events, (delivered(ds), warm + n_events)
            if n == 1:
                lat = client(ds[:1], "single", 4, 500)
                print(f"durable_event_latency_p99_us {lat['latency_p99_us']:.0f} us", flush=True)
        finally:
            for d in ds:
                d.stop()
    # The baseline: the same rows, one COPY, in the same cluster.
    rows = os.path.join(h.tempdir("ss-bench-copy-"), "rows.tsv")
    with open(rows, "w") as f:
        line = "session.created\t" + '{"session_id": "s-0001", "user": "alice", "n": 1}' + "\n"
        f.write(line * total)
    os.chmod(os.path.dirname(rows), 0o755)
    os.chmod(rows, 0o644)
    t0 = time.monotonic()
    pg.psql("bench1", f"\\copy ss_events (type, data) FROM '{rows}'")
    copy = total / (time.monotonic() - t0)
    print(f"durable_copy_baseline_per_s {copy:.0f} events/s", flush=True)
finally:
    pg.close()
