#!/usr/bin/env python3
"""Durable events (issue 14): POST /api/events with a database answers 202
after the commit. Prints, from one run on one throwaway PostgreSQL (the test
harness's: fsync off, as the tests run it):

  durable_events_per_s_{1,2,3}d  events stored per second with 1, 2, 3 daemons
                                 (8 clients spread over them, batches of B)
  durable_copy_baseline_per_s    the same rows inserted by psql \\copy
  durable_ratio_1d               durable_events_per_s_1d / the COPY baseline
  durable_event_latency_p99_us   single-event POSTs, 4 clients, one daemon

    bench/durable.py ROOT BUILDDIR [EVENTS] [BATCH]"""
import os
import sys
import threading
import time

root, build = sys.argv[1], sys.argv[2]
total = int(sys.argv[3]) if len(sys.argv) > 3 else 200000
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 500
os.environ["SS_BUILD_ROOT"] = os.path.abspath(build)
sys.path.insert(0, os.path.join(root, "tests", "integration", "pg"))
import pgharness as h  # noqa: E402

CLIENTS = 8
EV = {"type": "session.created", "data": {"session_id": "s-0001", "user": "alice", "n": 1}}


def run_clients(daemons, n_events):
    per = n_events // (CLIENTS * batch)
    body = [EV] * batch
    errs = []

    def client(d):
        for _ in range(per):
            r = d.post("/api/events", body)
            if r.status != 202:
                errs.append(r)
                return
    ts = [threading.Thread(target=client, args=(daemons[i % len(daemons)],))
          for i in range(CLIENTS)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.monotonic() - t0
    assert not errs, errs[:2]
    return per * CLIENTS * batch / took


pg = h.PG()
try:
    for n in (1, 2, 3):
        ci = pg.createdb(f"bench{n}")
        tok = h.make_token(ci, "admin", "admin")
        ds = [h.Daemon(ci, h.tempdir("ss-bench-durable-")) for _ in range(n)]
        for d in ds:
            d.token = tok
        run_clients(ds, CLIENTS * batch)  # warm up
        print(f"durable_events_per_s_{n}d {run_clients(ds, total):.0f} events/s", flush=True)
        if n == 1:
            lat = []
            lock = threading.Lock()

            def single(d=ds[0]):
                for _ in range(500):
                    t0 = time.monotonic()
                    r = d.post("/api/events", EV)
                    assert r.status == 202, r
                    with lock:
                        lat.append(time.monotonic() - t0)
            ts = [threading.Thread(target=single) for _ in range(4)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            lat.sort()
            print(f"durable_event_latency_p99_us {lat[int(len(lat) * 0.99)] * 1e6:.0f} us",
                  flush=True)
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
