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

# Waits until the daemon's log has at least $1 lines matching $2 (polled
# every 2 ms, for at most a minute); prints the $1th of them.
wait_log() {
	local n=$1 pattern=$2 tries=0
	while [ "$(grep -c -- "$pattern" "$log" || true)" -lt "$n" ]; do
		tries=$((tries + 1))
		if [ "$tries" -gt 30000 ] || ! kill -0 "$dpid" 2>/dev/null; then
			echo "bench: fewer than $n '$pattern' in the daemon's log" >&2
			tail -n 20 "$log" >&2
			exit 1
		fi
		sleep 0.002
	done
	grep -- "$pattern" "$log" | sed -n "${n}p"
}
