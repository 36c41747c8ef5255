#!/usr/bin/env python3
"""Plays the daemon's side of the plugin protocol against streamspace-plugin-host.

Starts the host directly, with one end of a socketpair as fd 3, stdin
/dev/null and stdout/stderr on a pipe (as the daemon does), then: reads
hello, sends init, reads ready, sends events and a ping, and finally
shutdown. It enforces what the daemon enforces: framing (length checked
before reading the body), message types per state, and deadlines. A host
that breaks any of it is killed, like the daemon would.

  run_host.py one --host H --plugin P [--name N] [--config JSON] [-- host args]
      runs one plugin and prints what happened as JSON.
  run_host.py suite --build-root B
      runs every hostile plugin and the well-behaved ones and checks
      each ending against what the sandbox promises (the meson test).
"""
import argparse
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time

MAX_FRAME = 1 << 20
LOG_LINE_MAX = 4096
HOST_TYPES = {"hello", "ready", "fail", "log", "emit", "subscribe", "storage.get",
              "storage.set", "storage.delete", "storage.list", "egress.request",
              "pong", "reply"}


def depth(v):
    if isinstance(v, dict):
        return 1 + max((depth(x) for x in v.values()), default=0)
    if isinstance(v, list):
        return 1 + max((depth(x) for x in v), default=0)
    return 0


class ProtocolError(Exception):
    pass


class Deadline(Exception):
    pass


