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


class ProtocolError(Exception):
    pass


class Deadline(Exception):
    pass


class HostRun:
    """One host process and the daemon's end of its socket."""

    def __init__(self, host, plugin, name, extra_args=(), env=None):
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

        argv = [host, "--name", name, "--plugin", plugin] + list(extra_args)
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
            "output_tail": text[-2000:],
            "output_bytes": len(self.output),
        }


def run_plugin(host, plugin, name, config=None, extra_args=(), events=3, handshake_timeout=5.0,
               event_timeout=5.0, steps=None):
    """Runs the whole conversation; returns the result dict. steps collects how far it got."""
    steps = steps if steps is not None else []
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
    run = HostRun(host, plugin, name, extra_args, env)
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
ATTACKS = {
    "read-passwd":   ({"sigsys"}, {"contained"}),
    "write-tmp":     ({"sigsys"}, {"contained"}),
    "list-root":     ({"sigsys"}, {"contained"}),
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
    "proc-self-mem": ({"sigsys"}, {"contained"}),
    "unshare":       ({"sigsys"}, {"contained"}),
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
    for name in ("hello", "echo", "counter"):
        plugin = os.path.join(build_root, "plugins", name, name + ".so")
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
        if name == "hello" and not any("s-0" in l for l in res["logs"]):
            failures.append((name + ": event data not logged", res))


def main_suite(args):
    host = os.path.join(args.build_root, "plugin-host", "streamspace-plugin-host")
    hostile = os.path.join(args.build_root, "tests", "hostile")
    failures = []
    check_good(host, args.build_root, failures)
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
