#!/usr/bin/env bash
# Runs every benchmark and prints one figure per line, "name value unit".
#
#   bench/run.sh ROOT BUILDDIR      (scripts/dev bench builds BUILDDIR optimised first)
#
# Figures only: nothing here passes or fails on a number. Progress and
# diagnostics go to stderr; stdout is just the figures.
set -euo pipefail

root=$(cd "${1:?usage: bench/run.sh ROOT BUILDDIR}" && pwd)
build=${2:?usage: bench/run.sh ROOT BUILDDIR}
case "$build" in /*) ;; *) build="$root/$build" ;; esac

STARTS=${SS_BENCH_STARTS:-200}              # host starts for host_start_*
RAW_EVENTS=${SS_BENCH_RAW_EVENTS:-1000000}  # frames for raw_frames_per_s
EVENTS=${SS_BENCH_EVENTS:-200000}           # events for events_per_s
BATCH=${SS_BENCH_BATCH:-1000}               # events per POST
RATE=${SS_BENCH_RATE:-2000}                 # events/s for the latency run
RATE_HIGH=${SS_BENCH_RATE_HIGH:-20000}      # events/s for the second latency run
SECONDS_LAT=${SS_BENCH_LATENCY_SECONDS:-3}
VALIDATIONS=${SS_BENCH_VALIDATIONS:-200000} # config validations for schema_validate_per_s
PACKAGE_MIB=${SS_BENCH_PACKAGE_MIB:-32}     # size of the package for package_*

bin="$build/bench"
host="$build/plugin-host/streamspace-plugin-host"
daemon="$build/daemon/streamspaced"
counter="$build/plugins/counter/counter.so"
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh" bench

for f in "$bin/host_start" "$bin/raw_frames" "$bin/http_events" "$bin/schema_validate" "$host" "$daemon" "$counter"; do
	[ -e "$f" ] || { echo "bench: $f is not built" >&2; exit 1; }
done

# value NAME LINES: the value of figure NAME among "name value unit" lines.
value() { awk -v n="$1" '$1 == n { print $2 }' <<<"$2"; }

say "host start: $STARTS starts of the counter plugin's host"
"$bin/host_start" "$host" "$counter" counter "$STARTS"

say "schema: $VALIDATIONS validations of a Slack-like config against its compiled schema"
"$bin/schema_validate" "$VALIDATIONS"

if [ -x "$bin/package_install" ]; then
	say "package: sha256 and unpack of a ${PACKAGE_MIB} MiB plugin package"
	"$bin/package_install" "$counter" "$PACKAGE_MIB"
fi

say "raw frames: $RAW_EVENTS event frames through a socketpair"
raw=$("$bin/raw_frames" "$RAW_EVENTS")
echo "$raw"

say "daemon: events through POST /api/events to the counter plugin"
"$daemon" --listen 127.0.0.1:0 --host-path "$host" --plugin "$counter" --log-level info \
	2>"$log" &
dpid=$!
port=$(wait_log 1 'listening on ' | sed -E 's/.*:([0-9]+)$/\1/')
wait_log 1 'counter: ready' >/dev/null

# CPU (utime + stime, /proc) of the daemon and of its host processes over the
# throughput run, per event: what load on a shared machine barely moves.
cpu_of() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done; echo "$t"; }
hosts=$(pgrep -P "$dpid" | while read -r c; do echo "$c"; pgrep -P "$c" || true; done | tr '\n' ' ')
# shellcheck disable=SC2086
d0=$(cpu_of "$dpid") h0=$(cpu_of $hosts)
events=$("$bin/http_events" throughput "$port" counter "$EVENTS" "$BATCH")
# shellcheck disable=SC2086
d1=$(cpu_of "$dpid") h1=$(cpu_of $hosts)
echo "$events"
awk -v d=$((d1 - d0)) -v h=$((h1 - h0)) -v n="$EVENTS" -v hz="$(getconf CLK_TCK)" 'BEGIN {
	printf "events_cpu_us_daemon %.2f us/event\nevents_cpu_us_host %.2f us/event\n", d * 1e6 / hz / n, h * 1e6 / hz / n }'
"$bin/http_events" post "$port" plugin.counter.report
counted=$(wait_log 1 'counter: count=' | sed -E 's/.*count=([0-9]+).*/\1/')
echo "events_counted $counted events"

