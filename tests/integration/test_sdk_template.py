#!/usr/bin/env python3
"""The SDK as a newcomer uses it from a fresh build tree, before any `meson
install`: pkg-config finds streamspace-plugin through <build>/sdk (the
uninstalled .pc), sdk/template builds with its Makefile and with its
meson.build, and the plugin it makes - the guide's example in C - runs in
the real daemon: it counts a session event, serves GET /hello from its
validated configuration, and its scheduled report job runs, emits
plugin.myplugin.report (received by the hello plugin) and posts to a
loopback webhook through egress (hooks.slack.com pinned to a loopback
receiver with --egress-connect-to, TLS verified against the test's CA).
Its storage needs a database: pg/test_sdk_template_installed.py installs
the same build and reads the count back across a restart."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD_ROOT, check, main, plugin_path  # noqa: E402
from tlsserver import Receiver, make_ca  # noqa: E402

SOURCE = os.environ.get("SS_SOURCE_ROOT") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")


def build_template():
    work = tempfile.mkdtemp(prefix="ss-template-")
    os.chmod(work, 0o755)  # the sandboxed host reads the plugin's directory
    src = os.path.join(work, "myplugin")
    shutil.copytree(os.path.join(SOURCE, "sdk", "template"), src)
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(BUILD_ROOT, "sdk"))
    env.pop("CFLAGS", None)
    env.pop("LDFLAGS", None)

    r = subprocess.run(["pkg-config", "--cflags", "streamspace-plugin"], env=env,
                       capture_output=True, text=True)
    check(r.returncode == 0, "pkg-config --cflags streamspace-plugin: %s", r.stderr)
    check(os.path.join(SOURCE, "sdk", "include") in r.stdout.replace("//", "/")
          or os.path.realpath(os.path.join(SOURCE, "sdk", "include")) in r.stdout,
          "the uninstalled .pc does not point at the source tree's SDK: %s", r.stdout)

    r = subprocess.run(["make", "-C", src], env=env, capture_output=True, text=True)
    check(r.returncode == 0, "the template's make failed:\n%s%s", r.stdout, r.stderr)
    check(os.path.exists(os.path.join(src, "myplugin.so")), "make built no myplugin.so")

    mb = os.path.join(work, "mesonbuild")
    r = subprocess.run(["meson", "setup", mb, src], env=env, capture_output=True, text=True)
    check(r.returncode == 0, "the template's meson setup failed:\n%s%s", r.stdout, r.stderr)
    r = subprocess.run(["ninja", "-C", mb], env=env, capture_output=True, text=True)
    check(r.returncode == 0, "the template's ninja failed:\n%s%s", r.stdout, r.stderr)
    check(os.path.exists(os.path.join(mb, "myplugin.so")), "meson built no myplugin.so")
    # Its configuration for this run: the webhook and a report every second.
    mpath = os.path.join(src, "manifest.json")
    with open(mpath) as f:
        m = json.load(f)
    m["defaultConfig"].update(webhookUrl="https://hooks.slack.com/ok",
                              reportEverySeconds=1, greeting="hi there")
    with open(mpath, "w") as f:
        json.dump(m, f)
    r = subprocess.run([os.path.join(BUILD_ROOT, "daemon", "streamspaced"), "config", "check",
                        mpath], capture_output=True, text=True)
    check(r.returncode == 0, "the template's configuration does not validate: %s%s",
          r.stdout, r.stderr)
    return work, os.path.join(src, "myplugin.so")


work, so = build_template()
CA = make_ca(work)
rcv = Receiver(work)


def test(d):
    d.wait_running("myplugin")
    d.wait_running("hello")
    d.post_event("session.created", {"id": "s1"})
    st = d.wait_delivered("myplugin", 1)
    check(st["failed"] == 0 and st["crashes"] == 0, "myplugin: %s", st)
    r = d.request("GET", "/api/plugins/myplugin/hello")
    check(r.status == 200 and r.json == {"message": "hi there", "sessions": 1},
          "the template's GET /hello: %s", r)

    # The report job runs every second: an event hello receives, a webhook post.
    st = d.wait_status("myplugin", lambda s: [j for j in s["jobs"] if j["name"] == "report" and
                                              j["runs"] >= 2 and j["failed"] == 0],
                       "two report runs")
    d.wait_until("plugin.myplugin.report at hello", lambda: [
        m for m in d.plugin_lines("hello", r"^event plugin\.myplugin\.report id=\d+ data=(.*)$")
        if json.loads(m.group(1)) == {"sessions": 1}])
    d.wait_until("the webhook hit", lambda: rcv.count("main") >= 1)
    hit = rcv.last()
    check(hit["method"] == "POST" and hit["path"] == "/ok" and
          json.loads(hit["body"]) == {"text": "1 sessions so far"}, "webhook: %s", hit)
    check(rcv.count("sentinel") == 0, "the sentinel was reached")
    check(d.matches(r"myplugin: webhook answered 200"), "no log of the webhook's answer")


try:
    main(test, extra_args=["--plugin", "myplugin=" + so, "--plugin", plugin_path("hello"),
                           "--egress-ca", CA] + rcv.connect_to_args())
finally:
    shutil.rmtree(work, ignore_errors=True)
