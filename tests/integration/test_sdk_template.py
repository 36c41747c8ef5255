#!/usr/bin/env python3
"""The SDK as a newcomer uses it from a fresh build tree, before any `meson
install`: pkg-config finds streamspace-plugin through <build>/sdk (the
uninstalled .pc), sdk/template builds with its Makefile and with its
meson.build, and the plugin it makes runs in the real daemon and receives
an event."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD_ROOT, check, main  # noqa: E402

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
    return work, os.path.join(src, "myplugin.so")


work, so = build_template()


def test(d):
    d.wait_running("myplugin")
    d.post_event("session.created", {"id": "s1"})
    st = d.wait_delivered("myplugin", 1)
    check(st["failed"] == 0 and st["crashes"] == 0, "myplugin: %s", st)
    r = d.request("GET", "/api/plugins/myplugin/hello")
    check(r.status == 200 and r.json == {"message": "hello", "sessions": 1},
          "the template's GET /hello: %s", r)


try:
    main(test, extra_args=["--plugin", "myplugin=" + so])
finally:
    shutil.rmtree(work, ignore_errors=True)
