#!/usr/bin/env python3
"""Issue 13, live state: GET /api/plugins/marketplace/stream over real HTTP
on loopback (server-sent events: a snapshot, then every state change as it
happens; the bearer token required; a bounded number of clients, a slot
freed when its client goes; a heartbeat comment), and GET logs/{name}, a
plugin's recent log lines with its secrets masked."""
import json
import os
import queue
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"
WAIT = 20


class Stream:
    """One client of the stream on a raw socket; events arrive in a queue as
    (type, data) — ("comment", text) for a heartbeat — read by a thread."""

    def __init__(self, d, token):
        self.sock = socket.create_connection(("127.0.0.1", d.port), timeout=WAIT)
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.sock.sendall(f"GET {M}/stream HTTP/1.1\r\nHost: x\r\n{auth}"
                          "Accept: text/event-stream\r\n\r\n".encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            assert chunk, f"closed before the head: {self.buf!r}"
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, v in
                        (line.split(":", 1) for line in lines[1:])}
        self.events = queue.Queue()
        self.closed = threading.Event()
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()
        else:
            self.body = self.buf
            self.sock.settimeout(WAIT)
            try:
                while "content-length" in self.headers and \
                        len(self.body) < int(self.headers["content-length"]):
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        break
                    self.body += chunk
            finally:
                self.sock.close()

    def _read(self):
        self.sock.settimeout(None)
        try:
            while True:
                while b"\n\n" in self.buf:
                    block, self.buf = self.buf.split(b"\n\n", 1)
                    typ, data = "message", []
                    for line in block.decode().split("\n"):
                        if line.startswith(":"):
                            self.events.put(("comment", line[1:].strip()))
                        elif line.startswith("event: "):
                            typ = line[7:]
                        elif line.startswith("data: "):
                            data.append(line[6:])
                        elif line.startswith("retry: "):
                            typ = "retry"
                    if data:
                        self.events.put((typ, json.loads("\n".join(data))))
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buf += chunk
        except OSError:
            pass
        self.closed.set()

    def next(self, pred, what, timeout=WAIT):
        """The first event (skipping others) for which pred(type, data) holds."""
        end = time.monotonic() + timeout
        seen = []
        while time.monotonic() < end:
            try:
                typ, data = self.events.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            if pred(typ, data):
                return data
            seen.append((typ, data))
        raise AssertionError(f"no {what} on the stream; saw {seen}")

    def close(self):
        # shutdown first: a close() alone waits for the reader thread's recv to return.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def state_of(name, want):
    return lambda t, d: t == "state" and d["name"] == name and d["state"] == want


def test_auth_required(ctx):
    d = ctx.fresh()
    s = Stream(d, None)
    assert s.status == 401, s.status
    assert json.loads(s.body)["error"]["code"] == "unauthorized", s.body
    assert s.headers.get("www-authenticate") == "Bearer", s.headers
    # A viewer may watch: reading needs any valid token.
    viewer = h.make_token(d.ci, "vera", "viewer", d)
    s = Stream(d, "sst_unknown")  # after make_token: the token cache is loaded
    assert s.status == 401, s.status
    s = Stream(d, viewer)
    assert s.status == 200, s.status
    assert s.headers["content-type"] == "text/event-stream", s.headers
    assert s.headers["cache-control"] == "no-store", s.headers
    assert s.headers["connection"] == "close", s.headers
    assert "content-length" not in s.headers, s.headers
    assert s.next(lambda t, _: t == "ready", "ready") == {"count": 0}
    s.close()
    # HEAD answers the head only.
    r = d.request("HEAD", f"{M}/stream")
    assert r.status == 200 and r.headers["Content-Type"] == "text/event-stream", r