class HostRun:
    """One host process and the daemon's end of its socket."""

    def __init__(self, host, plugin, name, extra_args=(), env=None, wrapper=()):
        self.name = name
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock = parent
        self.inbuf = b""
        self.output = b""          # everything the host wrote on stdout/stderr
        self.logs = []             # log messages received
        self.hello = None
        self.protocol_error = None
        self.killed_by_driver = None
        cfd = child.fileno()

        def to_fd3():
            # The host's protocol socket is fd 3; everything else it closes itself.
            if cfd == 3:
                os.set_inheritable(3, True)
            else:
                os.dup2(cfd, 3)

        argv = list(wrapper) + [host, "--name", name, "--plugin", plugin] + list(extra_args)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, close_fds=False,
                                     preexec_fn=to_fd3, env=env)
        child.close()
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.sock, selectors.EVENT_READ, "sock")
        self.sel.register(self.proc.stdout, selectors.EVENT_READ, "out")
        self.sock_open = True
        self.out_open = True

    # -- I/O ------------------------------------------------------------
    def _pump(self, timeout):
        """Waits up to timeout for output or socket data; False on timeout."""
        if not self.sock_open and not self.out_open:
            return False
        events = self.sel.select(timeout)
        for key, _ in events:
            if key.data == "out":
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    self.sel.unregister(self.proc.stdout)
                    self.out_open = False
                else:
                    # Keep the first and the last MiB: a flood must not eat our memory.
                    self.output += chunk
                    if len(self.output) > 2 << 20:
                        self.output = self.output[:1 << 20] + self.output[-(1 << 20):]
            else:
                try:
                    chunk = self.sock.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                if not chunk:
                    self.sel.unregister(self.sock)
                    self.sock_open = False
                else:
                    self.inbuf += chunk
                    self._check_header()
        return bool(events)

    def _check_header(self):
        # The length is checked as soon as the 4 bytes are in, before any body.
        if len(self.inbuf) >= 4:
            n = struct.unpack(">I", self.inbuf[:4])[0]
            if n == 0 or n > MAX_FRAME:
                raise ProtocolError("bad_frame: length %d" % n)

    def recv(self, timeout):
        """The next message from the host (log messages are collected on the way)."""
        end = time.monotonic() + timeout
        while True:
            if len(self.inbuf) >= 4:
                n = struct.unpack(">I", self.inbuf[:4])[0]
                if len(self.inbuf) >= 4 + n:
                    body, self.inbuf = self.inbuf[4:4 + n], self.inbuf[4 + n:]
                    try:
                        msg = json.loads(body.decode("utf-8"),
                                         parse_constant=lambda c: (_ for _ in ()).throw(
                                             ValueError("not JSON: " + c)))
                    except (UnicodeDecodeError, ValueError) as e:
                        raise ProtocolError("bad_frame: %s" % e)
                    if not isinstance(msg, dict) or not isinstance(msg.get("t"), str):
                        raise ProtocolError("bad_frame: not a message object")
                    if depth(msg) > 32:
                        raise ProtocolError("bad_frame: nesting over 32")
                    if msg["t"] not in HOST_TYPES:
                        raise ProtocolError("unknown_type: %r" % msg["t"])
                    if msg["t"] == "log":
                        if msg.get("level") not in ("debug", "info", "warn", "error") or \
                                not isinstance(msg.get("msg"), str):
                            raise ProtocolError("bad_message: log")
                        if len(msg["msg"].encode()) > LOG_LINE_MAX:
                            raise ProtocolError("bad_message: log line over log_line_max")
                        self.logs.append(msg)
                        continue
                    return msg
            if not self.sock_open:
                raise EOFError("host closed the socket")
            left = end - time.monotonic()
            if left <= 0:
                raise Deadline("no message within %.1fs" % timeout)
            self._pump(left)

    def send(self, msg):
        body = json.dumps(msg).encode()
        try:
            self.sock.sendall(struct.pack(">I", len(body)) + body)
        except (BrokenPipeError, ConnectionResetError):
            raise EOFError("host closed the socket")

    def expect(self, timeout, *types):
        msg = self.recv(timeout)
        if msg["t"] not in types:
            raise ProtocolError("out_of_state: got %s, expected %s" % (msg["t"], "/".join(types)))
        return msg

    def kill(self, why):
        if self.proc.poll() is None:
            self.killed_by_driver = why
            self.proc.kill()

    def finish(self, timeout=5):
        """Waits for the host to exit (killing it after timeout), drains its output."""
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            try:
                self._pump(0.05)
            except ProtocolError:
                pass
        if self.proc.poll() is None:
            self.kill("did not exit")
        self.proc.wait()
        while self.out_open:
            try:
                self._pump(0.5)
            except ProtocolError:
                pass
            if self.out_open and self.proc.poll() is not None:
                # Output closed only when every writer is gone; the host is.
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                self.output += chunk
        # Messages the host sent on its way out (on_unload's logs) are still buffered.
        while self.sock_open:
            try:
                if not self._pump(0.2):
                    break
            except ProtocolError:
                break
        try:
            while self.protocol_error is None:
                self.recv(0)
        except (ProtocolError, Deadline, EOFError):
            pass
        self.sock.close()
        self.proc.stdout.close()
        return self.proc.returncode

    def result(self):
        rc = self.proc.returncode
        text = self.output.decode("utf-8", "replace")
        log_text = "\n".join(m["msg"] for m in self.logs)
        return {
            "name": self.name,
            "exit": rc if rc is not None and rc >= 0 else None,
            "signal": signal.Signals(-rc).name if rc is not None and rc < 0 else None,
            "killed_by_driver": self.killed_by_driver,
            "protocol_error": self.protocol_error,
            "hello": self.hello,
            "logs": [m["msg"] for m in self.logs][:50],
            "escaped": "ESCAPED" in text or "ESCAPED" in log_text,
            "contained": "contained:" in text or "contained:" in log_text,
            "contained_lines": [l for l in text.splitlines() if l.startswith("contained:")][:500],
            "output_tail": text[-2000:],
            "output_bytes": len(self.output),
        }


