#!/usr/bin/env python3
"""The SDK template (sdk/template, the guide's example in C) installed on a
real PostgreSQL: built with its Makefile from the build tree's SDK, dropped
into the plugin directory and installed through the API. Its configuration
is validated at install (a webhookUrl that is not https:// is 422
invalid_config with the failing path); it keeps its session count in its
storage, so GET /api/plugins/myplugin/hello answers the same count after a
disable and enable (a new host); its report job runs on the configured
interval (test_sdk_template.py covers the event and the webhook)."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"


def build(work):
    """sdk/template built with make into <work>/src/myplugin (a plugin directory's entry)."""
    src = os.path.join(work, "src")
    d = os.path.join(src, "myplugin")
    shutil.copytree(os.path.join(h.SOURCE, "sdk", "template"), d)
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(h.BUILD, "sdk"))
    env.pop("CFLAGS", None)
    env.pop("LDFLAGS", None)
    r = subprocess.run(["make", "-C", d], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    for f in os.listdir(d):
        if f not in ("myplugin.so", "manifest.json"):
            p = os.path.join(d, f)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    os.chmod(work, 0o755)
    for dp, dns, fns in os.walk(work):
        for n in dns:
            os.chmod(os.path.join(dp, n), 0o755)
        for n in fns:
            os.chmod(os.path.join(dp, n), 0o644)
    return src


def test_installed(ctx):
    work = h.tempdir("ss-template-")
    d = ctx.fresh(work=work, plugin_src=build(work))
    svc = h.make_token(d.ci, "svc", "service", d)

    r = d.post(f"{M}/install/myplugin", {"config": {"webhookUrl": "http://hooks.slack.com/x"}})
    assert r.status == 422 and r.json["error"]["code"] == "invalid_config", r
    assert "/webhookUrl" in r.raw, r
    r = d.post(f"{M}/install/myplugin", {"config": {"reportEverySeconds": 1,
                                                    "greeting": "hello from C"}})
    assert r.status == 201, r
    d.wait_state("myplugin", "running")
    for i in range(2):
        assert d.post("/api/events", {"type": "session.created", "data": {"id": f"s{i}"}},
                      token=svc).status == 202
    h.wait_for(lambda: d.get("/api/plugins/myplugin/hello").json ==
               {"message": "hello from C", "sessions": 2}, 20, "two sessions counted")
    rt = d.runtime("myplugin")
    h.wait_for(lambda: [j for j in d.runtime("myplugin")["jobs"]
                        if j["name"] == "report" and j["runs"] >= 1 and j["failed"] == 0],
               20, "a report run")
    pid = rt["pid"]

    # A new host reads the count back from storage.
    assert d.post(f"{M}/disable/myplugin").status == 200
    d.wait_no_runtime("myplugin")
    assert d.post(f"{M}/enable/myplugin").status == 200
    d.wait_state("myplugin", "running")
    assert d.runtime("myplugin")["pid"] != pid
    r = d.get("/api/plugins/myplugin/hello")
    assert r.status == 200 and r.json == {"message": "hello from C", "sessions": 2}, r


if __name__ == "__main__":
    sys.exit(h.run_with_ctx("ss_template_", "ss-template-", [test_installed]))
