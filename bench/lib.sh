# Sourced by bench/run.sh and bench/scale.sh: a scratch directory ($work,
# readable by all: a root daemon's hosts run as nobody and read plugins from
# it), the daemon's log in it, and on exit the daemon ($dpid) stopped and the
# directory removed. $1 names the directory.
# shellcheck shell=bash
work=$(mktemp -d "${TMPDIR:-/tmp}/ss-$1.XXXXXX")
chmod 755 "$work"
log="$work/daemon.log"
dpid=

say() { printf '==> %s\n' "$*" >&2; }
cleanup() {
	if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then
		kill -TERM "$dpid" 2>/dev/null || true
		wait "$dpid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
