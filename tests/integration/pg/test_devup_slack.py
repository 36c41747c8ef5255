#!/usr/bin/env python3
"""Issue 12's Done-when for streamspace-slack, as README.md ("Shipped
plugins") tells an operator: scripts/webhook-sink hooks.slack.com (a
loopback hooks.slack.com with its own CA), scripts/dev-up.sh with the flags
the sink prints (what `scripts/dev up FLAGS` runs), then README's curl block
exactly as written there (only the port changed): install streamspace-slack
from the catalog with a webhook URL, post session.created, and the sink
receives the Block Kit message over verified TLS."""
import json
import os
import re
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness as h  # noqa: E402
from test_devup import down, up  # noqa: E402


def readme_blocks():
    """The ```sh blocks of README.md's "Shipped plugins" section."""
    text = open(os.path.join(h.SOURCE, "README.md")).read()
    sec = text[text.index("\n## Shipped plugins"):]
    sec = sec[:sec.index("\n## ", 1)]
    return re.findall(r"```sh\n(.*?)```", sec, re.S)


def main():
    blocks = readme_blocks()
    start = [b for b in blocks if "scripts/webhook-sink hooks.slack.com" in b]
    flow = [b for b in blocks if "install/streamspace-slack" in b]
    assert len(start) == 1 and len(flow) == 1, blocks
    assert re.search(r"scripts/dev up --egress-connect-to hooks\.slack\.com:443:127\.0\.0\.1:\d+ "
                     r"--egress-ca \S+/\.dev/sink/ca\.pem", start[0]), start[0]

    root = h.tempdir("ss-devup-slack-")
    os.chmod(root, 0o755)
    sink = subprocess.Popen([os.path.join(h.SOURCE, "scripts", "webhook-sink"), "hooks.slack.com",
                             "--port", "0", "--dir", os.path.join(root, "sink")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, lock = [], threading.Lock()
    flags = None
    for line in sink.stdout:
        if line.strip().startswith("scripts/dev up "):
            flags = line.split("scripts/dev up ", 1)[1].split()
            break
    assert flags and "--egress-ca" in flags, flags

    def drain():
        for ln in sink.stdout:
            with lock:
                lines.append(ln)
    threading.Thread(target=drain, daemon=True).start()

    port = h.free_port()
    p, out = up(root, port, flags)
    try:
        env = dict(os.environ, SS_TOKEN=re.search(r"admin token\s+(sst_\S+)", out).group(1),
                   SS_SERVICE=re.search(r"export SS_TOKEN=\S+ SS_SERVICE=(\S+)", out).group(1))
        script = flow[0].replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        # Failing HTTP answers fail the script, as test_devup runs the printed commands.
        script = "set -e\n" + script.replace("curl -s ", "curl -s -f ")
        r = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, (r.stdout, r.stderr)
        head = "POST https://hooks.slack.com/services/T000/B000/XXXX (application/json)\n"

        def received():
            with lock:
                got = "".join(lines)
            return got[got.index(head) + len(head):].split("\n\n")[0] if head in got else None
        body = h.wait_for(received, 20, "the sink to receive the message")
        m = json.loads(body)
        assert m["text"] == "Session created: Session *s1* was created for alice.", m
        assert m["username"] == "StreamSpace" and m["icon_emoji"] == ":computer:", m
        assert [b["type"] for b in m["blocks"]] == ["header", "section", "section", "context"], m
        assert m["blocks"][0]["text"] == {"type": "plain_text", "text": "Session created",
                                          "emoji": True}, m
        assert m["blocks"][2]["fields"] == [{"type": "mrkdwn", "text": "*id*\ns1"},
                                            {"type": "mrkdwn", "text": "*user*\nalice"}], m
    finally:
        rc, rest = down(p)
        sink.terminate()
        sink.wait(timeout=10)
        bindir = h.pg_bindir()
        as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(as_pg + [os.path.join(bindir, "pg_ctl"), "-D",
                                os.path.join(root, ".dev", "pg", "data"), "-m", "immediate",
                                "stop"], capture_output=True)
    assert rc == 0, rest
    assert "streamspace-slack: session.created: delivered (status 200, attempt 1)" in out + rest, \
        rest[-3000:]
    assert "T000/B000/XXXX" not in out + rest, rest[-3000:]
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
