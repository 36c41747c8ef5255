#!/usr/bin/env python3
"""A plugin reaching for other processes (tests/hostile/reach.c) beside echo, with
the daemon running as root and then as nobody (the shipped unit runs it as a
system user, which its hosts then share). The plugin is given the daemon's pid
and both pids of echo's host (the waiter and the plugin's process in its PID
namespace): from its constructor every call on them, on its parent and on pid 1
is refused with EPERM and the plugin runs on; at an event it tries again and is
killed with SIGSYS, reported as a sandbox violation. The daemon's and echo's
limits, nice and CPU affinity stay as they were, and echo misses nothing."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, check, echo_ids, hostile_path, main, wait_echo  # noqa: E402

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hostile"))
from run_host import REACH_CALLS_ALL as CALLS  # noqa: E402  every call reach.c tries

# The plugin's directory, readable by nobody; reach.c reads "targets" beside the .so.
WORK = tempfile.mkdtemp(prefix="ss-reach.")
os.chmod(WORK, 0o755)
shutil.copy(hostile_path("reach"), WORK)
REACH = os.path.join(WORK, "reach.so")
TARGETS = os.path.join(WORK, "targets")


def proc_state(pid):
    with open("/proc/%d/limits" % pid) as f:
        limits = f.read()
    return limits, os.getpriority(os.PRIO_PROCESS, pid), sorted(os.sched_getaffinity(pid))


def plugin_process(pid):
    """The process running a host's plugin: the child its waiter forked into the
    host's PID namespace (pidns.c); the host itself when there is none."""
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        kids = f.read().split()
    check(len(kids) <= 1, "host %d has children %s, expected one", pid, kids)
    return int(kids[0]) if kids else pid


def scenario(d, user):
    if os.path.exists(TARGETS):
        os.unlink(TARGETS)
    d.wait_running("echo")
    st = d.wait_running("reach")
    check(st["crashes"] == 0, "%s: reach crashed before it was given targets: %s", user, st)
    echo_pid = d.status("echo")["pid"]
    pids = sorted({d.proc.pid, echo_pid, plugin_process(echo_pid)})
    with open(TARGETS, "w") as f:
        f.write(" ".join(str(p) for p in pids) + "\n")
    before = {p: proc_state(p) for p in pids}
    start = len(d.snapshot())

    # The event makes reach attack while serving (SIGSYS); its restarts attack from
    # the constructor with the targets file, then the redelivered event kills it again.
    ids = [d.post_event("session.created", {"targets": " ".join(str(p) for p in pids)})]
    st = d.wait_status("reach", lambda s: s["crashes"] >= 2 and s["state"] == "running",
                       "two crashes, then running")
    le = st["last_exit"]
    check(le["reason"] == "sandbox_violation" and le.get("signal_name") == "SIGSYS",
          "%s: last_exit %s", user, le)
    check(st["crash_causes"]["sandbox_violation"] == st["crashes"], "%s: crash causes %s",
          user, st["crash_causes"])
    for call in CALLS:
        for p in pids:
            pattern = r"^\w+ reach: contained: reach: %s\(pid %d\): Operation not permitted" % (
                call, p)
            d.wait_until("%s: %s refused" % (user, pattern),
                         lambda: d.matches(pattern, start))
    ids.append(d.post_event("user.login"))
    d.wait_delivered("echo", len(ids))
    wait_echo(d, len(ids))
    check(echo_ids(d)[-len(ids):] == ids, "%s: echo saw %s", user, echo_ids(d))
    after = {p: proc_state(p) for p in pids}
    for p in pids:
        check(after[p] == before[p], "%s: pid %d changed: nice/affinity %s -> %s", user, p,
              before[p][1:], after[p][1:])
    check(d.status("echo")["restarts"] == 0, "%s: echo was restarted", user)
    check(plugin_process(echo_pid) != echo_pid, "%s: echo's host has no PID namespace", user)
    check(not d.matches("ESCAPED"), "%s: escaped: %s", user,
          [m.string for m in d.matches("ESCAPED")])


def test(d):
    try:
        scenario(d, "root daemon")
        # The same daemon as nobody, the user its hosts run as too.
        other = Daemon(["echo", REACH])
        other.args = NOBODY + other.args
        try:
            other.start()
            # The daemon's pid is setpriv's (it execs): check who it runs as.
            with open("/proc/%d/status" % other.proc.pid) as f:
                uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
            check(uids == ["65534"] * 4, "the second daemon runs as %s, not nobody", uids)
            scenario(other, "nobody daemon")
            other.stop()
        finally:
            if other.alive():
                for l in other.snapshot()[-100:]:
                    print(l)
            other.kill()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


main(test, plugins=["echo", REACH])