def run_plugin(host, plugin, name, config=None, extra_args=(), events=3, handshake_timeout=5.0,
               event_timeout=5.0, steps=None, refuse_subscribe=False, wrapper=()):
    """Runs the whole conversation; returns the result dict. steps collects how far it got."""
    steps = steps if steps is not None else []
    # The host gets our environment, as it gets the daemon's (it scrubs it itself).
    run = HostRun(host, plugin, name, extra_args, dict(os.environ), wrapper)
    try:
        hello = run.expect(handshake_timeout, "hello")
        run.hello = hello
        steps.append("hello")
        run.send({"t": "init", "protocol": 1, "config": config or {},
                  "permissions": ["read:sessions", "read:users"],
                  "limits": {"max_frame": MAX_FRAME, "event_timeout_ms": int(event_timeout * 1000),
                             "ping_interval_ms": 10000, "log_line_max": LOG_LINE_MAX}})
        ready = run.expect(handshake_timeout, "ready", "fail")
        if ready["t"] == "fail":
            steps.append("fail")
            run.finish()
            return run.result()
        steps.append("ready")
        next_id = 1
        for i in range(events):
            evtype = ["session.created", "user.login", "session.stopped"][i % 3]
            run.send({"t": "event", "id": next_id, "type": evtype,
                      "ts": int(time.time() * 1000),
                      "data": {"id": "s-%d" % i, "user": "alice", "t0_ns": time.monotonic_ns()}})
            while True:
                r = run.expect(event_timeout, "reply", "subscribe")
                if r["t"] == "subscribe":
                    if refuse_subscribe:
                        run.send({"t": "reply", "id": r["id"], "error": {
                            "code": "permission_denied", "message": "not for you"}})
                    else:
                        run.send({"t": "reply", "id": r["id"], "ok": True})
                    continue
                break
            if r.get("id") != next_id:
                raise ProtocolError("bad_message: reply to %r, expected %d" % (r.get("id"), next_id))
            next_id += 1
            steps.append("event")
        run.send({"t": "ping", "id": next_id})
        pong = run.expect(event_timeout, "pong")
        if pong.get("id") != next_id:
            raise ProtocolError("bad_message: pong id")
        steps.append("pong")
        run.send({"t": "shutdown"})
        run.finish()
        steps.append("shutdown")
    except ProtocolError as e:
        run.protocol_error = str(e)
        run.kill("protocol")
        run.finish()
    except Deadline as e:
        run.kill("deadline: " + str(e))
        run.finish()
    except EOFError:
        run.finish()
    res = run.result()
    res["steps"] = steps
    return res


# ---- the hostile suite ---------------------------------------------------------------

# How each attack may end. Tags:
#   sigsys     killed by the seccomp filter
#   contained  the plugin saw the attempt fail (EPERM/EACCES/...) and said so
#   rlimit     killed or stopped by a resource limit (SIGXCPU/SIGKILL/SIGABRT at RLIMIT_AS)
#   deadline   the daemon's deadline (handshake/event) killed it
#   protocol   the daemon saw a protocol error and killed it
#   crash      died of its own signal (SIGSEGV, SIGABRT)
#   clean      ran the whole conversation and exited 0
# For each attack: (allowed endings for the event/on_load variant, for the -ctor variant).
# Opening a file while serving is refused with EACCES, not killed (filter.c, serving_refuse:
# localtime and the processor count open files), so the file attacks end contained.
ATTACKS = {
    "read-passwd":   ({"contained"}, {"contained"}),
    "write-tmp":     ({"contained"}, {"contained"}),
    "list-root":     ({"contained"}, {"contained"}),
    "socket-inet":   ({"sigsys"}, {"contained"}),
    "connect-tcp":   ({"sigsys"}, {"contained"}),
    "exec-sh":       ({"sigsys"}, {"contained"}),
    "fork":          ({"sigsys"}, {"contained"}),
    "thread":        ({"sigsys"}, {"contained"}),
    "ptrace-parent": ({"sigsys"}, {"contained"}),
    "kill-parent":   ({"sigsys"}, {"contained"}),
    "mmap-exec":     ({"sigsys"}, {"contained"}),
    "alloc":         ({"rlimit", "contained"}, {"rlimit", "contained"}),
    "spin":          ({"rlimit", "deadline"}, {"rlimit", "deadline"}),
    "sleep":         ({"deadline"}, {"deadline"}),
    "flood-stderr":  ({"clean"}, {"clean"}),
    "frame-huge":    ({"protocol"}, {"protocol"}),
    "frame-garbage": ({"protocol"}, {"protocol"}),
    "out-of-state":  ({"protocol"}, {"protocol"}),
    "segfault":      ({"crash"}, {"crash"}),
    "abort":         ({"crash"}, {"crash"}),
    "proc-self-mem": ({"contained"}, {"contained"}),
    "unshare":       ({"sigsys"}, {"contained"}),
    "undo-flags":    ({"sigsys"}, {"contained"}),
}

# Attacks whose constructor variant stops the handshake itself: no hello to expect.
NO_HELLO_CTOR = {"spin", "sleep", "frame-huge", "frame-garbage", "out-of-state", "segfault",
                 "abort"}


