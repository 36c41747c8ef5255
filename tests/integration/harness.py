"""Integration harness: runs the real streamspaced with real plugin hosts and
talks to it over loopback HTTP, the way an operator or a core service would.

Python 3 standard library only. A test script does:

    from harness import Daemon, check, main, plugin_path

    def test(d):
        d.wait_running("echo")
        ...

    main(test, plugins=["echo", "hello"])

Waits poll for a condition with a generous deadline: they decide nothing by
time, they only stop a test that would otherwise hang. On failure the
daemon's log is printed so the reason is visible in meson's error log.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

BUILD_ROOT = os.environ.get("SS_BUILD_ROOT") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
DAEMON = os.path.join(BUILD_ROOT, "daemon", "streamspaced")
HOST = os.path.join(BUILD_ROOT, "plugin-host", "streamspace-plugin-host")

# Long enough for a sanitised build on a busy 2-core machine; a hang is a failure.
WAIT = float(os.environ.get("SS_TEST_WAIT", "30"))

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "ERROR: UndefinedBehaviorSanitizer")


class TestFailure(Exception):
    pass


def check(cond, msg, *args):
    """Fails the test with msg (formatted with args) unless cond holds."""
    if not cond:
        raise TestFailure(msg % args if args else msg)


def plugin_path(name):
    return os.path.join(BUILD_ROOT, "plugins", name, name + ".so")


def hostile_path(name):
    return os.path.join(BUILD_ROOT, "tests", "hostile", name + ".so")


def test_plugin_path(name):
    """A plugin built by tests/integration/plugins/meson.build."""
    return os.path.join(BUILD_ROOT, "tests", "integration", "plugins", name + ".so")


def manifest_plugin(work, name, perms, what="test plugin", **manifest):
    """A copy of test plugin name in work/name/ beside a manifest.json granting perms
    (and any other manifest fields given); returns the path of the .so for --plugin."""
    d = os.path.join(work, name)
    os.makedirs(d)
    os.chmod(d, 0o755)
    shutil.copy(test_plugin_path(name), d)
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(dict({"name": name, "version": "1.0.0", "displayName": name,
                        "description": what, "author": "tests",
                        "entrypoints": {"main": name + ".so"}, "permissions": perms},
                       **manifest), f)
    return os.path.join(d, name + ".so")

class FakeHost:
    """fake_host.py copied where the sandboxed daemon's hosts can run it, with
    scenario "plugins": --plugin arguments naming the scenario to play."""

    def __init__(self, prefix):
        import shutil
        import stat
        import tempfile
        self.work = tempfile.mkdtemp(prefix=prefix)
        # A root daemon refuses plugin directories its hosts' user cannot read.
        os.chmod(self.work, 0o755)
        self.path = os.path.join(self.work, "fake_host.py")
        shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_host.py"),
                    self.path)
        os.chmod(self.path, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH |
                 stat.S_IXOTH)

    def plugin_arg(self, scenario):
        """A --plugin argument fake-<scenario>=<file naming the scenario>."""
        path = os.path.join(self.work, scenario + ".so")
        with open(path, "w") as f:
            f.write(scenario + "\n")
        return "fake-%s=%s" % (scenario, path)

    def remove(self):
        import shutil
        shutil.rmtree(self.work, ignore_errors=True)



def pid_gone(pid):
    """Whether a process has ended: no such pid, or a zombie nobody reaped yet."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1].startswith("Z")
    except OSError:
        return True


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self._json = None
        self.json_error = None
        try:
            self._json = json.loads(body.decode("utf-8")) if body else None
        except ValueError as e:
            self.json_error = str(e)

    @property
    def json(self):
        return self._json

    def __repr__(self):
        return "HTTP %d %r" % (self.status, self.body[:300])


