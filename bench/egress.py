#!/usr/bin/env python3
"""egress_req_per_s: one plugin (net-a, the tests' kvdriver) makes N
ss_http_request calls in a row to a loopback HTTPS receiver (the tests'
tlsserver: Python's threaded http.server, TLS verified with a CA made here,
reached through --egress-connect-to). A call blocks its plugin, so this is
one plugin's sequential rate, bounded by the Python receiver as much as by
the daemon. Prints "egress_req_per_s VALUE req/s".

    bench/egress.py ROOT BUILDDIR [N]"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

root, build = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
sys.path.insert(0, os.path.join(root, "tests", "integration"))
from tlsserver import Receiver, make_ca  # noqa: E402

work = tempfile.mkdtemp(prefix="ss-bench-egress-")
os.chmod(work, 0o755)
try:
    ca = make_ca(work)
    rcv = Receiver(work)
    d = os.path.join(work, "net-a")
    os.makedirs(d)
    os.chmod(d, 0o755)
    shutil.copy(os.path.join(build, "tests", "integration", "plugins", "net-a.so"), d)
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump({"name": "net-a", "version": "1.0.0", "description": "bench",
                   "author": "bench", "permissions": ["read:sessions", "network"],
                   "allowedHosts": ["hooks.slack.com"],
                   "limits": {"eventTimeoutMs": 600000}}, f)
    log = open(os.path.join(work, "daemon.log"), "w+")
    proc = subprocess.Popen(
        [os.path.join(build, "daemon", "streamspaced"), "--listen", "127.0.0.1:0",
         "--host-path", os.path.join(build, "plugin-host", "streamspace-plugin-host"),
         "--plugin", os.path.join(d, "net-a.so"), "--egress-ca", ca,
         "--log-level", "info"] + rcv.connect_to_args(),
        stdout=log, stderr=subprocess.STDOUT)

    def wait(pattern, limit=120):
        t = time.monotonic() + limit
        while time.monotonic() < t:
            log.seek(0)
            m = re.search(pattern, log.read())
            if m:
                return m
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        log.seek(0)
        sys.exit("bench egress: no %r in the log:\n%s" % (pattern, log.read()[-2000:]))

    port = wait(r"listening on 127\.0\.0\.1:(\d+)").group(1)
    wait(r"net-a: .*(ready|running)")
    body = json.dumps({"type": "session.created",
                       "data": {"op": "http_n", "n": n, "seq": 1, "who": "net-a",
                                "url": "https://hooks.slack.com/ok"}}).encode()
    urllib.request.urlopen(urllib.request.Request(
        "http://127.0.0.1:%s/api/events" % port, body,
        {"Content-Type": "application/json"}), timeout=30).read()
    res = json.loads(wait(r"net-a: res (\{.*\})", 600).group(1))
    proc.terminate()
    proc.wait(30)
    if res["ok"] != n:
        sys.exit("bench egress: %d of %d requests answered 200" % (res["ok"], n))
    print("egress_req_per_s %.0f req/s" % (n / (res["ns"] / 1e9)))
finally:
    shutil.rmtree(work, True)
