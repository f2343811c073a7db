#!/bin/sh
# The whole daemon's CPU per sample and peak RSS: `ctmon run` in a throw-away namespace with the
# 18 counters, sampling every INTERVAL for SECONDS, read from /proc before SIGTERM. Needs root.
#   usage: bench/daemon/run.sh [BUILD_DIR] [INTERVAL] [SECONDS]
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build}
interval=${2:-0.05}
seconds=${3:-30}
ns=ctmbenchd$$
dir=$(mktemp -d)
shm=$(mktemp -d -p /dev/shm)  # the status file lives in RAM (/run) on a real system
trap 'kill $pid 2>/dev/null || true; ip netns del $ns 2>/dev/null || true; rm -rf "$dir" "$shm"' EXIT
ip netns add "$ns"
ip netns exec "$ns" "$build/monitor/cli/ctmon" run --db "$dir/ctmon.db" --status-file "$shm/status" \
  --interval "$interval" --commit-interval 5s --retention-raw 1h 2>"$dir/log" &
pid=$!
# Start-up (loading the rules, opening and checking the database) is paid once: measure the
# steady state between two readings taken after it.
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
samples() { sed 's/.*"samples":\([0-9]*\).*/\1/' "$shm/status"; }
sleep 3
t0=$(ticks); n0=$(samples)
sleep "$seconds"
t1=$(ticks); n1=$(samples)
hz=$(getconf CLK_TCK)
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
detector_us=$(sed 's/.*"detector_us_per_sample":\([0-9.e+-]*\).*/\1/' "$shm/status")
kill -TERM $pid; wait $pid || true
awk -v t="$((t1 - t0))" -v hz="$hz" -v n="$((n1 - n0))" -v kb="$hwm_kb" -v i="$interval" -v s="$seconds" -v d="$detector_us" 'BEGIN {
  cpu = t / hz
  printf "ctmon run, interval %ss, steady state over %ss: %d samples, %.2f s CPU\n", i, s, n, cpu
  printf "CPU per sample (netlink dump, detectors, ring buffer, commits, status file): %.1f us\n", cpu / n * 1e6
  printf "of which detectors (wall time, mean over the run; the core is cold after each sleep): %s us\n", d
  printf "CPU share at the default 5 s interval: %.4f%% of one core\n", cpu / n / 5 * 100
  printf "peak RSS (VmHWM): %.1f MB\n", kb / 1024
}'