def test_crash_and_restart_seen_live(ctx):
    d = ctx.fresh(extra_args=["--stream-heartbeat-ms", "300"])
    assert d.post(f"{M}/install/hello").status == 201
    s = Stream(d, d.token)
    assert s.status == 200
    first = s.next(lambda t, x: t == "state" and x["name"] == "hello", "hello's snapshot")
    assert first["state"] == "running" and first["pid"] > 0, first
    assert s.next(lambda t, _: t == "ready", "ready") == {"count": 1}
    # The heartbeat is a comment line.
    assert s.next(lambda t, x: t == "comment", "a heartbeat") == "keep-alive"
    os.kill(first["pid"], signal.SIGKILL)
    crashed = s.next(state_of("hello", "crashed"), "crashed")
    assert crashed["crashes"] == 1 and crashed["pid"] is None, crashed
    assert crashed["last_exit"]["signal_name"] == "SIGKILL", crashed
    assert "killed by signal 9" in crashed["last_exit"]["description"], crashed
    assert "stderr" not in crashed["last_exit"], crashed
    assert crashed["restart_in_ms"] > 0, crashed
    again = s.next(state_of("hello", "running"), "running again")
    assert again["restarts"] == 1 and again["pid"] not in (None, first["pid"]), again
    assert again["last_exit"]["reason"] == "signal", again
    # What the stream said is what the API says.
    rt = d.runtime("hello")
    assert rt["pid"] == again["pid"] and rt["restarts"] == 1, rt
    # Disabled: the daemon runs it no more, and says so.
    assert d.post(f"{M}/disable/hello").status == 200
    assert s.next(lambda t, x: t == "removed", "removed") == {"name": "hello"}
    assert d.post(f"{M}/enable/hello").status == 200
    s.next(state_of("hello", "running"), "running after enable")
    s.close()


def test_client_limit_and_cleanup(ctx):
    d = ctx.fresh(extra_args=["--max-streams", "3"])
    streams = [Stream(d, d.token) for _ in range(3)]
    for s in streams:
        assert s.status == 200
        s.next(lambda t, _: t == "ready", "ready")
    extra = Stream(d, d.token)
    assert extra.status == 503, extra.status
    assert json.loads(extra.body)["error"]["code"] == "too_many_streams", extra.body
    assert extra.headers.get("retry-after") == "5", extra.headers
    # Other requests are served meanwhile.
    assert d.get(f"{M}/installed").status == 200
    # A client that goes frees its slot: the daemon sees the close.
    streams.pop().close()
    got = []

    def another():
        s = Stream(d, d.token)
        if s.status == 200:
            got.append(s)
            return True
        assert s.status == 503, s.status
        return False
    h.wait_for(another, WAIT, "a slot after a client closed")
    streams += got
    # The daemon's shutdown ends every stream; it exits 0 (ctx.cleanup checks).
    assert d.stop() == 0, d.log()[-3000:]
    for s in streams:
        assert s.closed.wait(WAIT), "a stream outlived the daemon"


def test_logs(ctx):
    d = ctx.fresh()
    assert d.post(f"{M}/install/hello").status == 201
    r = d.request("PUT", f"{M}/config/hello",
                  body={"config": {"greeting": "hi-logs", "apiKey": "s3cret-in-a-log"}})
    assert r.status == 200, r

    def lines():
        r = d.get(f"{M}/logs/hello")
        assert r.status == 200, r
        return r.json
    got = h.wait_for(lambda: (lambda j: j if any("new configuration" in x["line"]
                                                  for x in j["lines"]) else None)(lines()),
                     WAIT, "hello's log line of its new configuration")
    assert got["plugin"] == "hello" and got["count"] == len(got["lines"]), got
    text = [x["line"] for x in got["lines"]]
    assert "hello from hello 1.0.0" in text, text
    conf = [x for x in text if "new configuration" in x][0]
    assert "hi-logs" in conf and "s3cret-in-a-log" not in conf and "********" in conf, conf
    for x in got["lines"]:
        assert x["level"] in ("debug", "info", "warn", "error"), x
        assert abs(x["at"] / 1000 - time.time()) < 600, x
    # Oldest first; limit keeps the newest.
    r = d.get(f"{M}/logs/hello?limit=1")
    full = lines()["lines"]
    assert r.status == 200 and r.json["count"] == 1, r
    newest = r.json["lines"][0]
    assert newest in full and newest["at"] >= got["lines"][-1]["at"], (r, full)
    assert [x["at"] for x in full] == sorted(x["at"] for x in full), full
    for bad in ("0", "201", "x", "-1", ""):
        r = d.get(f"{M}/logs/hello?limit={bad}")
        assert r.status == 400 and r.json["error"]["code"] == "bad_request", (bad, r)
    # A crash keeps the lines: they are the plugin's, not one host's.
    os.kill(d.runtime("hello")["pid"], signal.SIGKILL)
    h.wait_for(lambda: (d.runtime("hello") or {}).get("restarts") == 1
               and d.state("hello") == "running", WAIT, "hello restarted")
    after = lines()["lines"]
    assert any("new configuration" in x["line"] for x in after), after
    # A viewer may read them; no token may not.
    viewer = h.make_token(d.ci, "vera", "viewer", d)
    assert d.get(f"{M}/logs/hello", token=viewer).status == 200
    r = d.get(f"{M}/logs/hello", token="")
    assert r.status == 401, r
    r = d.get(f"{M}/logs/Not_A_Name")
    assert r.status == 400 and r.json["error"]["code"] == "bad_name", r
    r = d.get(f"{M}/logs/nosuch")
    assert r.status == 404 and r.json["error"]["code"] == "not_found", r
    assert d.post(f"{M}/disable/hello").status == 200
    d.wait_no_runtime("hello")
    r = d.get(f"{M}/logs/hello")
    assert r.status == 404 and "disabled" in r.json["error"]["message"], r


