#!/usr/bin/env bash
# Delivery under many HTTP connections (issue 8, item 6): wrk keeps C
# connections posting single events to POST /api/events for D seconds while
# one fast plugin (counter) is subscribed; after the queue drains, the
# daemon's own /metrics say how many accepted events the plugin received.
#
#   bench/conns.sh ROOT BUILDDIR [C...]     (default C: 4 50 1000)
#
# Prints, per C: conns_posted_per_s_C (202s/s as wrk saw them),
# conns_delivered_pct_C (delivered / accepted x 100 for the plugin) and
# conns_dropped_C (its drops, every reason). A healthy plugin that keeps up
# must get >= 99 % at any C: drops may only come from a plugin slower than
# the ingress. Bounded: D seconds per C (SS_BENCH_CONNS_SECONDS, default 5).
#
# SS_BENCH_CONNS_BASELINE=OTHER_BUILDDIR runs that build too, before ours at
# each C, its figures prefixed base_ (on a shared machine only figures of
# the same run compare); SS_BENCH_CONNS_ROUNDS=N (1) repeats the whole.
# A baseline older than the accepted and inflight series is read from
# streamspace_events_accepted_total (the counter is the only plugin).
set -euo pipefail

root=$(cd "${1:?usage: bench/conns.sh ROOT BUILDDIR [C...]}" && pwd)
build=${2:?usage: bench/conns.sh ROOT BUILDDIR [C...]}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
shift 2
conns=("$@")
[ ${#conns[@]} -gt 0 ] || conns=(4 50 1000)
SECS=${SS_BENCH_CONNS_SECONDS:-5}

command -v wrk >/dev/null || { echo "bench/conns.sh: wrk is not installed" >&2; exit 1; }
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh" conns
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"type":"session.created","data":{"id":"s1","user":"u1"}}'
wrk.headers["Content-Type"] = "application/json"
LUA

metric() { # NAME: the value of one /metrics line
	curl -s "http://127.0.0.1:$port/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

# run BUILDDIR PREFIX C: one daemon of that build, C connections, its figures.
run() {
	local b=$1 pre=$2 c=$3 out reqs non2xx errs q f acc del drop why holds
	say "conns: ${pre}$c connections posting single events for $SECS s ($b)"
	"$b/daemon/streamspaced" --listen 127.0.0.1:0 --host-path "$b/plugin-host/streamspace-plugin-host" \
		--plugin "$b/plugins/counter/counter.so" --log-level info --queue-max "${SS_BENCH_CONNS_QUEUE_MAX:-65536}" 2>"$log" &
	dpid=$!
	port=
	for _ in $(seq 1 3000); do
		port=$(sed -nE 's/.*listening on [^ ]*:([0-9]+)$/\1/p' "$log" | head -n1)
		[ -n "$port" ] && break
		sleep 0.01
	done
	[ -n "$port" ] || { echo "bench/conns.sh: the daemon did not listen" >&2; exit 1; }
	for _ in $(seq 1 3000); do
		[ "$(metric 'streamspace_plugin_up{plugin="counter"}')" = 1 ] && break
		sleep 0.01
	done
	out=$(wrk -t2 -c"$c" -d"${SECS}s" --timeout 10s -s "$work/post.lua" \
		"http://127.0.0.1:$port/api/events" 2>&1) || say "wrk exited $?"
	[ -z "${SS_BENCH_VERBOSE:-}" ] || echo "$out" >&2
	reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
	non2xx=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
	errs=$(awk '/Socket errors/ { print }' <<<"$out")
	[ -z "$errs" ] || say "wrk: $errs"
	# Drained: nothing queued or in flight for the plugin.
	for _ in $(seq 1 6000); do
		q=$(metric 'streamspace_plugin_queue_depth{plugin="counter"}')
		f=$(metric 'streamspace_plugin_inflight{plugin="counter"}')
		[ "${q:-1}" = 0 ] && [ "${f:-0}" = 0 ] && break
		sleep 0.01
	done
	acc=$(metric 'streamspace_plugin_accepted{plugin="counter"}')
	[ -n "$acc" ] || acc=$(metric streamspace_events_accepted_total)
	del=$(metric 'streamspace_plugin_delivered{plugin="counter"}')
	drop=$(metric 'streamspace_plugin_dropped{plugin="counter"}')
	why=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^streamspace_plugin_dropped_by/ && $2 != 0')
	[ -z "$why" ] || say "drops: $why"
	holds=$(metric streamspace_ingress_holds_total)
	[ -z "$holds" ] || say "ingress held $holds times, $(metric streamspace_ingress_holds_expired_total) ran out"
	kill -TERM "$dpid" 2>/dev/null || say "the daemon had ended: $(tail -n 3 "$log")"
	wait "$dpid" || true
	dpid=
	awk -v r="${reqs:-0}" -v n="${non2xx:-0}" -v s="$SECS" -v c="$c" -v p="$pre" \
		'BEGIN { printf "%sconns_posted_per_s_%d %.0f /s\n", p, c, (r - n) / s }'
	awk -v a="${acc:-0}" -v d="${del:-0}" -v c="$c" -v p="$pre" \
		'BEGIN { printf "%sconns_delivered_pct_%d %.2f %%\n", p, c, (a > 0 ? 100 * d / a : 0) }'
	echo "${pre}conns_dropped_$c ${drop:-0} events"
}

for _ in $(seq 1 "${SS_BENCH_CONNS_ROUNDS:-1}"); do
	for c in "${conns[@]}"; do
		[ -z "${SS_BENCH_CONNS_BASELINE:-}" ] || run "$SS_BENCH_CONNS_BASELINE" base_ "$c"
		run "$build" "" "$c"
	done
done
