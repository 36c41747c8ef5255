"""The admin UI in a real browser (issue 13): a real PostgreSQL and a real
daemon (pgharness), then ui.test.mjs drives Debian's Chromium through
playwright-core against it. Screenshots land in <build>/tests/ui/screenshots.

The hello plugin gets a richer configSchema here than it ships with (nested
object, array, enum, a secret, bounds), so the form exercises them; hello
logs whatever configuration it receives, which is how the test sees that a
saved configuration reached the plugin.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "pg"))
import pgharness as H  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = os.environ.get("SS_CHROMIUM", "/usr/bin/chromium")

SCHEMA = {
    "type": "object",
    "required": ["greeting"],
    "properties": {
        "greeting": {"type": "string", "title": "Greeting", "minLength": 1, "maxLength": 40,
                     "description": "The word logged when the plugin loads", "default": "hello"},
        "level": {"type": "string", "title": "Level", "enum": ["info", "debug", "warn"],
                  "default": "info"},
        "port": {"type": "integer", "title": "Port", "minimum": 1, "maximum": 65535,
                 "default": 8080},
        "apiKey": {"type": "string", "title": "API key", "format": "password"},
        "delivery": {"type": "object", "title": "Delivery", "properties": {
            "url": {"type": "string", "title": "URL", "default": "https://example.invalid/hook",
                    # json-editor does not check "format": only the daemon refuses
                    # a URL that is not one, so the test sees a server-side error.
                    "format": "uri"},
            "retries": {"type": "integer", "title": "Retries", "minimum": 0, "default": 3}}},
        "channels": {"type": "array", "title": "Channels", "items": {"type": "string"},
                     "default": ["#general"]},
    },
}

# A second repository the test adds, syncs and removes through the UI: a
# file:// catalog (only its catalog.json is read by a sync; nothing from it is
# installed, so the download it names need not exist).
EXTRA = {"plugins": [{
    "name": "ui-extra", "version": "1.2.0", "displayName": "UI Extra",
    "description": "A plugin that only the test's repository lists", "author": "test",
    "category": "Testing", "type": "extension", "tags": ["ui"],
    "downloadUrl": "ui-extra/1.2.0/plugin.tar.gz", "sha256": "ab" * 32, "abi": 1,
    "arch": "x86_64"}]}


def find_node():
    for n in ("node", "nodejs"):
        p = shutil.which(n)
        if p:
            return p
    return None


def main():
    node = find_node()
    modules = os.path.join(H.SOURCE, "node_modules", "playwright-core")
    missing = [what for what, ok in (("chromium", os.access(CHROMIUM, os.X_OK)),
                                     ("node", node is not None),
                                     ("node_modules/playwright-core (npm ci)",
                                      os.path.isdir(modules))) if not ok]
    if missing:
        # scripts/dev installs these (and then says they are required);
        # elsewhere, say what is absent and skip (meson's 77).
        print("UI test needs: " + ", ".join(missing), file=sys.stderr)
        return 1 if os.environ.get("SS_UI_REQUIRED") == "1" else 77
    shots = os.path.join(H.BUILD, "tests", "ui", "screenshots")
    os.makedirs(shots, exist_ok=True)
    for f in os.listdir(shots):
        if f.endswith(".png"):
            os.remove(os.path.join(shots, f))

    pg = H.PG()
    d = None
    try:
        conninfo = pg.createdb("ui")
        work = H.tempdir("ss-ui-")
        os.chmod(work, 0o755)
        # The plugin directory as the daemon will see it, hello with the richer schema.
        plugin_dir = H.copy_plugins(work)
        mpath = os.path.join(plugin_dir, "hello", "manifest.json")
        with open(mpath) as f:
            m = json.load(f)
        m["configSchema"] = SCHEMA
        m["defaultConfig"] = {"greeting": "hello"}
        with open(mpath, "w") as f:
            json.dump(m, f)
        # hello 1.1.0 (the same files, another version) in a file:// repository the
        # test registers to upgrade to and roll back from.
        src = os.path.join(work, "hello-1.1.0")
        shutil.copytree(os.path.join(plugin_dir, "hello"), src,
                        ignore=shutil.ignore_patterns("*.p"))
        m["version"] = "1.1.0"
        with open(os.path.join(src, "manifest.json"), "w") as f:
            json.dump(m, f)
        versions = os.path.join(work, "versions-catalog")
        subprocess.run([sys.executable, os.path.join(H.SOURCE, "scripts", "package-plugin"),
                        src, "--out", versions, "--catalog"], check=True,
                       stdout=subprocess.DEVNULL)
        extra = os.path.join(work, "extra-catalog")
        os.makedirs(extra)
        with open(os.path.join(extra, "catalog.json"), "w") as f:
            json.dump(EXTRA, f)
        d = H.Daemon(conninfo, work, extra_args=["--ping-interval-ms", "1000"])
        tok = H.make_token(conninfo, "ui-admin", "admin", d)
        env = dict(os.environ, SS_UI_URL=f"http://127.0.0.1:{d.port}", SS_UI_TOKEN=tok,
                   SS_UI_DAEMON_LOG=d.logpath, SS_UI_SHOTS=shots, SS_CHROMIUM=CHROMIUM,
                   SS_UI_REPO_URL="file://" + os.path.realpath(extra),
                   SS_UI_VERSIONS_URL="file://" + os.path.realpath(versions),
                   SS_UI_PSQL=json.dumps([os.path.join(pg.bindir, "psql"), "-X", "-A", "-t",
                                          "-h", pg.sock, "-U", "postgres", "-d", "ui"]),
                   NODE_PATH=os.path.join(H.SOURCE, "node_modules"))
        r = subprocess.run([node, "--test", "--test-concurrency=1",
                            os.path.join(HERE, "ui.test.mjs")], env=env, cwd=H.SOURCE,
                           timeout=240)
        rc = r.returncode
        if rc != 0:
            print("---- daemon log (last 80 lines) ----", file=sys.stderr)
            print("\n".join(d.log().splitlines()[-80:]), file=sys.stderr)
        for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if mark in d.log():
                print(f"daemon log has {mark}", file=sys.stderr)
                rc = 1
        if d.stop() != 0:
            print(f"daemon exited with {d.proc.returncode}", file=sys.stderr)
            rc = 1
        return rc
    finally:
        if d is not None and d.proc.poll() is None:
            d.proc.kill()
        pg.close()


if __name__ == "__main__":
    sys.exit(main())
