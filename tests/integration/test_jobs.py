#!/usr/bin/env python3
"""Scheduled jobs (PROTOCOL.md, "Jobs"), with real hosts of the jobber test
plugin (tests/integration/plugins/jobber.c), each configured by the manifest
this test writes beside it:

* jobs-a (scheduler): an "@every 1" job runs again and again (counted over a
  generous bound, never timed); a slow job (2.5 s every second) is skipped
  and counted while it runs; a manifest job is bound by name and scheduled
  on the manifest's schedule; the declarations the daemon refuses come back
  to the plugin with the reason (a cron field out of range, a job the
  manifest does not declare, a manifest job given a schedule, a name
  declared twice, a job declared after on_load); status and /metrics show
  runs, skips, failures and the last run; a job whose run crashes the host
  (abort) is restarted with its jobs, which run again.
* jobs-n (no scheduler permission): every declaration refused,
  permission_denied naming the permission; nothing scheduled.
* A manifest whose scheduler.jobs has a schedule that does not parse is
  refused with the reason (a --plugin is not started).
* A second daemon with --job-timeout-ms 1000: a run that takes 3 s ends its
  host as hung (cause deadline), counted as a failure of the job, and the
  restarted host's job comes back.
"""
import json
import os
import re
import shutil
import sys
import tempfile
import atexit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, check, main, test_plugin_path  # noqa: E402

work = tempfile.mkdtemp(prefix="ss-jobs-")
os.chmod(work, 0o755)
atexit.register(shutil.rmtree, work, True)

A_CONFIG = {
    "every": [{"name": "tick", "seconds": 1}, {"name": "slow", "seconds": 1},
              {"name": "failing", "seconds": 1}, {"name": "boom", "seconds": 1},
              {"name": "tick", "seconds": 5}, {"name": "Bad Name", "seconds": 1},
              {"name": "nightly", "seconds": 1}, {"name": "zero", "seconds": 0}],
    "cron": [{"name": "five", "schedule": "*/5 * * * *"},
             {"name": "badcron", "schedule": "61 * * * *"},
             {"name": "feb30", "schedule": "0 0 30 2 *"}],
    "bind": ["nightly", "nope"],
    "slow_ms": 2500,
    "subscribe": ["session.created"],
}


def plugin_dir(name, manifest, so=None):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    shutil.copy(test_plugin_path(so or name), os.path.join(d, name + ".so"))
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(dict({"name": name, "version": "1.0.0", "entrypoints": {"main": name + ".so"}},
                       **manifest), f)
    return os.path.join(d, name + ".so")


A = plugin_dir("jobs-a", {
    "permissions": ["read:sessions", "scheduler"],
    "scheduler": {"jobs": [{"name": "nightly", "schedule": "0 3 * * *",
                            "description": "the nightly clean-up"},
                           {"name": "unbound", "schedule": "@every 2"}]},
    "defaultConfig": A_CONFIG})
N = plugin_dir("jobs-n", {"permissions": ["read:sessions"],
                          "defaultConfig": {"every": [{"name": "tick", "seconds": 1}],
                                            "cron": [{"name": "c", "schedule": "* * * * *"}]}})
# Refused before it starts: the manifest's schedule does not parse.
BADM = plugin_dir("jobs-plain", {"permissions": ["scheduler"],
                                 "scheduler": {"jobs": [{"name": "x",
                                                         "schedule": "*/0 * * * *"}]}})
HUNG = plugin_dir("jobs-hung", {"permissions": ["scheduler"],
                                "defaultConfig": {"every": [{"name": "slow", "seconds": 1}],
                                                  "slow_ms": 3000}})


def declared(d, who, call, name):
    """The plugin's log line for one declaration: (result, code, message)."""
    def found():
        for m in d.plugin_lines(who, r"^declare %s %s r=(-?\d+) code=(\S*) msg=(.*)$" %
                                (call, re.escape(name))):
            return (int(m.group(1)), m.group(2), m.group(3))
        return None
    return d.wait_until("%s: declare %s %s" % (who, call, name), found)


