#!/usr/bin/env bash
# A plugin route under load (issue 10, "Benchmark"): wrk keeps C connections
# calling GET /api/plugins/routed/hello (a public route of the routed test
# plugin: the daemon matches it, forwards an http.request, the host runs the
# handler and answers) for D seconds, and, on the same daemon in the same
# run, GET /healthz (answered by the daemon alone) as the baseline.
#
#   bench/routes.sh ROOT BUILDDIR
#
# Prints route_req_per_s, route_p99_us, route_non2xx, healthz_req_per_s,
# healthz_p99_us and route_vs_healthz (the ratio of the two rates).
# Bounded: D seconds per run (SS_BENCH_ROUTE_SECONDS, default 5), C
# connections (SS_BENCH_ROUTE_CONNS, default 50).
set -euo pipefail

root=$(cd "${1:?usage: bench/routes.sh ROOT BUILDDIR}" && pwd)
build=${2:?usage: bench/routes.sh ROOT BUILDDIR}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
SECS=${SS_BENCH_ROUTE_SECONDS:-5}
CONNS=${SS_BENCH_ROUTE_CONNS:-50}

host="$build/plugin-host/streamspace-plugin-host"
daemon="$build/daemon/streamspaced"
routed="$build/tests/integration/plugins/routed.so"
command -v wrk >/dev/null || { echo "bench/routes.sh: wrk is not installed" >&2; exit 1; }
[ -e "$routed" ] || { echo "bench/routes.sh: $routed is not built (-Dtests=false?)" >&2; exit 1; }
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh" routes

mkdir -p "$work/routed"
cp "$routed" "$work/routed/"
cat >"$work/routed/manifest.json" <<'JSON'
{"name": "routed", "version": "1.0.0", "displayName": "routed", "description": "bench",
 "author": "bench", "entrypoints": {"main": "routed.so"}, "permissions": ["routes"]}
JSON
chmod -R a+rX "$work/routed"

"$daemon" --listen 127.0.0.1:0 --host-path "$host" --plugin "$work/routed/routed.so" \
	--log-level info 2>"$log" &
dpid=$!
port=$(wait_log 1 'listening on ' | sed -E 's/.*:([0-9]+)$/\1/')
wait_log 1 'routed: routes declared' >/dev/null
wait_log 1 'routed: ready' >/dev/null

# us VALUE: wrk's "1.23ms" / "850.00us" / "1.01s" in microseconds.
us() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); m = 1 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); m = 1000 }
		else if (v ~ /s$/) { sub(/s$/, "", v); m = 1000000 }
		printf "%d", v * m }'
}

# run NAME PATH: wrk against PATH, figures NAME_req_per_s, NAME_p99_us, NAME_non2xx.
run() {
	local out
	say "routes: $CONNS connections on $2 for $SECS s"
	out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 10s --latency "http://127.0.0.1:$port$2" 2>&1)
	[ -z "${SS_BENCH_VERBOSE:-}" ] || echo "$out" >&2
	echo "$1_req_per_s $(awk '/^Requests\/sec:/ { printf "%d", $2 }' <<<"$out") req/s"
	echo "$1_p99_us $(us "$(awk '$1 == "99%" { print $2 }' <<<"$out")") us"
	echo "$1_non2xx $(awk '/Non-2xx/ { n = $NF } END { print n + 0 }' <<<"$out") responses"
}

health=$(run healthz /healthz)
route=$(run route /api/plugins/routed/hello)
echo "$route"
echo "$health"
awk -v r="$(awk '$1 == "route_req_per_s" { print $2 }' <<<"$route")" \
	-v h="$(awk '$1 == "healthz_req_per_s" { print $2 }' <<<"$health")" \
	'BEGIN { if (h > 0) printf "route_vs_healthz %.3f ratio\n", r / h }'
if grep -q 'routed: host crashed' "$log"; then
	echo "bench/routes.sh: the plugin's host crashed during the run" >&2
	exit 1
fi
