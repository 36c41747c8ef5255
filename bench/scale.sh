#!/usr/bin/env bash
# The scale section of the benchmarks: N distinct plugins in one daemon.
#
#   bench/scale.sh ROOT BUILDDIR [N...]     (default N: 1 10 64 200)
#
# For each N it builds N copies of plugins/counter/counter.c, each under
# its own name (counter001, ...: a host runs a plugin only under the name
# it declares), starts the daemon with N --plugin, and prints, as
# "name value unit" lines with N in the name:
#   scale_boot_ms_N            daemon exec to the Nth "ready" in its log
#   scale_pss_total_kib_N      Pss of the daemon and every process under it
#                              (hosts, their PID-namespace waiters), idle
#   scale_pss_daemon_kib_N     the daemon's own share of that
#   scale_pss_per_host_kib_N   (total - daemon) / N
#   scale_fanout_per_s_N       one stream of events delivered to all N
#                              (events x N / time until the slowest acked all)
#   scale_fanout_dropped_N     drops during that (0: the figure is deliveries)
#   scale_latency_p99_us_N     POST to callback at SS_BENCH_RATE/s, the worst
#                              p99 over the N plugins
# N above what the open-file limit allows (--plugin's bound, see
# daemon/runtime/hostfds.h) is skipped with a note on stderr. With N = 200 among the
# sizes and PostgreSQL's server binaries installed, it then runs the
# database point (bench/scale_db.py: the same N from the plugin directory,
# installed and enabled in a throwaway PostgreSQL, scale_db_* figures);
# SS_BENCH_SCALE_DB names other sizes for it ("" for none).
set -euo pipefail

root=$(cd "${1:?usage: bench/scale.sh ROOT BUILDDIR [N...]}" && pwd)
build=${2:?usage: bench/scale.sh ROOT BUILDDIR [N...]}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
shift 2
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1 10 64 200)

DELIVERIES=${SS_BENCH_FANOUT_DELIVERIES:-640000} # deliveries per fan-out run
RATE=${SS_BENCH_RATE:-2000}
SECONDS_LAT=${SS_BENCH_SCALE_LATENCY_SECONDS:-2}
IDLE_MS=${SS_BENCH_IDLE_MS:-500}

bin="$build/bench"
host="$build/plugin-host/streamspace-plugin-host"
daemon="$build/daemon/streamspaced"
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh" scale

# The hosts' descriptors count against the daemon's open-file limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

pss_of() { awk '/^Pss:/ { print $2; exit }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }

# Every process under pid $1, itself included.
tree_of() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2; pids[NR] = $1 }
		END {
			for (i in pids) {
				p = pids[i]
				for (q = p; q != "" && q > 1; q = parent[q])
					if (q == root) { print p; break }
			}
		}'
}

# N distinct counter plugins in $work/p$N, compiled two at a time.
build_plugins() {
	local n=$1 dir="$work/p$1"
	mkdir -p "$dir"
	# shellcheck disable=SC2046
	seq -f '%03g' 1 "$n" | xargs -P 2 -I{} cc -O2 -fPIC -shared -fvisibility=hidden \
		-DCOUNTER_NAME='"counter{}"' -I "$root/sdk/include" $(pkg-config --cflags json-c) \
		"$root/plugins/counter/counter.c" -o "$dir/counter{}.so"
}

# daemon/runtime/hostfds.h: 2 per host, 1 per host starting (16), 5 + 256 kept.
max_plugins=$((($(ulimit -n) - 256 - 5 - 16) / 2))
for n in "${sizes[@]}"; do
	if [ "$n" -gt "$max_plugins" ]; then
		say "scale: N=$n skipped: the open-file limit $(ulimit -n) allows $max_plugins --plugin"
		continue
	fi
	say "scale: $n plugins: building them"
	build_plugins "$n"
	args=()
	for so in "$work/p$n"/counter*.so; do args+=(--plugin "$so"); done
	: >"$log"
	say "scale: $n plugins: boot, memory, fan-out, latency"
	t0=$(date +%s%N)
	"$daemon" --listen 127.0.0.1:0 --host-path "$host" "${args[@]}" --log-level info 2>"$log" &
	dpid=$!
	wait_log "$n" ': ready: pid' >/dev/null
	t1=$(date +%s%N)
	echo "scale_boot_ms_$n $(((t1 - t0) / 1000000)) ms"
	port=$(grep -m1 'listening on ' "$log" | sed -E 's/.*:([0-9]+)$/\1/')

	sleep "$(awk -v ms="$IDLE_MS" 'BEGIN { print ms / 1000 }')"
	total=0
	for p in $(tree_of "$dpid"); do total=$((total + $(pss_of "$p"))); done
	own=$(pss_of "$dpid")
	echo "scale_pss_total_kib_$n $total KiB"
	echo "scale_pss_daemon_kib_$n $own KiB"
	echo "scale_pss_per_host_kib_$n $(((total - own) / n)) KiB"

	events=$((DELIVERIES / n))
	[ "$events" -ge 1000 ] || events=1000
	read -r rate dropped < <("$bin/http_events" fanout "$port" counter "$n" "$events" 1000)
	echo "scale_fanout_per_s_$n $rate deliveries/s"
	echo "scale_fanout_dropped_$n $dropped events"

	# A report first: it starts every histogram over, without the fan-out's events.
	"$bin/http_events" post "$port" plugin.counter.report
	wait_log "$n" 'count=' >/dev/null
	"$bin/http_events" latency "$port" "$RATE" "$SECONDS_LAT"
	"$bin/http_events" post "$port" plugin.counter.report
	wait_log $((2 * n)) 'count=' >/dev/null
	p99=$(grep -- 'count=' "$log" | tail -n "$n" | sed -E 's/.*p99_us=([0-9]+).*/\1/' | sort -n | tail -n1)
	echo "scale_latency_p99_us_$n $p99 us"

	kill -TERM "$dpid"
	wait "$dpid" || { echo "bench: the daemon exited with $?" >&2; exit 1; }
	dpid=
	rm -rf "$work/p$n"
done

# The database point: the registry's start-up path, not --plugin.
db_sizes=${SS_BENCH_SCALE_DB-}
if [ -z "${SS_BENCH_SCALE_DB+set}" ]; then
	for n in "${sizes[@]}"; do [ "$n" = 200 ] && db_sizes=200; done
fi
if [ -n "$db_sizes" ]; then
	if command -v pg_config >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
		for n in $db_sizes; do python3 "$root/bench/scale_db.py" "$root" "$build" "$n"; done
	else
		say "scale: the database point not measured (no PostgreSQL server binaries)"
	fi
fi
