#!/usr/bin/env python3
"""A stand-in for streamspace-plugin-host that the daemon starts through
--host-path, to drive the daemon's side of the handshake and serving
protocol from the outside (test_handshake.py).

The daemon runs it as `fake_host.py --name NAME --plugin PATH ...` with the
protocol socket on fd 3 and stdout/stderr on its log pipe; PATH is a file
holding the name of the scenario to play. Everything the fake host observes
goes to stderr as "fake: ..." lines, which the daemon logs under the
plugin's name, so the test reads them from the daemon's log.
"""
import json
import socket
import struct
import sys
import time

MAX_FRAME = 1 << 20


def say(*parts):
    sys.stderr.write("fake: " + " ".join(str(p) for p in parts) + "\n")
    sys.stderr.flush()


class Channel:
    def __init__(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=3)
        self.buf = b""

    def send(self, obj):
        body = json.dumps(obj, separators=(",", ":")).encode()
        self.sock.sendall(struct.pack(">I", len(body)) + body)

    def recv(self):
        """The next message, or None when the daemon closed the socket."""
        while True:
            if len(self.buf) >= 4:
                (n,) = struct.unpack(">I", self.buf[:4])
                if n == 0 or n > MAX_FRAME:
                    say("bad frame length", n)
                    sys.exit(76)
                if len(self.buf) >= 4 + n:
                    body, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    return json.loads(body)
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk


def hello(ch, name, protocol=1, **extra):
    msg = {"t": "hello", "protocol": protocol, "sdk_abi": 1,
           "plugin": {"name": name, "version": "9.9.9"}, "subscriptions": [], "routes": [],
           "sandbox": {"layers": ["fake"], "missing": ["seccomp_serve"]}}
    msg.update(extra)
    ch.send(msg)


def handshake(ch, name, subscriptions=("session.*",), protocol=1):
    hello(ch, name, protocol=protocol)
    init = ch.recv()
    if init is not None and init.get("t") == "reject":
        # Turned away (strict mode, versions): report it and wait for the close.
        say("got", json.dumps(init, sort_keys=True))
        wait_for_end(ch)
    say("init", json.dumps(init, sort_keys=True))
    ch.send({"t": "ready", "subscriptions": list(subscriptions)})


def serve(ch, answer_pings=True):
    """Answers events and pings until shutdown (exit 0) or the daemon goes away."""
    while True:
        m = ch.recv()
        if m is None:
            say("daemon closed the socket")
            sys.exit(76)
        t = m.get("t")
        if t == "event":
            say("event", m["id"], m["type"])
            ch.send({"t": "reply", "id": m["id"], "ok": True})
        elif t == "ping":
            say("ping", m["id"])
            if answer_pings:
                ch.send({"t": "pong", "id": m["id"]})
        elif t == "shutdown":
            say("shutdown")
            sys.exit(0)
        else:
            say("got", json.dumps(m, sort_keys=True))


def events(ch, n):
    """The next n events (pings answered meanwhile)."""
    got = []
    while len(got) < n:
        m = ch.recv()
        if m is None:
            say("daemon closed the socket")
            sys.exit(76)
        if m.get("t") == "ping":
            ch.send({"t": "pong", "id": m["id"]})
        elif m.get("t") == "event":
            say("event", m["id"], m["type"])
            got.append(m)
        elif m.get("t") == "shutdown":
            say("shutdown")
            sys.exit(0)
    return got


# Hostile cumulative acks (protocol 4): after how many events, and what is sent.
BAD_ACKS = {
    "ack-beyond": (1, lambda ev: {"t": "ack", "n": 2, "id": ev[0]["id"]}),
    "ack-wrong-id": (2, lambda ev: {"t": "ack", "n": 1, "id": ev[1]["id"]}),
    "ack-huge": (1, lambda ev: {"t": "ack", "n": 2 ** 63 - 1, "id": ev[0]["id"]}),
    "ack-bignum": (1, lambda ev: {"t": "ack", "n": 10 ** 30, "id": ev[0]["id"]}),
    "ack-type": (1, lambda ev: {"t": "ack", "n": "1", "id": ev[0]["id"]}),
    "ack-no-id": (1, lambda ev: {"t": "ack", "n": 1}),
}