class Daemon:
    """One streamspaced process on 127.0.0.1:<ephemeral port>."""

    def __init__(self, plugins=(), extra_args=(), log_level="debug"):
        self.args = [DAEMON, "--listen", "127.0.0.1:0", "--log-level", log_level]
        if os.path.exists(HOST):
            self.args += ["--host-path", HOST]
        for p in plugins:
            path = p if os.path.isabs(p) else plugin_path(p)
            self.args += ["--plugin", path]
        self.args += list(extra_args)
        self.lines = []
        self.cond = threading.Condition()
        self.proc = None
        self.port = None
        self.token = os.environ.get("SS_TEST_TOKEN")
        self.reader = None

    # ---- process ----

    def start(self):
        check(os.access(DAEMON, os.X_OK), "daemon not built: %s", DAEMON)
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        m = self.wait_line(r"listening on 127\.0\.0\.1:(\d+)")
        self.port = int(m.group(1))
        return self

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=WAIT):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("daemon did not exit within %.0f s" % timeout)
        self.reader.join(5)
        return rc

    def stop(self):
        """SIGTERM; the daemon must exit 0 with nothing from the sanitizers."""
        if not self.alive():
            rc = self.proc.returncode
        else:
            self.signal(signal.SIGTERM)
            rc = self.wait_exit()
        check(rc == 0, "daemon exited with %s after SIGTERM", rc)
        self.check_sanitizers()

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def check_sanitizers(self):
        bad = [l for l in self.snapshot() if any(m in l for m in SANITIZER_MARKS)]
        check(not bad, "sanitizer report in the daemon's output: %s", bad[:3])

    # ---- log ----

    def snapshot(self):
        with self.cond:
            return list(self.lines)

    def wait_line(self, pattern, start=0, timeout=WAIT):
        """Waits for a log line matching pattern at index >= start; returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    if m:
                        return m
                    i += 1
                if self.proc.poll() is not None and not self.reader.is_alive():
                    raise TestFailure("daemon exited (%s) before a line matching %r" %
                                      (self.proc.returncode, pattern))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TestFailure("no log line matching %r within %.0f s" %
                                      (pattern, timeout))
                self.cond.wait(min(left, 0.5))

    def matches(self, pattern, start=0):
        rx = re.compile(pattern)
        return [m for m in (rx.search(l) for l in self.snapshot()[start:]) if m]

    def plugin_lines(self, plugin, pattern=".*"):
        """Matches of pattern against the message part of "<level> <plugin>: <message>"."""
        rx = re.compile(r"^(debug|info|warn|error) %s: (.*)$" % re.escape(plugin))
        mp = re.compile(pattern)
        out = []
        for l in self.snapshot():
            m = rx.match(l)
            if m:
                mm = mp.search(m.group(2))
                if mm:
                    out.append(mm)
        return out

    def driver_call(self, who, op, seq, **kw):
        """One call of a kvdriver plugin (tests/integration/plugins/kvdriver.c): a
        session.created event naming who, op and seq; returns its "res {json}" answer."""
        self.post_event("session.created", dict(kw, seq=seq, op=op, who=who))

        def found():
            for m in self.plugin_lines(who, r"^res (\{.*\})$"):
                o = json.loads(m.group(1))
                if o.get("seq") == seq:
                    return o
            return None
        return self.wait_until("%s's answer to %s #%d" % (who, op, seq), found)

    def wait_until(self, what, fn, timeout=WAIT, interval=0.05):
        """Polls fn() until it returns something true; returns that value."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            last = fn()
            if last:
                return last
            if not self.alive():
                raise TestFailure("daemon exited (%s) while waiting for %s" %
                                  (self.proc.returncode, what))
            if time.monotonic() > deadline:
                raise TestFailure("timed out after %.0f s waiting for %s" % (timeout, what))
            time.sleep(interval)

    # ---- HTTP ----

    def request(self, method, path, body=None, headers=None, timeout=WAIT):
        """One HTTP request on a fresh connection; body may be bytes, str or a JSON value."""
        h = {}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return Response(r.status, dict(r.getheaders()), r.read())
        finally:
            conn.close()

    def post_event(self, type_, data=None):
        ev = {"type": type_}
        if data is not None:
            ev["data"] = data
        r = self.request("POST", "/api/events", ev)
        check(r.status == 202, "POST /api/events %s: %r", type_, r)
        check(isinstance(r.json.get("id"), int), "202 without an integer id: %r", r)
        return r.json["id"]

    def post_batch(self, events):
        r = self.request("POST", "/api/events", events)
        check(r.status == 202, "POST /api/events (batch of %d): %r", len(events), r)
        ids = r.json.get("ids")
        check(isinstance(ids, list) and len(ids) == len(events),
              "batch reply without one id per event: %r", r)
        return ids

    def post_raw(self, body):
        return post_raw(self, body)

    def healthy(self):
        r = self.request("GET", "/healthz")
        return r.status == 200

    def status(self, name):
        r = self.request("GET", "/api/plugins/marketplace/installed/" + name)
        check(r.status == 200, "status of %s: %r", name, r)
        return r.json

    def status_all(self):
        r = self.request("GET", "/api/plugins/marketplace/installed")
        check(r.status == 200, "plugin list: %r", r)
        return r.json

    def wait_status(self, name, pred, what, timeout=WAIT):
        """Polls the plugin's status until pred(status) holds; returns that status."""
        box = {}

        def probe():
            st = self.status(name)
            box["last"] = st
            return st if pred(st) else None
        try:
            return self.wait_until("%s: %s" % (name, what), probe, timeout)
        except TestFailure as e:
            raise TestFailure("%s; last status: %s" % (e, json.dumps(box.get("last"))))

    def wait_running(self, name):
        return self.wait_status(name, lambda s: s.get("state") == "running", "state running")

    def wait_delivered(self, name, n):
        return self.wait_status(
            name, lambda s: s.get("delivered", 0) >= n and s.get("inflight") == 0,
            "%d events delivered" % n)

    def accepted_total(self):
        """streamspace_events_accepted_total from /metrics."""
        r = self.request("GET", "/metrics")
        check(r.status == 200, "/metrics: %r", r)
        m = re.search(rb"^streamspace_events_accepted_total (\d+)$", r.body, re.M)
        check(m is not None, "no streamspace_events_accepted_total in /metrics")
        return int(m.group(1))


