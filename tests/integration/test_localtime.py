#!/usr/bin/env python3
"""A plugin's localtime gives the machine's zone while it serves, not UTC.
The daemon runs in a mount namespace of its own whose /etc/localtime is
Asia/Tokyo (UTC+9, no summer time), so the test does not depend on the
machine's zone; the clock plugin logs what localtime_r and localtime give
for a fixed instant on each event. Serving refuses the open of the zone
file (filter.c): the host reads it before (plugin-host/main.c, zone_keep)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, test_plugin_path  # noqa: E402

ZONE = "/usr/share/zoneinfo/Asia/Tokyo"


def test(d):
    check(os.path.exists(ZONE), "no %s (tzdata)", ZONE)
    # Root here: a private mount namespace; else a user namespace gives one.
    ns = ["unshare", "-m", "--propagation", "private"]
    if os.geteuid() != 0:
        ns.insert(1, "-r")
    d.args = ns + ["sh", "-c", 'mount --bind "$0" /etc/localtime && exec "$@"', ZONE] + d.args
    d.start()
    d.wait_running("clock")
    for i in range(2):
        d.post_event("session.created", {"i": i})
    lines = d.wait_until("two zone lines",
                         lambda: (lambda ls: ls if len(ls) >= 2 else None)(
                             d.plugin_lines("clock", r"^zone (.*)$")))
    for m in lines:
        check(m.group(1) == "32400 JST 32400 JST",
              "localtime_r and localtime in the plugin: %s, expected 32400 JST (Asia/Tokyo)",
              m.group(1))


main(test, plugins=[test_plugin_path("clock")], start=False)