def jobs_of(st):
    return {j["name"]: j for j in st.get("jobs") or []}


def metric(d, name, plugin, job):
    r = d.request("GET", "/metrics")
    check(r.status == 200, "/metrics: %r", r)
    m = re.search(r'^streamspace_job_%s\{plugin="%s",job="%s"\} (\d+)$' %
                  (name, re.escape(plugin), re.escape(job)), r.body.decode(), re.M)
    check(m is not None, "no streamspace_job_%s for %s/%s in /metrics", name, plugin, job)
    return int(m.group(1))


def runs(d, who, job):
    return [int(m.group(1)) for m in d.plugin_lines(who, r"^run %s (\d+)$" % re.escape(job))]


def test(d):
    d.wait_running("jobs-a")
    d.wait_running("jobs-n")

    # What the daemon accepted, and what it refused, each with the reason.
    for name in ("tick", "slow", "failing", "boom"):
        r = declared(d, "jobs-a", "every", name)
        check(r[0] == 0, "ss_every %s refused: %s", name, r)
    check(declared(d, "jobs-a", "cron", "five")[0] == 0, "ss_cron five refused")
    check(declared(d, "jobs-a", "job", "nightly")[0] == 0, "ss_job nightly refused")
    refusals = {
        ("every", "tick"): (-3, "conflict", "declared twice"),
        ("every", "Bad Name"): (-1, "bad_request", "is not [a-z0-9]"),
        ("every", "nightly"): (-3, "conflict", "bind it with ss_job"),
        ("every", "zero"): (-1, "bad_request", "@every"),
        ("cron", "badcron"): (-1, "bad_request", "minute: 61 is out of range 0-59"),
        ("cron", "feb30"): (-1, "bad_request", "never fires"),
        ("job", "nope"): (-2, "not_found", "declares no job \"nope\""),
    }
    for (call, name), (want, code, says) in refusals.items():
        # "tick" is declared twice: the refusal is the second line.
        got = [(int(m.group(1)), m.group(2), m.group(3)) for m in d.plugin_lines(
            "jobs-a", r"^declare %s %s r=(-?\d+) code=(\S*) msg=(.*)$" % (call, re.escape(name)))]
        got = got[-1] if got else declared(d, "jobs-a", call, name)
        check(got[0] == want and got[1] == code and says in got[2],
              "%s %s: want %d %s (%s), got %s", call, name, want, code, says, got)
    check(d.wait_line(r"jobs-a: job unbound of the manifest has no handler \(ss_job\): "
                      r"not scheduled"), "unbound manifest job not logged")

    # No permission: refused, naming it.
    for call, name in (("every", "tick"), ("cron", "c")):
        r = declared(d, "jobs-n", call, name)
        check(r[0] == -4 and r[1] == "permission_denied" and
              'needs the "scheduler" permission' in r[2], "jobs-n %s: %s", call, r)
    check(d.status("jobs-n").get("jobs") == [], "jobs-n has jobs: %s", d.status("jobs-n"))

    # The manifest with a bad schedule was refused, with the reason.
    d.wait_line(r'--plugin .*jobs-plain\.so: manifest: scheduler\.jobs\[0\] "x": schedule '
                r'"\*/0 \* \* \* \*": ')
    check(d.request("GET", "/api/plugins/marketplace/installed/jobs-plain").status == 404,
          "jobs-plain was started")

    # @every 1 runs, again and again: at least 4 runs within a generous bound.
    d.wait_until("4 runs of tick", lambda: len(runs(d, "jobs-a", "tick")) >= 4)
    # The slow job (2.5 s a run, due every second) is skipped while it runs.
    st = d.wait_status("jobs-a", lambda s: jobs_of(s).get("slow", {}).get("skipped", 0) >= 2,
                       "slow job skipped twice")
    j = jobs_of(st)
    check(set(j) == {"tick", "slow", "failing", "boom", "five", "nightly"},
          "jobs in status: %s", sorted(j))
    for name in ("tick", "slow", "failing", "boom", "five", "nightly"):
        check(j[name]["scheduled"] is True and isinstance(j[name]["next_run_s"], int),
              "%s not scheduled: %s", name, j[name])
    check(j["nightly"]["source"] == "manifest" and j["nightly"]["schedule"] == "0 3 * * *" and
          j["nightly"]["description"] == "the nightly clean-up", "nightly: %s", j["nightly"])
    check(j["tick"]["source"] == "sdk" and j["tick"]["schedule"] == "@every 1",
          "tick: %s", j["tick"])
    check(j["five"]["schedule"] == "*/5 * * * *" and j["five"]["next_run_s"] % 300 == 0,
          "five: %s", j["five"])
    check(j["tick"]["runs"] >= 4 and j["tick"]["failed"] == 0 and j["tick"]["last_error"] is None
          and j["tick"]["last_run_ms"] > 0 and j["tick"]["last_duration_ms"] >= 0,
          "tick: %s", j["tick"])
    # Skipped runs never reached the host: its runs of slow are the daemon's runs.
    check(j["slow"]["runs"] <= len(runs(d, "jobs-a", "slow")) + 1, "slow: %s", j["slow"])
    st = d.wait_status("jobs-a", lambda s: jobs_of(s)["failing"]["failed"] >= 2,
                       "failing job counted")
    check("handler_failed" in jobs_of(st)["failing"]["last_error"], "failing: %s",
          jobs_of(st)["failing"])
    check(metric(d, "runs_total", "jobs-a", "tick") >= 4, "runs_total")
    check(metric(d, "skipped_total", "jobs-a", "slow") >= 2, "skipped_total")
    check(metric(d, "failed_total", "jobs-a", "failing") >= 2, "failed_total")
    check(metric(d, "last_run_timestamp_seconds", "jobs-a", "tick") > 1700000000,
          "last_run_timestamp_seconds")

    # A run that crashes the host: counted, the host restarted, its jobs back.
    pid = d.status("jobs-a")["pid"]
    before = jobs_of(d.status("jobs-a"))["boom"]
    d.post_event("session.created", {"crash": "boom"})
    st = d.wait_status("jobs-a", lambda s: s["crashes"] >= 1 and s["state"] == "running" and
                       s["pid"] != pid, "restarted after the crash")
    check(st["last_exit"]["signal_name"] == "SIGABRT", "last exit: %s", st["last_exit"])
    st = d.wait_status("jobs-a", lambda s: jobs_of(s)["boom"]["runs"] >= before["runs"] + 3,
                       "boom runs again on the new host")
    boom = jobs_of(st)["boom"]
    check(boom["failed"] >= before["failed"] + 1 and boom["scheduled"],
          "the crashed run counted failed: %s", boom)
    ticks = len(runs(d, "jobs-a", "tick"))
    d.wait_until("tick after the restart", lambda: len(runs(d, "jobs-a", "tick")) > ticks + 1)
    check(d.wait_line(r"jobs-a: 6 jobs scheduled"), "jobs re-declared")


def hung(d):
    d.wait_running("jobs-hung")
    st = d.wait_status("jobs-hung", lambda s: s["crash_causes"]["deadline"] >= 1,
                       "a hung run ended its host")
    check("no answer to a job run within 1000 ms" in st["last_exit"]["description"],
          "last exit: %s", st["last_exit"])
    st = d.wait_status("jobs-hung", lambda s: s["state"] == "running" and
                       jobs_of(s).get("slow", {}).get("failed", 0) >= 1 and
                       jobs_of(s)["slow"]["scheduled"], "the job back on the next host")
    check("lost" in jobs_of(st)["slow"]["last_error"], "slow: %s", jobs_of(st)["slow"])


def test_all(d):
    test(d)
    d2 = Daemon([HUNG], ["--job-timeout-ms", "1000"])
    try:
        d2.start()
        hung(d2)
        d2.stop()
    finally:
        d2.kill()


main(test_all, plugins=[A, N, BADM])