def check_error(label, r, want):
    """r is status want (never a 5xx) with a body {"error": {"code", "message"}}."""
    check(r.status < 500, "%s: server error %r", label, r)
    check(r.status == want, "%s: status %d, expected %d: %r", label, r.status, want, r)
    body = r.json
    check(isinstance(body, dict) and isinstance(body.get("error"), dict),
          "%s: not a JSON error body: %r (%s)", label, r, r.json_error)
    e = body["error"]
    check(isinstance(e.get("code"), str) and e["code"],
          "%s: error without a code: %r", label, body)
    check(isinstance(e.get("message"), str) and e["message"],
          "%s: error without a message: %r", label, body)


class RawResponse:
    """A response read off a raw socket (see raw_request)."""

    def __init__(self, status, body):
        self.status = status
        self.body = body
        self.json_error = None
        try:
            self.json = json.loads(body.decode("utf-8"))
        except ValueError as e:
            self.json = None
            self.json_error = str(e)

    def __repr__(self):
        return "HTTP %d %r" % (self.status, self.body[:300])


def raw_request(d, data):
    """Sends raw bytes, and reads the answer even when the server stopped
    reading early (a server may answer 413 before the body has arrived)."""
    s = socket.create_connection(("127.0.0.1", d.port), timeout=30)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp = http.client.HTTPResponse(s)
        resp.begin()
        return RawResponse(resp.status, resp.read())
    finally:
        s.close()


def post_raw(d, body):
    """POST /api/events with body over a raw socket, for bodies the server may refuse early."""
    head = ("POST /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)).encode()
    return raw_request(d, head + body)


def echo_ids(d, plugin="echo"):
    """Event ids in the order the echo plugin logged them ("echo <type> <id>")."""
    return [int(m.group(2)) for m in d.plugin_lines(plugin, r"^echo (\S+) (\d+)$")]


def wait_echo(d, n, plugin="echo"):
    """Waits until the echo plugin's log holds n events (the log is read by a
    thread, so a line can trail the status that counts its event); returns them."""
    return d.wait_until("%d echo lines from %s" % (n, plugin),
                        lambda: (lambda ids: ids if len(ids) >= n else None)(echo_ids(d, plugin)))


def wait_hello(d, n):
    """Like wait_echo, for the hello plugin's "event ..." lines."""
    return d.wait_until("%d hello lines" % n,
                        lambda: (lambda evs: evs if len(evs) >= n else None)(hello_events(d)))


def hello_events(d):
    """(id, type, data) in the order the hello plugin logged them."""
    out = []
    for m in d.plugin_lines("hello", r"^event (\S+) id=(\d+) data=(.*)$"):
        out.append((int(m.group(2)), m.group(1), json.loads(m.group(3))))
    return out


def main(test, plugins=(), extra_args=(), log_level="debug", start=True):
    """Runs test(daemon), then stops the daemon; prints its log on failure."""
    d = Daemon(plugins, extra_args, log_level)
    ok = False
    try:
        if start:
            d.start()
        test(d)
        if d.alive():
            check(d.healthy(), "daemon does not answer /healthz at the end")
            d.stop()
        elif d.proc is not None:
            # A test that ended the daemon itself must have seen a clean exit.
            check(d.proc.returncode == 0, "daemon exited with %s", d.proc.returncode)
        d.check_sanitizers()
        ok = True
    except TestFailure as e:
        print("FAIL: %s" % e)
    except Exception as e:  # a bug in the test itself still fails it, visibly
        import traceback
        traceback.print_exc()
        print("FAIL: %s: %s" % (type(e).__name__, e))
    finally:
        d.kill()
        if not ok:
            lines = d.snapshot()
            print("---- daemon log (last 200 of %d lines) ----" % len(lines))
            for l in lines[-200:]:
                print(l)
    if ok:
        print("PASS")
    sys.exit(0 if ok else 1)
