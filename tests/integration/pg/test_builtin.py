#!/usr/bin/env python3
"""Issue 3, local discovery: the plugin host's built-in plugins (compiled into
it, here "audit") are catalog entries of the local repository next to the
plugin directory's, and install, run in the sandbox, take live configuration,
disable and uninstall like any other - with no files copied or removed."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402

M = "/api/plugins/marketplace"


def test_builtin_lifecycle(pg):
    ci = pg.createdb("builtin")
    d = h.Daemon(ci, h.tempdir("ss-builtin-"))
    # Created after the daemon started: wait until it knows the token (NOTIFY, reload).
    d.token = h.make_token(ci, "admin", "admin", d)
    try:
        cat = d.get(f"{M}/catalog").json
        names = [p["name"] for p in cat["plugins"]]
        assert "audit" in names and "hello" in names, names
        audit = [p for p in cat["plugins"] if p["name"] == "audit"][0]
        assert audit["installed"] is False and audit["category"] == "Compliance", audit

        r = d.post(f"{M}/install/audit", {"config": {"includeData": False}})
        assert r.status == 201, r
        d.wait_state("audit", "running")
        rt = d.runtime("audit")
        assert rt["path"] == "builtin:audit", rt
        assert "seccomp_serve" in rt["sandbox"]["layers"], rt["sandbox"]
        assert not os.path.exists(os.path.join(d.install_dir, "audit"))

        service = h.make_token(ci, "svc", "service", d)
        r = d.post("/api/events", {"type": "user.login", "data": {"user": "alice"}},
                   token=service)
        assert r.status == 202, r
        h.wait_for(lambda: "audit event=user.login" in d.log() and "actor=alice" in d.log(),
                   what="the audit record")

        # Live configuration: the built-in takes it without a restart.
        pid = rt["pid"]
        r = d.request("PUT", f"{M}/config/audit", body={"config": {"includeData": True}})
        assert r.status == 200, r
        d.post("/api/events", {"type": "session.created", "data": {"id": "s7"}}, token=service)
        h.wait_for(lambda: 'data={"id":"s7"}' in d.log(), what="a record with its data")
        assert d.runtime("audit")["pid"] == pid

        assert d.post(f"{M}/disable/audit").status == 200
        d.wait_no_runtime("audit")
        assert d.post(f"{M}/enable/audit").status == 200
        d.wait_state("audit", "running")
        r = d.request("DELETE", f"{M}/uninstall/audit")
        assert r.status == 200, r
        d.wait_no_runtime("audit")
        cat = d.get(f"{M}/catalog").json
        assert [p for p in cat["plugins"] if p["name"] == "audit"][0]["installed"] is False
        assert "removing" not in d.log().split("uninstalled")[-1], d.log()[-2000:]
    finally:
        rc = d.stop()
        assert rc == 0, d.log()[-3000:]


def main():
    pg = h.PG()
    try:
        def run():
            test_builtin_lifecycle(pg)
        run.__name__ = "test_builtin_lifecycle"
        return h.Suite().run([run])
    finally:
        pg.close()


if __name__ == "__main__":
    sys.exit(main())