def test_config_delivered_once(ctx):
    """A change reaches the plugin once: a PUT is applied by the verb, and
    the NOTIFY of its own row (jsonb: keys reordered) is recognised as
    nothing new; a change by SQL from outside is applied once, by its NOTIFY;
    a disable and enable starts one host. Each count is taken after a later
    change by SQL was seen applied: the NOTIFYs of one plugin are applied in
    order, so whatever an earlier change would deliver has arrived by then."""
    d = ctx.fresh()
    assert d.post(f"{M}/install/hello").status == 201
    d.wait_state("hello", "running")
    pid = d.runtime("hello")["pid"]

    def lines():
        r = d.get(f"{M}/logs/hello")
        assert r.status == 200, r
        return [x["line"] for x in r.json["lines"]]

    def count(marker):
        return sum(1 for x in lines() if "new configuration" in x and marker in x)

    def by_sql(greeting):
        # Keys in the order jsonb does not keep: its own order is another one.
        ctx.pg.psql(d.db, "UPDATE installed_plugins SET config = "
                    f"'{{\"greeting\": \"{greeting}\", \"apiKey\": \"k-{greeting}\"}}'"
                    " WHERE name = 'hello'")
        h.wait_for(lambda: count(greeting) > 0, WAIT, f"hello configured with {greeting}")

    r = d.request("PUT", f"{M}/config/hello",
                  body={"config": {"greeting": "by-put", "apiKey": "k-put"}})
    assert r.status == 200, r
    h.wait_for(lambda: count("by-put") > 0, WAIT, "hello configured by the PUT")
    by_sql("by-sql-1")
    assert count("by-put") == 1, lines()
    by_sql("by-sql-2")
    assert count("by-sql-1") == 1, lines()
    # Enable and disable: one stop, one start, nothing configured again.
    assert d.post(f"{M}/disable/hello").status == 200
    d.wait_no_runtime("hello")
    assert d.post(f"{M}/enable/hello").status == 200
    d.wait_state("hello", "running")
    started = d.runtime("hello")
    assert started["pid"] != pid, started
    by_sql("by-sql-3")
    # The log is the new record's (a disable ends the old): one on_load, and
    # the configuration it started with never handed over again by on_config.
    assert sum(1 for x in lines() if x == "by-sql-2 from hello 1.0.0") == 1, lines()
    assert count("by-sql-2") == 0, lines()
    now = d.runtime("hello")
    assert now["pid"] == started["pid"] and now["restarts"] == 0, (started, now)


if __name__ == "__main__":
    sys.exit(h.run_with_ctx("live", "ss-live-", [
        test_auth_required, test_crash_and_restart_seen_live, test_client_limit_and_cleanup,
        test_logs, test_config_delivered_once]))