def classify(res, attack):
    sig = res["signal"]
    if res["protocol_error"]:
        return "protocol"
    if res["killed_by_driver"] and res["killed_by_driver"].startswith("deadline"):
        return "deadline"
    if sig == "SIGSYS":
        return "sigsys"
    if sig in ("SIGXCPU",) or (attack in ("alloc", "spin") and sig in ("SIGKILL", "SIGABRT")):
        return "rlimit"
    if attack == "alloc" and res["exit"] not in (None, 0) and "out of memory" in res["output_tail"]:
        return "rlimit"
    if sig in ("SIGSEGV", "SIGABRT", "SIGBUS") or (
            attack == "segfault" and res["exit"] not in (None, 0)
            and "SEGV" in res["output_tail"]):
        return "crash"
    if res["contained"] and res["exit"] == 0 and "shutdown" in res.get("steps", []):
        return "contained"
    if res["exit"] == 0 and "shutdown" in res.get("steps", []):
        return "clean"
    return "other(exit=%s signal=%s)" % (res["exit"], sig)


def tcp_listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    s.setblocking(False)
    return s


def listener_got_connection(s):
    try:
        c, _ = s.accept()
        c.close()
        return True
    except BlockingIOError:
        return False


def check_good(host, build_root, failures):
    """The shipped plugins run the whole conversation in the sandbox."""
    for name in ("hello", "echo", "counter", "myplugin"):
        plugin = os.path.join(build_root, "plugins", name, name + ".so")
        if name == "myplugin":  # the SDK template, built beside the shipped plugins
            plugin = os.path.join(build_root, "plugins", name + ".so")
        res = run_plugin(host, plugin, name, config={"greeting": "hi"}, events=3)
        ok = res["exit"] == 0 and res["steps"][-1:] == ["shutdown"] and not res["escaped"]
        layers = res["hello"]["sandbox"] if res["hello"] else None
        print("%-22s %s steps=%s layers=%s" % (name, "ok" if ok else "FAIL",
                                                ",".join(res["steps"]), json.dumps(layers)))
        if not ok:
            failures.append((name, res))
            continue
        if name == "echo" and not any(l.startswith("echo session.created 1") for l in res["logs"]):
            failures.append((name + ": no echo line", res))
        if name == "myplugin" and "session s-0 created (1 so far)" not in res["logs"]:
            failures.append((name + ": template did not count the session", res))
        if name == "hello" and not any("s-0" in l for l in res["logs"]):
            failures.append((name + ": event data not logged", res))


