#!/usr/bin/env python3
"""Issue 3: two daemons on one database converge on every change, whichever
daemon (or plain SQL) makes it; PostgreSQL stopped and started under running
daemons, with a change made while they were reconnecting."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"


def pair(pg, db):
    ci = pg.createdb(db)
    tok = h.make_token(ci, "admin", "admin")
    a = h.Daemon(ci, h.tempdir("ss-a-"))
    b = h.Daemon(ci, h.tempdir("ss-b-"))
    a.token = b.token = tok
    return ci, a, b


def stop_all(*ds):
    bad = []
    for d in ds:
        rc = d.stop()
        if rc != 0:
            bad.append(f"exit {rc}:\n{d.log()[-4000:]}")
    assert not bad, "\n".join(bad)


def test_two_daemons_converge(pg):
    ci, a, b = pair(pg, "multi")
    try:
        assert a.post(f"{M}/install/hello", {"config": {"greeting": "from-a"}}).status == 201
        a.wait_state("hello", "running")
        b.wait_state("hello", "running")
        pa, pb = a.runtime("hello")["pid"], b.runtime("hello")["pid"]
        assert pa != pb  # each daemon runs its own host
        assert os.path.exists(os.path.join(b.install_dir, "hello", "1.0.0", "hello.so"))

        assert b.post(f"{M}/disable/hello").status == 200
        h.wait_for(lambda: not h.pid_alive(pa), what="A to stop hello after B disabled it")
        a.wait_no_runtime("hello")

        assert a.post(f"{M}/enable/hello").status == 200
        b.wait_state("hello", "running")
        pb = b.runtime("hello")["pid"]

        r = a.request("PUT", f"{M}/config/hello", body={"config": {"greeting": "both"}})
        assert r.status == 200, r
        h.wait_for(lambda: '"greeting":"both"' in b.log(), what="B to pass the config on")
        assert b.runtime("hello")["pid"] == pb  # live, not restarted
        assert b.get(f"{M}/installed/hello").json["config"] == {"greeting": "both"}

        pg.psql("multi", "UPDATE installed_plugins SET enabled = false WHERE name = 'hello'")
        a.wait_no_runtime("hello")
        b.wait_no_runtime("hello")
        pg.psql("multi", "UPDATE installed_plugins SET enabled = true WHERE name = 'hello'")
        a.wait_state("hello", "running")
        b.wait_state("hello", "running")
        pa, pb = a.runtime("hello")["pid"], b.runtime("hello")["pid"]

        assert b.request("DELETE", f"{M}/uninstall/hello").status == 200
        h.wait_for(lambda: not h.pid_alive(pa) and not h.pid_alive(pb), what="both to stop")
        h.wait_for(lambda: not os.path.exists(os.path.join(a.install_dir, "hello")),
                   what="A to remove the files")
        assert a.get(f"{M}/installed/hello").status == 404
    finally:
        stop_all(a, b)


def test_database_restart_under_daemons(pg):
    ci, a, b = pair(pg, "restart")
    try:
        assert a.post(f"{M}/install/hello").status == 201
        assert a.post(f"{M}/install/echo").status == 201
        a.wait_state("hello", "running")
        b.wait_state("echo", "running")
        pe = a.runtime("echo")["pid"]
        pg.stop()
        h.wait_for(lambda: a.get(f"{M}/installed").status == 503, 10, "A to notice")
        # Events are durable with a database (issue 14): while it is away they
        # are refused with 503 and Retry-After, never answered 202 and lost.
        for d in (a, b):
            r = d.post("/api/events", {"type": "session.started", "data": {}})
            assert r.status == 503 and "Retry-After" in r.headers, r
        pg.start()
        # A change made right away, likely before the daemons have reconnected:
        # missed as a notification, caught by the resync after reconnecting.
        pg.psql("restart", "UPDATE installed_plugins SET enabled = false WHERE name = 'echo'")
        h.wait_for(lambda: not h.pid_alive(pe), 30, "A to stop echo after reconnecting")
        try:
            b.wait_no_runtime("echo", 30)
        except AssertionError:
            print(b.log(), file=sys.stderr)
            print(b.get(f"{M}/installed/echo"), file=sys.stderr)
            raise
        for d in (a, b):
            h.wait_for(lambda d=d: d.get(f"{M}/catalog").status == 200, 30, "reconnect")
            h.wait_for(lambda d=d: d.post("/api/events", {"type": "session.started"}).status
                       == 202, 30, "events accepted again")
            assert d.runtime("hello")["state"] == "running"
        # One daemon holds hello's delivery lease (issue 14): the two events
        # accepted (one through each daemon) reach hello once each, in all.
        total = lambda: a.runtime("hello")["delivered"] + b.runtime("hello")["delivered"]  # noqa
        h.wait_for(lambda: total() >= 2, 20, "hello delivered")
        assert total() == 2, (a.runtime("hello"), b.runtime("hello"))
    finally:
        stop_all(a, b)


def test_concurrent_churn_converges(pg):
    # Many clients change the same plugins through both daemons at once; no
    # request fails with a 5xx, and both daemons end where the database is.
    import random
    import threading
    ci, a, b = pair(pg, "churn")
    errors, statuses = [], []
    try:
        def client(seed):
            rnd = random.Random(seed)
            for _ in range(25):
                d = rnd.choice((a, b))
                name = rnd.choice(("hello", "echo"))
                op = rnd.choice(("install", "enable", "disable", "uninstall", "config"))
                if op == "uninstall":
                    r = d.request("DELETE", f"{M}/uninstall/{name}")
                elif op == "config":
                    r = d.request("PUT", f"{M}/config/{name}",
                                  body={"config": {"n": rnd.randrange(1000)}})
                else:
                    r = d.post(f"{M}/{op}/{name}")
                statuses.append(r.status)
                if r.status >= 500 or r.status not in (200, 201, 409):
                    errors.append((op, name, r))
        threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors[:5]
        # Both successes and conflicts happened: the churn really raced.
        assert statuses.count(409) > 5 and statuses.count(200) + statuses.count(201) > 20, \
            sorted(set(statuses))
        h.log(f"churn: {len(statuses)} requests, {statuses.count(409)} conflicts")
        want = dict(line.split("|") for line in pg.psql(
            "churn", "SELECT name, enabled FROM installed_plugins").splitlines() if line)

        def converged():
            for d in (a, b):
                for name in ("hello", "echo"):
                    st = d.state(name)
                    if want.get(name) == "t":
                        if st != "running":
                            return False
                    elif st is not None:
                        return False
                    inst = os.path.exists(os.path.join(d.install_dir, name))
                    if inst != (name in want):
                        return False
            return True
        h.wait_for(converged, 30, f"both daemons to converge on {want}")
    finally:
        stop_all(a, b)


def main():
    pg = h.PG()
    suite = h.Suite()
    only = sys.argv[1:]
    tests = [t for t in (test_two_daemons_converge, test_database_restart_under_daemons,
                         test_concurrent_churn_converges)
             if not only or t.__name__ in only]
    try:
        wrapped = []
        for t in tests:
            def run(t=t):
                t(pg)
            run.__name__ = t.__name__
            wrapped.append(run)
        return suite.run(wrapped)
    finally:
        pg.close()


if __name__ == "__main__":
    sys.exit(main())
