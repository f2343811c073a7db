#!/bin/sh
# What the probes cost the daemon: CPU time and write syscalls of `ctmon run` over the same
# duration with probes off and with 2 targets (the loopback's IPv4 and IPv6 addresses, so only
# ctmon's own work and the kernel's echo are measured), in a throw-away network namespace.
# Root only. Prints µs of CPU per interval and write syscalls per commit, off vs on.
#
#   bench/probe/run.sh [CTMON] [SECONDS] [PER_INTERVAL]
set -eu
CTMON=${1:-build/monitor/cli/ctmon}
SECONDS_RUN=${2:-30}
PER_INTERVAL=${3:-5}
NS=ctmonbench$$
DIR=$(mktemp -d)
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$DIR"' EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up

# run NAME PROBE...: runs the daemon for SECONDS_RUN s and prints "NAME cpu_us_per_interval syscw_per_commit".
run() {
	name=$1
	shift
	ip netns exec "$NS" "$CTMON" run --db "$DIR/$name.db" --status-file "$DIR/$name.status" \
		--interval 1s --commit-interval 5s --probe-per-interval "$PER_INTERVAL" "$@" \
		>"$DIR/$name.log" 2>&1 &
	wrapper=$!
	sleep 1
	pid=$(sed 's/.*"pid":\([0-9]*\).*/\1/' "$DIR/$name.status")
	# schedstat's first field: nanoseconds on a CPU (the tick-based utime is too coarse here).
	start=$(awk '{print $1}' "/proc/$pid/schedstat")
	wstart=$(awk '/^syscw/ {print $2}' "/proc/$pid/io")
	sleep "$SECONDS_RUN"
	end=$(awk '{print $1}' "/proc/$pid/schedstat")
	wend=$(awk '/^syscw/ {print $2}' "/proc/$pid/io")
	kill -TERM "$pid"
	wait "$wrapper" || true
	awk -v n="$name" -v t="$((end - start))" -v s="$SECONDS_RUN" -v w="$((wend - wstart))" \
		'BEGIN { printf "%-8s %7.0f us CPU per 1 s interval (%.3f %% of a core)  %5.1f write syscalls per 5 s commit\n", n, t / 1e3 / s, t / 1e7 / s, w / (s / 5) }'
}

run off --probe off
run probes --probe lan:127.0.0.1 --probe v6=lan:[::1]