def host_protocol():
    """The newest protocol host and daemon speak: SS_PROTOCOL_VERSION of proto/msg.h."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto", "msg.h")
    with open(src) as f:
        for line in f:
            if line.startswith("#define SS_PROTOCOL_VERSION "):
                return int(line.split()[2])
    raise RuntimeError("SS_PROTOCOL_VERSION not found in " + src)


def init_msg(config=None, protocol=1):
    return {"t": "init", "protocol": protocol, "config": config or {},
            "permissions": ["read:sessions", "read:users"],
            "limits": {"max_frame": MAX_FRAME, "event_timeout_ms": 5000,
                       "ping_interval_ms": 10000, "log_line_max": LOG_LINE_MAX}}


def scripted(host, plugin, name, script, extra_args=()):
    """Runs script(run) against a fresh host; returns (exit status, output, run)."""
    run = HostRun(host, plugin, name, extra_args, dict(os.environ))
    try:
        script(run)
    except (ProtocolError, Deadline, EOFError) as e:
        run.protocol_error = str(e)
    run.finish()
    return run.proc.returncode, run.output.decode("utf-8", "replace"), run


def to_serving(run, config=None):
    run.expect(5, "hello")
    run.send(init_msg(config))
    run.expect(5, "ready")


def check_protocol(host, build_root, failures):
    """The host's side of PROTOCOL.md: exit statuses, refusals, config, late subscriptions."""
    plug = lambda n: os.path.join(build_root, "plugins", n, n + ".so")
    test = lambda n: os.path.join(build_root, "tests", "hostile", n + ".so")
    results = []

    def expect(label, ok, detail):
        print("%-34s %s" % (label, "ok" if ok else "FAIL " + detail[-600:]))
        if not ok:
            failures.append((label, {"detail": detail}))

    # Command line and loading.
    p = subprocess.run([host], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    expect("usage: exit 64", p.returncode == 64, p.stderr)
    rc, out, _ = scripted(host, plug("hello"), "echo", lambda r: r.expect(5, "hello"))
    expect("name mismatch: exit 65", rc == 65 and "'hello'" in out and "'echo'" in out, out)
    rc, out, _ = scripted(host, test("bad-abi"), "bad-abi", lambda r: r.expect(5, "hello"))
    expect("ABI mismatch: exit 65", rc == 65 and "99" in out and "ABI 1" in out, out)
    rc, out, _ = scripted(host, "/nonexistent/x/x.so", "x", lambda r: r.expect(5, "hello"))
    expect("missing plugin: exit 65", rc == 65, out)
    # A directory the hosts' user (nobody, for a root driver) cannot enter: 65, naming both.
    import shutil
    import tempfile
    closed = tempfile.mkdtemp(prefix="ss-closed.")  # 0700, root's
    shutil.copy(plug("hello"), closed)
    rc, out, _ = scripted(host, os.path.join(closed, "hello.so"), "hello",
                          lambda r: r.expect(5, "hello"))
    shutil.rmtree(closed)
    expect("unreadable plugin directory: exit 65", rc == 65 and
           ("plugin directory %s (or hello.so in it) is not readable by uid 65534 (nobody" %
            closed) in out and "landlock" not in out, out)

    def fail_load(r):
        r.expect(5, "hello")
        r.send(init_msg())
        m = r.expect(5, "fail")
        if m.get("error", {}).get("code") != "load_failed":
            raise ProtocolError("fail without load_failed")
    rc, out, run = scripted(host, test("fail-load"), "fail-load", fail_load)
    expect("on_load fails: fail + exit 66", rc == 66 and run.protocol_error is None, out)

    # The daemon's refusals and mistakes end the host with 76.
    def reject(r):
        r.expect(5, "hello")
        r.send({"t": "reject", "error": {"code": "version_mismatch", "message": "go away"}})
    rc, out, _ = scripted(host, plug("hello"), "hello", reject)
    expect("reject: exit 76 with the reason", rc == 76 and "go away" in out, out)

    def eof(r):
        r.expect(5, "hello")
        r.sock.shutdown(socket.SHUT_RDWR)
    rc, out, _ = scripted(host, plug("hello"), "hello", eof)
    expect("daemon closes: exit 76", rc == 76, out)

    newest = host_protocol()
    bad_inits = {
        "init without config": dict(init_msg(), config=None),
        # One past the newest the host speaks.
        "init protocol newest+1": init_msg(protocol=newest + 1),
        "init protocol 0": init_msg(protocol=0),
        "init limits mistyped": dict(init_msg(), limits={"max_frame": "big"}),
        "event before init": {"t": "event", "id": 1, "type": "user.login", "ts": 0, "data": {}},
    }
    for label, msg in bad_inits.items():
        def bad(r, msg=msg):
            r.expect(5, "hello")
            if msg.get("config", 1) is None:
                del msg["config"]
            r.send(msg)
        rc, out, _ = scripted(host, plug("hello"), "hello", bad)
        expect(label + ": exit 76", rc == 76, out)
    rc, out, _ = scripted(host, plug("hello"), "hello",
                          lambda r: (r.expect(5, "hello"), r.send(init_msg(protocol=newest + 1))))
    expect("protocol mismatch names both",
           "chose protocol %d" % (newest + 1) in out and "speaks 1 to %d" % newest in out, out)

    serving_bad = {
        "unknown type": {"t": "bogus", "id": 7},
        "host-only type": {"t": "hello", "protocol": 1},
        "event without data": {"t": "event", "id": 7, "type": "user.login", "ts": 0},
        "reply to nothing": {"t": "reply", "id": 99, "ok": True},
        "second init": init_msg(),
    }
    for label, msg in serving_bad.items():
        def bad(r, msg=msg):
            to_serving(r)
            r.send(msg)
            r.recv(5)
        rc, out, _ = scripted(host, plug("hello"), "hello", bad)
        expect(label + " while serving: exit 76", rc == 76, out)

    def oversized(r):
        to_serving(r)
        r.sock.sendall(struct.pack(">I", MAX_FRAME + 1) + b"{")
        r.recv(5)
    rc, out, _ = scripted(host, plug("hello"), "hello", oversized)
    expect("frame over max_frame: exit 76", rc == 76 and "maximum" in out, out)

    # Live configuration: with on_config (hello) and without (echo).
    def config(r, want):
        to_serving(r)
        r.send({"t": "config", "id": 5, "config": {"greeting": "bonjour"}})
        m = r.expect(5, "reply")
        got = "ok" if m.get("ok") else m.get("error", {}).get("code")
        if got != want or m.get("id") != 5:
            raise ProtocolError("config reply %r" % m)
        r.send({"t": "shutdown"})
    rc, out, run = scripted(host, plug("hello"), "hello", lambda r: config(r, "ok"))
    expect("config with on_config: ok", rc == 0 and run.protocol_error is None and
           any("bonjour" in m["msg"] for m in run.logs) and
           any("goodbye" in m["msg"] for m in run.logs), out + str(run.protocol_error))
    rc, out, run = scripted(host, plug("echo"), "echo", lambda r: config(r, "unimplemented"))
    expect("config without on_config: unimplemented", rc == 0 and run.protocol_error is None,
           out + str(run.protocol_error))

    # Subscriptions made after ready go through the daemon.
    res = run_plugin(host, test("late-sub"), "late-sub", events=3)
    expect("late subscribe accepted", res["exit"] == 0 and "late user.login" in res["logs"],
           json.dumps(res))
    res = run_plugin(host, test("late-sub"), "late-sub", events=3, refuse_subscribe=True)
    expect("late subscribe refused", res["exit"] == 0 and "late user.login" not in res["logs"]
           and "refused" in res["output_tail"], json.dumps(res))

    # What a plugin logs is repaired before it reaches the daemon.
    res = run_plugin(host, test("log-abuse"), "log-abuse", events=1)
    long_ok = any(len(l) == LOG_LINE_MAX and set(l) == {"x"} for l in res["logs"])
    expect("log repair (length, UTF-8, NaN, depth)",
           res["exit"] == 0 and res["protocol_error"] is None and long_ok
           and not res["escaped"] and "done session.created" in res["logs"]
           and "invalid plugin handle" in res["output_tail"], json.dumps(res))

    # Common libc calls whose syscalls the filters do not allow work or fail with an
    # errno, in the constructor (loading filter), on_load and an event (serving filter),
    # and the plugin serves on: qsort over 1 KiB (sysinfo), sysinfo itself, the processor
    # count (/sys, sched_getaffinity), localtime (/etc/localtime), fopen, isatty, uname.
    res = run_plugin(host, test("libc-calls"), "libc-calls", events=3)
    want = []
    for phase in ("ctor", "load", "event"):
        want += ["%s: qsort sorted 4096" % phase, "%s: sysinfo -1 EPERM" % phase,
                 "%s: nprocs ok" % phase, "%s: localtime ok ok" % phase,
                 "%s: isatty 0" % phase,
                 "%s: ids ok" % phase, "%s: allowed ok" % phase]
    # Serving refuses every open; in the constructor Landlock decides.
    want += ["load: fopen -1 EACCES", "event: fopen -1 EACCES", "served 3"]
    missing = [w for w in want if w not in res["logs"]]
    expect("libc calls work or fail with an errno, never SIGSYS",
           res["exit"] == 0 and res["signal"] is None and res["steps"][-1:] == ["shutdown"]
           and not missing and any(l.startswith("load: gethostname ") for l in res["logs"]),
           "missing %s; %s" % (missing, json.dumps(res)))

    # Strict mode runs when every layer is there; sandbox-debug names the syscall.
    res = run_plugin(host, plug("hello"), "hello", extra_args=["--strict"])
    missing = res["hello"]["sandbox"]["missing"] if res["hello"] else None
    if missing:
        expect("--strict with missing layers: exit 71", res["exit"] == 71, json.dumps(res))
    else:
        expect("--strict: full run", res["exit"] == 0, json.dumps(res))
    # A kernel without user namespaces and Landlock: reported, or refused in strict mode.
    deny = [os.path.join(build_root, "tests", "hostile", "deny-layers")]
    res = run_plugin(host, plug("hello"), "hello", wrapper=deny)
    sb = res["hello"]["sandbox"] if res["hello"] else {"layers": [], "missing": []}
    want_missing = ["userns", "netns", "mntns", "ipcns", "utsns", "pidns", "landlock"]
    got_missing = [m.split(":")[0] for m in sb["missing"]]
    expect("missing layers reported", res["exit"] == 0 and got_missing == want_missing and
           "seccomp_serve" in sb["layers"] and "no_new_privs" in sb["layers"] and
           "nocaps" in sb["layers"], json.dumps(res))
    # Without Landlock the loading filter alone still refuses every write.
    res = run_plugin(host, test("write-tmp-ctor"), "write-tmp-ctor", wrapper=deny)
    expect("no Landlock: write still contained", res["exit"] == 0 and res["contained"] and
           not res["escaped"], json.dumps(res))
    res = run_plugin(host, plug("hello"), "hello", extra_args=["--strict"], wrapper=deny)
    expect("--strict without userns: exit 71 naming it", res["exit"] == 71 and res["hello"] is None
           and "userns unavailable (strict mode)" in res["output_tail"], json.dumps(res))

    res = run_plugin(host, test("exec-sh"), "exec-sh", extra_args=["--sandbox-debug"])
    expect("--sandbox-debug names the syscall", res["exit"] == 71 and
           "forbidden syscall execve" in res["output_tail"], json.dumps(res))


# What reach.c tries on every target (its calls[]), in the order it tries them: first
# the attack of issue 8 and what would follow it (each is also tried first while
# serving), then every other call of the filters' pid table.
REACH_CALLS = ["prlimit64", "kill", "setpriority", "sched_setaffinity", "ptrace",
               "process_vm_writev"]
REACH_CALLS_ALL = REACH_CALLS + [
    "getpriority", "prlimit64-get", "ioprio_get", "ioprio_set", "sched_getaffinity",
    "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler",
    "sched_getattr", "sched_rr_get_interval", "migrate_pages", "move_pages",
    "get_robust_list", "getpgid", "getsid", "setpgid", "tkill", "tgkill",
    "rt_sigqueueinfo", "pidfd_open", "kcmp", "process_vm_readv", "waitid",
    "fcntl-setown", "sched_core", "capget"]
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def proc_state(pid):
    """What reach.c would change in a process: its limits, nice and CPU affinity."""
    with open("/proc/%d/limits" % pid) as f:
        limits = f.read()
    return limits, os.getpriority(os.PRIO_PROCESS, pid), sorted(os.sched_getaffinity(pid))


def host_plugin_pid(pid, timeout=5.0):
    """The process that runs a host's plugin: the host itself, or the child it forked
    into its own PID namespace (pidns.c)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            pass
        with open("/proc/%d/status" % pid) as f:
            if "\nNSpid:\t%d\n" % pid in f.read():
                return pid  # no PID namespace: the host is the plugin's process
        time.sleep(0.01)
    return pid


def check_reach(host, build_root, failures):
    """reach.c from a constructor and while serving, against the driver (standing in for
    a root daemon), a process of the hosts' own user (a non-root daemon), a neighbour
    host's two processes and pid 1; with the host started as root and as nobody, and
    without user (hence PID) namespaces. Every call is refused with EPERM while loading
    and kills the host with SIGSYS while serving; no target changes."""
    import shutil
    import tempfile
    work = tempfile.mkdtemp(prefix="ss-reach.")
    os.chmod(work, 0o755)  # readable by nobody, the user the hosts run as
    for n in ("reach", "reach-ctor"):
        shutil.copy(os.path.join(build_root, "tests", "hostile", n + ".so"), work)
    victim = subprocess.Popen(NOBODY + ["sleep", "300"])
    neighbour = HostRun(host, os.path.join(build_root, "plugins", "hello", "hello.so"), "hello",
                        env=dict(os.environ))
    deny = [os.path.join(build_root, "tests", "hostile", "deny-layers")]
    try:
        to_serving(neighbour)
        pids = [os.getpid(), victim.pid, neighbour.proc.pid,
                host_plugin_pid(neighbour.proc.pid)]
        with open(os.path.join(work, "targets"), "w") as f:
            f.write(" ".join(str(p) for p in pids) + "\n")
        watched = sorted(set(pids + [1]))
        before = {p: proc_state(p) for p in watched}

        def expect(label, ok, res):
            changed = [p for p in watched if proc_state(p) != before[p]]
            if changed:
                ok = False
                res = dict(res, changed={p: (before[p][1:], proc_state(p)[1:]) for p in changed})
            print("%-34s %s" % (label, "ok" if ok else "FAIL"))
            if not ok:
                failures.append((label, res))

        for user, wrapper in (("root", []), ("nobody", NOBODY), ("nobody, no userns",
                                                                 NOBODY + deny)):
            res = run_plugin(host, os.path.join(work, "reach-ctor.so"), "reach-ctor",
                             wrapper=wrapper, events=1)
            out = res["output_tail"]
            refused = res["contained_lines"]
            want = ["contained: reach-ctor: %s(pid %d): Operation not permitted (errno 1)" %
                    (c, p) for c in REACH_CALLS_ALL for p in pids]
            missing = [w for w in want if w not in refused]
            expect("reach from a constructor (%s)" % user,
                   res["exit"] == 0 and not res["escaped"] and not missing and
                   "setpriority(PRIO_USER, 0): Operation not permitted" in out and
                   "kill(-1, 0): Operation not permitted" in out,
                   dict(res, missing=missing))
            for first in REACH_CALLS:
                res = run_plugin(host, os.path.join(work, "reach.so"), "reach",
                                 config={"first": first}, wrapper=wrapper, events=1)
                expect("reach while serving: %s (%s)" % (first, user),
                       classify(res, "reach") == "sigsys" and not res["escaped"] and
                       res["contained"], res)
        # The neighbour still answers, then ends cleanly.
        neighbour.send({"t": "ping", "id": 99})
        pong = neighbour.expect(5, "pong")
        neighbour.send({"t": "shutdown"})
        neighbour.finish()
        ok = pong.get("id") == 99 and neighbour.proc.returncode == 0
        print("%-34s %s" % ("reach: neighbour unharmed", "ok" if ok else "FAIL"))
        if not ok:
            failures.append(("reach: neighbour", {"rc": neighbour.proc.returncode}))
    finally:
        neighbour.kill("done")
        victim.kill()
        victim.wait()
        shutil.rmtree(work, ignore_errors=True)


def main_suite(args):
    host = os.path.join(args.build_root, "plugin-host", "streamspace-plugin-host")
    hostile = os.path.join(args.build_root, "tests", "hostile")
    failures = []
    check_good(host, args.build_root, failures)
    if not args.only:
        check_protocol(host, args.build_root, failures)
    if not args.only or "reach" in args.only.split(","):
        check_reach(host, args.build_root, failures)
    only = set(args.only.split(",")) if args.only else None
    listener = tcp_listener()
    port = listener.getsockname()[1]
    for attack, (allowed, allowed_ctor) in ATTACKS.items():
        if only and attack not in only:
            continue
        for ctor in (False, True):
            name = attack + ("-ctor" if ctor else "")
            plugin = os.path.join(hostile, name + ".so")
            extra = ["--cpu-limit", "3"] if attack == "spin" else []
            extra += ["--mem-limit", "256M"]
            res = run_plugin(host, plugin, name, config={"port": port}, extra_args=extra,
                             events=2, handshake_timeout=4.0 if attack == "sleep" else 8.0,
                             event_timeout=8.0)
            tag = classify(res, attack)
            want = allowed_ctor if ctor else allowed
            problems = []
            if res["escaped"]:
                problems.append("ESCAPED")
            if tag not in want:
                problems.append("ended %s, want %s" % (tag, "|".join(sorted(want))))
            if not (ctor and attack in NO_HELLO_CTOR) and tag != "rlimit" and res["hello"] is None:
                problems.append("no hello")
            if res["hello"] and "seccomp_serve" not in res["hello"]["sandbox"]["layers"]:
                problems.append("hello without seccomp_serve")
            if listener_got_connection(listener):
                problems.append("ESCAPED: TCP connection reached the listener")
            print("%-22s %-10s %s%s" % (name, tag, "ok" if not problems else "FAIL ",
                                        "; ".join(problems)))
            if problems:
                failures.append((name, res))
    # After all of it, a well-behaved plugin still works.
    check_good(host, args.build_root, failures)
    for name, res in failures:
        print("---- %s" % name, file=sys.stderr)
        print(json.dumps(res, indent=1), file=sys.stderr)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


def main_one(args):
    res = run_plugin(args.host, args.plugin, args.name or os.path.basename(args.plugin)[:-3],
                     config=json.loads(args.config), extra_args=args.host_args,
                     events=args.events)
    print(json.dumps(res, indent=1))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    one = sub.add_parser("one")
    one.add_argument("--host", required=True)
    one.add_argument("--plugin", required=True)
    one.add_argument("--name")
    one.add_argument("--config", default="{}")
    one.add_argument("--events", type=int, default=3)
    one.add_argument("host_args", nargs="*")
    suite = sub.add_parser("suite")
    suite.add_argument("--build-root", default=os.environ.get("SS_BUILD_ROOT"))
    suite.add_argument("--only", help="comma-separated attacks")
    args = ap.parse_args()
    if args.cmd == "one":
        return main_one(args)
    return main_suite(args)


if __name__ == "__main__":
    sys.exit(main())