def acks(ch, scenario):
    """Protocol 4 acks, well used (ack-good) or abused (BAD_ACKS, ack-backwards)."""
    if scenario == "ack-good":
        # Three handled in one ack, the fourth failed (a reply), the fifth acked alone.
        ev = events(ch, 3)
        ch.send({"t": "ack", "n": 3, "id": ev[2]["id"]})
        ev = events(ch, 2)
        ch.send({"t": "reply", "id": ev[0]["id"],
                 "error": {"code": "handler_failed", "message": "1 of 1 handlers failed"}})
        ch.send({"t": "ack", "n": 1, "id": ev[1]["id"]})
        serve(ch)
    elif scenario == "ack-backwards":
        ev = events(ch, 2)
        ch.send({"t": "ack", "n": 1, "id": ev[0]["id"]})
        ch.send({"t": "ack", "n": 1, "id": ev[0]["id"]})
    else:
        count, make = BAD_ACKS[scenario]
        ch.send(make(events(ch, count)))
    wait_for_end(ch)


def wait_for_end(ch):
    """Reports what the daemon sends until it closes the socket or kills us."""
    while True:
        m = ch.recv()
        if m is None:
            say("daemon closed the socket")
            sys.exit(76)
        say("got", json.dumps(m, sort_keys=True))


def main():
    args = sys.argv[1:]
    name = args[args.index("--name") + 1]
    with open(args[args.index("--plugin") + 1]) as f:
        scenario = f.read().strip()
    say("scenario", scenario, "args", " ".join(args))
    ch = Channel()

    if scenario == "good":
        handshake(ch, name)
        serve(ch)
    elif scenario == "v99":
        hello(ch, name, protocol=99)
        wait_for_end(ch)
    elif scenario == "wrong-name":
        hello(ch, "someone-else")
        wait_for_end(ch)
    elif scenario == "no-sdk-abi":
        ch.send({"t": "hello", "protocol": 1, "plugin": {"name": name, "version": "1"}})
        wait_for_end(ch)
    elif scenario == "silent":
        time.sleep(3600)
    elif scenario == "ready-first":
        ch.send({"t": "ready", "subscriptions": []})
        wait_for_end(ch)
    elif scenario == "log-first":
        ch.send({"t": "log", "level": "info", "msg": "too early"})
        wait_for_end(ch)
    elif scenario == "daemon-message":
        hello(ch, name)
        ch.recv()
        ch.send({"t": "init", "protocol": 1})
        wait_for_end(ch)
    elif scenario == "bad-pattern":
        handshake(ch, name, subscriptions=("Not A Pattern",))
        wait_for_end(ch)
    elif scenario == "load-fails":
        hello(ch, name)
        ch.recv()
        ch.send({"t": "fail", "error": {"code": "load_failed", "message": "no config, no go"}})
        wait_for_end(ch)
    elif scenario == "stray-pong":
        handshake(ch, name)
        ch.send({"t": "pong", "id": 424242})
        wait_for_end(ch)
    elif scenario == "no-pong":
        handshake(ch, name)
        serve(ch, answer_pings=False)
    elif scenario.startswith("ack-"):
        handshake(ch, name, protocol=4)
        acks(ch, scenario)
    elif scenario == "ack3":
        # An ack on protocol 3, where only replies exist.
        handshake(ch, name, protocol=3)
        ev = events(ch, 1)
        ch.send({"t": "ack", "n": 1, "id": ev[0]["id"]})
        wait_for_end(ch)
    elif scenario == "unserved":
        handshake(ch, name)
        ch.send({"t": "egress.request", "id": 7, "url": "http://x/"})
        serve(ch)
    else:
        say("unknown scenario", scenario)
        sys.exit(64)


if __name__ == "__main__":
    main()
