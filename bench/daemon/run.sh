#!/bin/sh
# The whole daemon's CPU per sample and peak RSS: `ctmon run` in a throw-away namespace with the
# 18 counters, sampling every INTERVAL for SECONDS, read from /proc before SIGTERM, against the
# netlink reading measured in the same run: inside the daemon (reading_us_per_sample of its
# status, taken over the same samples: wall time, but a netlink dump never waits, so on a machine
# with nothing else to run that is its CPU time), and, in the same namespace right after, the
# bare reading (bench/nft's CounterReader loop) back to back and at the daemon's cadence.
# Target: the whole daemon <= 3x the reading inside it. The back-to-back loop reads with hot
# caches, which no daemon that sleeps between samples has: its ratio shows that cost, and the
# paced loop shows how much of it is only waking up cold. Needs root.
#   usage: bench/daemon/run.sh [BUILD_DIR] [INTERVAL] [SECONDS]
#   CTMON_BENCH_FLAGS   more flags for `ctmon run`, e.g. "--prometheus-listen 127.0.0.1:9101"
#   CTMON_BENCH_SCRAPE  a URL fetched (curl, inside the namespace) once a second while measuring,
#                       e.g. http://127.0.0.1:9101/metrics, to count what serving it costs
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build}
interval=${2:-0.05}
seconds=${3:-30}
ns=ctmbenchd$$
dir=$(mktemp -d)
run=$(mktemp -d -p /dev/shm)  # the pid file and the status socket live in RAM (/run) on a real system
scraper=""
trap 'kill $pid $scraper 2>/dev/null || true; ip netns del $ns 2>/dev/null || true; rm -rf "$dir" "$run"' EXIT
ctmon=$build/monitor/cli/ctmon
ip netns add "$ns"
ip -n "$ns" link set lo up  # for a scraper on 127.0.0.1
# shellcheck disable=SC2086 # CTMON_BENCH_FLAGS is split into flags on purpose
ip netns exec "$ns" "$ctmon" run --db "$dir/ctmon.db" --status-file "$run/ctmon.status" \
  --interval "$interval" --commit-interval 5s --retention-raw 1h ${CTMON_BENCH_FLAGS:-} 2>"$dir/log" &
pid=$!
# What the daemon answers on its socket (the same question `ctmon status` asks).
ask() {
  "$ctmon" status --db "$dir/ctmon.db" --status-file "$run/ctmon.status" --json 2>/dev/null |
    sed "s/.*\"$1\":\([0-9.e+-]*\).*/\1/"
}
# Start-up (loading the rules, opening and checking the database) is paid once: measure the
# steady state between two readings taken after it.
# CPU time in nanoseconds (schedstat): /proc/PID/stat's clock ticks (10 ms) are too coarse for
# a daemon that uses a few ms per second.
cpu_ns() { awk '{print $1}' "/proc/$pid/schedstat"; }
sleep 3
if [ -n "${CTMON_BENCH_SCRAPE:-}" ]; then
  ip netns exec "$ns" sh -c "while :; do curl -fsS -o /dev/null --max-time 2 '$CTMON_BENCH_SCRAPE'; sleep 1; done" &
  scraper=$!
fi
t0=$(cpu_ns); n0=$(ask samples); r0=$(ask reading_us_per_sample)
sleep "$seconds"
t1=$(cpu_ns); n1=$(ask samples); r1=$(ask reading_us_per_sample)
[ -z "$scraper" ] || { kill "$scraper"; wait "$scraper" 2>/dev/null || true; scraper=""; }
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
detector_us=$(ask detector_us_per_sample)
kill -TERM $pid; wait $pid || true
# The bare reading, same kernel, same table, same counters, right after.
reading_us=$(ip netns exec "$ns" "$build/bench/nft/bench_sampling_cost" --reader-only 20000)
# And at the daemon's cadence: each reading after a sleep, as the daemon takes them.
paced_samples=$(awk -v i="$interval" 'BEGIN { n = int(10 / i); print (n < 20 ? 20 : n) }')
paced_us=$(ip netns exec "$ns" "$build/bench/nft/bench_sampling_cost" --reader-only "$paced_samples" "$interval")
awk -v t="$((t1 - t0))" -v n="$((n1 - n0))" -v kb="$hwm_kb" -v i="$interval" -v s="$seconds" \
    -v d="$detector_us" -v n0="$n0" -v n1="$n1" -v r0="$r0" -v r1="$r1" -v r="$reading_us" -v p="$paced_us" 'BEGIN {
  cpu = t / 1e9
  per = cpu / n * 1e6
  printf "ctmon run, interval %ss, steady state over %ss: %d samples, %.2f s CPU\n", i, s, n, cpu
  printf "CPU per sample (netlink dump, detectors, ring buffer, commits, poll loop): %.1f us\n", per
  printf "of which detectors (wall time, mean over the run; the core is cold after each sleep): %s us\n", d
  ins = (r1 * n1 - r0 * n0) / n  # the mean since the start, over this window only
  printf "the netlink reading inside the daemon (over the same samples): %.1f us\n", ins
  printf "the bare netlink reading alone (CounterReader in a loop, same namespace): %.1f us\n", r
  printf "the bare netlink reading every %ss (sleeping between, cold caches as in the daemon): %.1f us\n", i, p
  printf "whole daemon / the reading inside it: %.2fx (target <= 3x)\n", per / ins
  printf "whole daemon / bare reading back to back (hot caches): %.2fx\n", per / r
  printf "whole daemon / bare reading at the same cadence (sleep included): %.2fx\n", per / p
  printf "CPU share at the default 5 s interval: %.4f%% of one core\n", per / 5e6 * 100
  printf "peak RSS (VmHWM): %.1f MB\n", kb / 1024
}'