say "latency: single events at $RATE/s for $SECONDS_LAT s"
"$bin/http_events" latency "$port" "$RATE" "$SECONDS_LAT"
"$bin/http_events" post "$port" plugin.counter.report
report=$(wait_log 2 'counter: count=')
echo "event_latency_p50_us $(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$report") us"
echo "event_latency_p99_us $(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$report") us"
echo "event_latency_max_us $(sed -E 's/.*max_us=([0-9]+).*/\1/' <<<"$report") us"
echo "event_latency_samples $(sed -E 's/.*count=([0-9]+).*/\1/' <<<"$report") events"

say "latency: single events at $RATE_HIGH/s for $SECONDS_LAT s"
"$bin/http_events" latency "$port" "$RATE_HIGH" "$SECONDS_LAT"
"$bin/http_events" post "$port" plugin.counter.report
report=$(wait_log 3 'counter: count=')
echo "event_latency_20k_p99_us $(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$report") us"
echo "event_latency_20k_samples $(sed -E 's/.*count=([0-9]+).*/\1/' <<<"$report") events"

awk -v e="$(value events_per_s "$events")" -v r="$(value raw_frames_per_s "$raw")" \
	'BEGIN { printf "events_ratio %.3f ratio\n", e / r }'

kill -TERM "$dpid"
wait "$dpid" || { echo "bench: the daemon exited with $?" >&2; exit 1; }
dpid=

# One plugin's sequential ss_http_request rate to a loopback HTTPS receiver.
if [ -e "$build/tests/integration/plugins/net-a.so" ]; then
	say "egress: ${SS_BENCH_EGRESS:-2000} ss_http_request calls in a row over verified TLS"
	python3 "$root/bench/egress.py" "$root" "$build" "${SS_BENCH_EGRESS:-2000}"
else
	say "egress: not measured (the test plugins are not built: -Dtests=false)"
fi

# Plugin routes (issue 10): wrk on a plugin route beside /healthz, same daemon, same run.
if command -v wrk >/dev/null && [ -e "$build/tests/integration/plugins/routed.so" ]; then
	"$root/bench/routes.sh" "$root" "$build"
else
	say "routes: not measured (wrk not installed, or the test plugins not built)"
fi

# Plugin storage (issue 10): one plugin's sequential set/get beside pgbench running
# the same statements, one throwaway PostgreSQL, same run.
if [ -e "$build/tests/integration/plugins/routed.so" ] &&
	{ command -v pg_config >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }; then
	say "storage: ${SS_BENCH_STORAGE:-20000} set and get calls from one plugin, and pgbench"
	python3 "$root/bench/storage.py" "$root" "$build" "${SS_BENCH_STORAGE:-20000}" 1000
else
	say "storage: not measured (no PostgreSQL server binaries, or the test plugins not built)"
fi

# Durable events (with a database): 1, 2, 3 daemons on one throwaway
# PostgreSQL, beside a \copy of the same rows in the same run.
if command -v pg_config >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	say "durable events: ${SS_BENCH_DURABLE:-200000} events in batches of 500, 8 clients"
	python3 "$root/bench/durable.py" "$root" "$build" "${SS_BENCH_DURABLE:-200000}" 500 |
		grep -E '^durable_' |
		awk '{ print } /^durable_events_per_s_1d/ { d = $2 } /^durable_copy_baseline_per_s/ { c = $2 }
		     END { if (c > 0) printf "durable_ratio_1d %.3f ratio\n", d / c }'
else
	say "durable events: not measured (no PostgreSQL server binaries)"
fi

# N distinct plugins in one daemon: boot, memory, fan-out, latency at each N.
# shellcheck disable=SC2086
"$root/bench/scale.sh" "$root" "$build" ${SS_BENCH_SCALE:-1 10 64 200}

# hashicorp/go-plugin beside us (net/rpc, a plugin that parses each event's
# JSON, 8 concurrent callers), when Go and the library are installed.
if gp=$("$root/bench/goplugin/run.sh" "$work/goplugin"); then
	echo "$gp"
	awk -v e="$(value events_per_s "$events")" -v g="$(value goplugin_events_per_s "$gp")" \
		'BEGIN { printf "events_vs_goplugin %.2f ratio\n", e / g }'
else
	say "go-plugin: not measured (scripts/dev bench installs Go and the library)"
fi

# Delivery under many HTTP connections (issue 8, item 6): wrk, 4/50/1000 connections.
if command -v wrk >/dev/null; then
	"$root/bench/conns.sh" "$root" "$build" ${SS_BENCH_CONNS:-4 50 1000}
else
	say "wrk not installed: the connection section is skipped (apt-get install wrk)"
fi
