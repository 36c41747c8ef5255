"""Test harness for the registry (issue 3): a throwaway PostgreSQL and real daemons.

PG starts a private cluster: initdb into a temporary directory, a Unix socket
in that directory, no TCP (listen_addresses=''), trust authentication. As root
the server runs as the `postgres` user (initdb refuses root). Daemon runs
build/daemon/streamspaced against it on a free loopback port and speaks real
HTTP to it. Everything is stopped and removed at the end.
"""
import atexit
import glob
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("SS_BUILD_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "../../../build"))
SOURCE = os.environ.get("SS_SOURCE_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "../../.."))
DAEMON = os.path.join(BUILD, "daemon", "streamspaced")
PLUGINS = os.path.join(BUILD, "plugins")


_TEMPS = []


def tempdir(prefix):
    """A temporary directory removed when the test file ends."""
    d = tempfile.mkdtemp(prefix=prefix)
    _TEMPS.append(d)
    return d


@atexit.register
def _remove_temps():
    for d in _TEMPS:
        shutil.rmtree(d, ignore_errors=True)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def pg_bindir():
    d = os.environ.get("SS_PG_BINDIR")
    if d and os.path.exists(os.path.join(d, "initdb")):
        return d
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                   key=lambda p: int(re.sub(r"\D", "", p.split("/")[-2]) or 0))
    for d in reversed(found):
        if os.path.exists(os.path.join(d, "initdb")):
            return d
    # 77: meson's "skipped". scripts/dev installs the server, so CI never skips.
    print("PostgreSQL server binaries not found (set SS_PG_BINDIR)", file=sys.stderr)
    raise SystemExit(77)


def wait_for(pred, timeout=15.0, what="condition", interval=0.05):
    """Polls pred until it returns something truthy; fails the test on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except (OSError, http.client.HTTPException) as e:
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class PG:
    """A private PostgreSQL cluster in a temporary directory."""

    def __init__(self, tcp=False, sync_commit=False):
        # tcp: also listen on 127.0.0.1 (a free port), and connect the daemons there.
        # sync_commit: a commit survives a crash of the server (pg_ctl stop -m
        # immediate); by default commits are asynchronous, which is faster and
        # may lose the last ones to such a stop.
        self.port = free_port() if tcp else None
        self.sync_commit = sync_commit
        self.bindir = pg_bindir()
        self.dir = tempdir("ss-pg-")
        self.data = os.path.join(self.dir, "data")
        self.sock = self.dir
        self.logfile = os.path.join(self.dir, "postgres.log")
        self.as_user = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        os.chmod(self.dir, 0o755)
        self._run([os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", "postgres",
                   "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"])
        self.start()

    def _run(self, argv, check=True):
        r = subprocess.run(self.as_user + argv, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({r.returncode}): {r.stdout}")
        return r

    def start(self):
        listen = f"-c listen_addresses=127.0.0.1 -p {self.port}" if self.port else \
            "-c listen_addresses=''"
        sync = "on" if self.sync_commit else "off"
        opts = (f"-k {self.sock} {listen} -c fsync=off "
                f"-c synchronous_commit={sync} -c full_page_writes=off -c max_connections=100")
        self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-l", self.logfile,
                   "-o", opts, "-w", "-t", "30", "start"])

    def stop(self, mode="fast"):
        self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", mode, "-w",
                   "stop"], check=False)

    def pids(self):
        """The postmaster and its children (this cluster only)."""
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            master = int(f.readline())
        out = [master]
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == master:
                            out.append(int(d))
                except (OSError, IndexError, ValueError):
                    pass
        return out

    @staticmethod
    def _signal(pids, sig):
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass  # a backend that ended since it was listed (a psql that quit)

    def freeze(self):
        """Stops the server: the postmaster first, so that no backend is started after
        its children are listed; a child that ended meanwhile needs no stopping."""
        pids = self.pids()
        self._signal(pids[:1], signal.SIGSTOP)
        self._signal(self.pids(), signal.SIGSTOP)

    def thaw(self):
        self._signal(self.pids(), signal.SIGCONT)

    def conninfo(self, db):
        if self.port:
            return f"host=127.0.0.1 port={self.port} dbname={db} user=postgres"
        return f"host={self.sock} dbname={db} user=postgres"

    def createdb(self, name):
        self.psql("postgres", f'CREATE DATABASE "{name}"')
        return self.conninfo(name)

    def psql(self, db, sql):
        """Runs SQL with psql; returns the unaligned, tuples-only output."""
        psql = os.path.join(self.bindir, "psql")
        if not os.path.exists(psql):
            psql = "psql"
        r = subprocess.run([psql, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                            "-h", self.sock, *(["-p", str(self.port)] if self.port else []),
                            "-U", "postgres", "-d", db, "-c", sql],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"psql: {sql}: {r.stderr}")
        return r.stdout.strip()

    def lock_table(self, db, table):
        """A session holding table's ACCESS EXCLUSIVE lock (returned once it is granted):
        every statement on table waits until release_lock(session)."""
        psql = os.path.join(self.bindir, "psql")
        if not os.path.exists(psql):
            psql = "psql"
        p = subprocess.Popen([psql, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                              "-h", self.sock, *(["-p", str(self.port)] if self.port else []),
                              "-U", "postgres", "-d", db],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        p.stdin.write(f'BEGIN;\nLOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE;\n')
        p.stdin.flush()
        wait_for(lambda: self.psql(db, "SELECT count(*) FROM pg_locks l JOIN pg_class c"
                                   " ON c.oid = l.relation WHERE l.database = (SELECT oid"
                                   " FROM pg_database WHERE datname = current_database())"
                                   f" AND c.relname = '{table}' AND l.granted"
                                   " AND l.mode = 'AccessExclusiveLock'") == "1", 20,
                 f"the lock on {table}")
        return p

    def release_lock(self, p):
        """Ends a lock_table session (its transaction rolls back)."""
        p.stdin.close()
        p.wait(20)

    def waiting_on_lock(self, db, query_prefix):
        """How many statements starting with query_prefix wait for a lock in db."""
        return int(self.psql(db, "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                             " current_database() AND wait_event_type = 'Lock' AND"
                             f" starts_with(query, '{query_prefix}')"))

    def close(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.raw = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<{self.status} {self.raw[:300]!r}>"


def set_manifest(path, **fields):
    """Rewrites the manifest.json at path with fields set (a test's new version)."""
    with open(path) as f:
        m = json.load(f)
    m.update(fields)
    with open(path, "w") as f:
        json.dump(m, f)


def copy_plugins(workdir, plugin_src=PLUGINS):
    """<workdir>/plugins: every built plugin with a manifest, as the build tree
    has it (object directories included), for a test to change before a Daemon
    starts on it. Returns its path."""
    pd = os.path.join(workdir, "plugins")
    os.makedirs(pd)
    for name in sorted(os.listdir(plugin_src)):
        src = os.path.join(plugin_src, name)
        if os.path.exists(os.path.join(src, "manifest.json")):
            shutil.copytree(src, os.path.join(pd, name))
    return pd


class Daemon:
    """streamspaced on a real database, with its own plugin and install directories."""

    def __init__(self, conninfo, workdir, plugin_src=PLUGINS, extra_args=(), env=None,
                 wait=True):
        self.port = free_port()
        self.workdir = workdir
        os.chmod(workdir, 0o755)
        self.plugin_dir = os.path.join(workdir, "plugins")
        self.install_dir = os.path.join(workdir, "installed")
        if not os.path.exists(self.plugin_dir):
            copy_plugins(workdir, plugin_src)
        self.logpath = os.path.join(workdir, f"daemon-{self.port}.log")
        self.logf = open(self.logpath, "w")
        e = dict(os.environ)
        e["STREAMSPACE_INSTALL_DIR"] = self.install_dir
        e.pop("STREAMSPACE_DATABASE", None)
        if env:
            e.update(env)
        self.proc = subprocess.Popen(
            [DAEMON, "--listen", f"127.0.0.1:{self.port}", "--database", conninfo,
             "--plugin-dir", self.plugin_dir, *extra_args],
            stdout=self.logf, stderr=subprocess.STDOUT, env=e)
        self.token = None
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=20):
        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited with {self.proc.returncode}:\n{self.log()}")
            # The port is bound before start-up finishes; an answer means serving.
            return self.request("GET", "/healthz", token="").status == 200
        wait_for(up, timeout, "the daemon to listen")

    def log(self):
        with open(self.logpath) as f:
            return f.read()

    def wait_exit(self, timeout=20):
        """For a daemon expected to refuse to start: its exit status (killed if it does not)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the daemon did not exit:\n{self.log()}")
        finally:
            self.logf.close()

    def request(self, method, path, body=None, token=None, raw=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        h = dict(headers or {})
        tok = token if token is not None else self.token
        if tok:
            h["Authorization"] = f"Bearer {tok}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            return Response(r.status, dict(r.getheaders()), r.read().decode("utf-8", "replace"))
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def runtime(self, name):
        r = self.get(f"/api/plugins/marketplace/installed/{name}")
        if r.status != 200:
            return None
        return r.json.get("runtime")

    def state(self, name):
        rt = self.runtime(name)
        return rt.get("state") if rt else None

    def wait_state(self, name, want, timeout=20):
        return wait_for(lambda: self.state(name) == want, timeout, f"{name} to be {want}")

    def wait_no_runtime(self, name, timeout=20):
        def gone():
            r = self.get(f"/api/plugins/marketplace/installed/{name}")
            if r.status == 404:
                return True
            return r.status == 200 and r.json.get("runtime") is None
        return wait_for(gone, timeout, f"{name} to have no host")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode


def make_token(conninfo, name, role, daemon=None):
    """streamspaced token create; with daemon, waits until that daemon accepts it."""
    r = subprocess.run([DAEMON, "token", "create", "--name", name, "--role", role,
                        "--database", conninfo], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"token create failed: {r.stderr}")
    tok = r.stdout.strip()
    if daemon is not None:
        wait_for(lambda: daemon.get("/api/plugins/marketplace/installed", token=tok).status
                 == 200, 10, f"token {name} to be accepted")
    return tok


def plugin_storage(pg, d, name):
    """Plugin name's storage on d's database (d.db) as {key: value}, read from plugin_storage."""
    rows = pg.psql(d.db, f"SELECT key, value::text FROM plugin_storage WHERE plugin_name = '{name}'"
                   " ORDER BY key")
    return {k: json.loads(v) for k, v in (ln.split("|", 1) for ln in rows.splitlines() if ln)}


def fresh_daemon(pg, db):
    """A daemon on a new database db: (daemon with .db and an admin .token, conninfo,
    a service token)."""
    ci = pg.createdb(db)
    d = Daemon(ci, tempdir(f"ss-{db}-"))
    d.db = db
    d.token = make_token(ci, "admin", "admin", d)
    return d, ci, make_token(ci, "svc", "service", d)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not alive.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
    return True


class CallDriver:
    """Drives a kvdriver plugin (tests/integration/plugins/kvdriver.c): each call is a
    session.created event naming the plugin and the op; its "res {json}" log line
    is the answer."""

    def __init__(self, d, svc):
        self.d, self.svc, self.seq = d, svc, 0

    def call(self, who, op, **kw):
        """Runs one call in plugin who and returns its result object."""
        self.send(who, op, **kw)
        return self.result(who, op)

    def send(self, who, op, **kw):
        """Posts one call (accepted: with a database, stored) without waiting for it."""
        self.seq += 1
        data = dict(kw, seq=self.seq, op=op, who=who)
        r = self.d.post("/api/events", {"type": "session.created", "data": data},
                        token=self.svc)
        assert r.status == 202, r

    def result(self, who, op):
        """The answer to the call sent last."""
        pat = re.compile(r"%s: res (\{.*\})$" % re.escape(who), re.M)
        want = self.seq

        def found():
            for m in pat.finditer(self.d.log()):
                o = json.loads(m.group(1))
                if o.get("seq") == want:
                    return o
            return None
        return wait_for(found, 20, f"{who}'s answer to {op} #{want}")


class Ctx:
    """Fresh databases, each with an admin token and a daemon; cleanup stops them all."""

    def __init__(self, pg, db_prefix, dir_prefix):
        self.pg = pg
        self.n = 0
        self.daemons = []
        self.db_prefix, self.dir_prefix = db_prefix, dir_prefix

    def fresh(self, work=None, **kw):
        """A new database with an admin token, and a daemon on it (in work, when given)."""
        self.n += 1
        db = f"{self.db_prefix}{self.n}"
        ci = self.pg.createdb(db)
        tok = make_token(ci, "admin", "admin")
        d = Daemon(ci, work or tempdir(self.dir_prefix), **kw)
        d.token = tok
        d.db = db
        d.ci = ci
        self.daemons.append(d)
        return d

    def restart(self, d, **kw):
        """Stops d (it must exit 0) and starts a daemon on the same database and directories."""
        assert d.stop() == 0, d.log()[-3000:]
        self.daemons.remove(d)
        d2 = Daemon(d.ci, d.workdir, **kw)
        d2.token, d2.ci, d2.db = d.token, d.ci, d.db
        self.daemons.append(d2)
        return d2

    def cleanup(self):
        """Stops every daemon; a nonzero exit status (a crash included) fails the test."""
        bad = []
        for d in self.daemons:
            rc = d.stop()
            if rc != 0:
                bad.append(f"daemon exit status {rc}:\n{d.log()[-4000:]}")
        self.daemons = []
        assert not bad, "\n".join(bad)


def run_with_ctx(db_prefix, dir_prefix, tests):
    """main() of a test file whose tests take a Ctx: each test (or those named on the
    command line) in order, its daemons stopped after it, one cluster for all."""
    pg = PG()
    ctx = Ctx(pg, db_prefix, dir_prefix)
    only = sys.argv[1:]
    try:
        wrapped = []
        for t in tests:
            if only and t.__name__ not in only:
                continue

            def run(t=t):
                try:
                    t(ctx)
                finally:
                    ctx.cleanup()
            run.__name__ = t.__name__
            wrapped.append(run)
        return Suite().run(wrapped)
    finally:
        pg.close()


def run_cases(cases):
    """Runs each case(pg) of a test file on one throwaway cluster, as a Suite."""
    pg = PG()
    try:
        def case(fn):
            def one():
                fn(pg)
            one.__name__ = fn.__name__
            return one
        return Suite().run([case(fn) for fn in cases])
    finally:
        pg.close()


class Suite:
    """Runs test_* functions in order; prints TAP-like lines; exit status for meson."""

    def __init__(self):
        self.failed = 0
        self.passed = 0

    def run(self, tests, *args):
        for t in tests:
            name = t.__name__
            start = time.monotonic()
            try:
                t(*args)
                self.passed += 1
                log(f"ok   {name} ({time.monotonic() - start:.1f}s)")
            except Exception as e:  # noqa: BLE001 - a test failure of any kind
                self.failed += 1
                log(f"FAIL {name}: {type(e).__name__}: {e}")
                import traceback
                traceback.print_exc()
        log(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0
