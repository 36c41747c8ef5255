#!/usr/bin/env python3
"""Jobs and platform events of installed plugins (PROTOCOL.md, "Jobs" and
"Platform events") on a real PostgreSQL, with jobber test plugins in the
plugin directory: jobs-admin (admin, subscribes to "*") hears
plugin.installed, plugin.disabled, plugin.enabled and plugin.uninstalled of
jobs-a as each verb completes, jobs-plain (no admin, "*") none of them;
a manifest whose schedule does not parse (jobs-hung) is refused at install
with the reason (422 package_refused, check manifest); jobs-a's manifest job
(scheduler.jobs, bound with ss_job) runs once
installed, goes away with a disable (streamspace_job_scheduled 0, no runs
meanwhile) and comes back with the enable, its counts carried on."""
import json
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"
TESTPLUGINS = os.path.join(h.BUILD, "tests", "integration", "plugins")
PLATFORM = ("plugin.installed", "plugin.enabled", "plugin.disabled", "plugin.uninstalled",
            "plugin.crashed", "system.startup", "system.shutdown")

PLUGINS = {
    "jobs-admin": {"permissions": ["admin"], "defaultConfig": {"subscribe": ["*"]}},
    "jobs-plain": {"permissions": ["read:sessions", "read:users"],
                   "defaultConfig": {"subscribe": ["*", "plugin.*"]}},
    # A schedule that does not parse: the install is refused with the manifest's error.
    "jobs-hung": {"permissions": ["scheduler"],
                  "scheduler": {"jobs": [{"name": "cleanup", "schedule": "61 * * * *"}]}},
    "jobs-a": {"permissions": ["scheduler"],
               "scheduler": {"jobs": [{"name": "tick", "schedule": "@every 1",
                                       "description": "a tick"}]},
               "defaultConfig": {"bind": ["tick"]}},
}


def plugin_src(work):
    src = os.path.join(work, "src")
    for name, extra in PLUGINS.items():
        d = os.path.join(src, name)
        os.makedirs(d)
        shutil.copy(os.path.join(TESTPLUGINS, name + ".so"), d)
        with open(os.path.join(d, "manifest.json"), "w") as f:
            json.dump(dict({"name": name, "version": "1.0.0", "displayName": name,
                            "description": "jobs driver", "author": "tests",
                            "entrypoints": {"main": name + ".so"}}, **extra), f)
    return src


def events(d, who, type_, about="jobs-a"):
    """What who logged of type_ events about a plugin (about None: all)."""
    return [e for e in (json.loads(m.group(1)) for m in re.finditer(
        r"%s: event %s (\{.*\})$" % (re.escape(who), re.escape(type_)), d.log(), re.M))
        if about is None or e.get("plugin") == about]


def metric(d, name):
    m = re.search(r'^streamspace_job_%s\{plugin="jobs-a",job="tick"\} (\d+)$' % name,
                  d.get("/metrics").raw, re.M)
    return int(m.group(1)) if m else None


def test_verbs_and_jobs(ctx):
    work = h.tempdir("ss-pjobs-")
    d = ctx.fresh(work=work, plugin_src=plugin_src(work))
    for name in ("jobs-admin", "jobs-plain"):
        assert d.post(f"{M}/install/{name}").status == 201
        d.wait_state(name, "running")

    r = d.post(f"{M}/install/jobs-hung")
    assert r.status == 422 and r.json["error"]["code"] == "package_refused", r
    assert r.json["error"]["check"] == "manifest", r
    assert ('scheduler.jobs[0] "cleanup": schedule "61 * * * *": minute: 61 is out of range '
            '0-59') in r.json["error"]["message"], r
    assert d.get(f"{M}/installed/jobs-hung").status in (404, 409), "jobs-hung was installed"

    assert d.post(f"{M}/install/jobs-a").status == 201
    ev = h.wait_for(lambda: events(d, "jobs-admin", "plugin.installed"), 20, "plugin.installed")
    assert ev[0] == {"plugin": "jobs-a", "version": "1.0.0", "user": "admin"}, ev
    h.wait_for(lambda: (metric(d, "runs_total") or 0) >= 2, 20, "the manifest job's runs")
    tick = [j for j in d.runtime("jobs-a")["jobs"] if j["name"] == "tick"][0]
    assert tick["source"] == "manifest" and tick["description"] == "a tick", tick
    assert metric(d, "scheduled") == 1

    assert d.post(f"{M}/disable/jobs-a").status == 200
    ev = h.wait_for(lambda: events(d, "jobs-admin", "plugin.disabled"), 20, "plugin.disabled")
    assert ev[0]["plugin"] == "jobs-a", ev
    d.wait_no_runtime("jobs-a")
    assert metric(d, "scheduled") == 0
    n = metric(d, "runs_total")
    time.sleep(2.5)  # two due times of the job: none may run while it is disabled
    assert metric(d, "runs_total") == n, (n, metric(d, "runs_total"))

    assert d.post(f"{M}/enable/jobs-a").status == 200
    h.wait_for(lambda: events(d, "jobs-admin", "plugin.enabled"), 20, "plugin.enabled")
    h.wait_for(lambda: (metric(d, "runs_total") or 0) >= n + 2, 20, "runs after the enable")
    assert metric(d, "scheduled") == 1

    assert d.request("DELETE", f"{M}/uninstall/jobs-a").status == 200
    ev = h.wait_for(lambda: events(d, "jobs-admin", "plugin.uninstalled"), 20,
                    "plugin.uninstalled")
    assert ev[0]["plugin"] == "jobs-a" and ev[0]["purged"] is False, ev
    h.wait_for(lambda: metric(d, "scheduled") == 0, 20, "the job gone")

    # The admin plugin heard of jobs-plain's install too; jobs-plain of nothing.
    assert events(d, "jobs-admin", "plugin.installed", "jobs-plain")
    got = [t for t in PLATFORM if events(d, "jobs-plain", t, None)]
    assert not got, got


if __name__ == "__main__":
    sys.exit(h.run_with_ctx("ss_pjobs_", "ss-pjobs-", [test_verbs_and_jobs]))
