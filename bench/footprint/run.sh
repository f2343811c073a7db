#!/usr/bin/env bash
# ctmon's footprint on a router, as one table: what it takes on flash (the stripped binary of a
# size-optimised build, and the shared libraries it links), in RAM (peak RSS of a running daemon,
# private and shared), on the CPU (share of one core at a 1 s interval) and in flash writes
# (bytes a day). Needs root (a throw-away network namespace).
#
#   bench/footprint/run.sh [--seconds N] [--router] [--arches "s390x armhf arm64 mipsel"] [--out DIR]
#
#   --seconds  how long the daemon runs at 1 s (default 120; it commits every 30 s meanwhile)
#   --router   run it as the end-to-end router instead (tests/integration/test_router_netns.py:
#              a NAT router in namespaces, household traffic, the five WAN faults repeated until
#              --seconds have passed, forwarding to a real InfluxDB; no kill -9), at the default
#              5 min commit interval; --seconds 600 for the README's figures
#   --arches   also cross-build the size-optimised binary for these (tests/cross/stage.sh stages
#              their libraries; an architecture whose cross g++ is missing is reported as such)
#   --out      build directories and logs (default build-footprint)
#
# Flash: `-DCMAKE_BUILD_TYPE=MinSizeRel` (-Os), with and without -ffunction-sections
# -fdata-sections -Wl,--gc-sections, stripped with strip --strip-all, as a package would ship it.
# Libraries: every file `ldd` resolves (symlinks followed), as installed on this machine.
# RAM and CPU: `ctmon run --interval 1s --commit-interval 30s` in its own network namespace
# (it loads the counter rules there; a bounded ping on the namespace's loopback moves them),
# /proc/PID/smaps_rollup read every second (the reading with the largest Rss is reported) and
# VmHWM at the end; CPU is utime+stime from /proc/PID/stat between second 5 and the end, so
# start-up (rules, database check) is left out. Flash writes: build/bench/store/store_bytes_per_day
# --quick, the store's counting-VFS figure for the daemon's default configuration at 1 s (the
# daemon's own run is too short to span a day of commits).
# With --router the RAM and CPU figures are those of the router test's daemon (its smaps_rollup
# read every second, VmHWM, CPU time from /proc/PID/schedstat over its whole life), and flash
# writes are also measured: /proc/PID/io write_bytes (the bytes of page cache the daemon dirtied,
# i.e. what the kernel writes back: its database, WAL and -shm files, and its few log lines)
# divided by the daemon's lifetime and multiplied by a day. That day has a fault every minute or so, each an episode written the moment
# it opens and closes: an upper bound for a router, beside store_bytes_per_day's quiet day.
set -euo pipefail

me=bench/footprint/run.sh
die() { echo "$me: $*" >&2; exit 1; }
seconds=120 arches="" out="" router=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) [ $# -ge 2 ] || die "--seconds needs a value"; seconds=$2; shift ;;
    --arches) [ $# -ge 2 ] || die "--arches needs a value"; arches=$2; shift ;;
    --router) router=1 ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift ;;
    -h|--help) sed -n '2,35s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
case "$seconds" in ''|*[!0-9]*) die "--seconds '$seconds': expected a whole number of seconds" ;; esac
[ "$seconds" -ge 10 ] || die "--seconds $seconds: at least 10, so a steady state is measured"
[ "$(id -u)" = 0 ] || die "needs root for its network namespace (ip netns add)"

repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${out:-$repo/build-footprint}
mkdir -p "$out"
out=$(cd "$out" && pwd)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
gc_flags=(-DCMAKE_CXX_FLAGS="-ffunction-sections -fdata-sections" -DCMAKE_EXE_LINKER_FLAGS="-Wl,--gc-sections")
rows=()
row() { rows+=("$(printf '| %s | %s |' "$1" "$2")"); }
kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.2f MiB", b / 1048576 }'; }

# build NAME [cmake args...]: a size-optimised ctmon in $out/NAME; prints the binary's path.
build() {
  local name=$1
  shift
  cmake -S "$repo" -B "$out/$name" -DCMAKE_BUILD_TYPE=MinSizeRel -DCTMON_TESTS=OFF -DCTMON_BENCH=OFF \
    "${launcher[@]}" "$@" >"$out/$name.log" 2>&1 || die "configuring $name failed (log: $out/$name.log)"
  cmake --build "$out/$name" -j2 --target ctmon >>"$out/$name.log" 2>&1 || die "building $name failed (log: $out/$name.log)"
  echo "$out/$name/monitor/cli/ctmon"
}
# stripped_size STRIP BINARY: size in bytes of a stripped copy.
stripped_size() {
  "$1" --strip-all -o "$2.stripped" "$2" || die "$1 failed on $2"
  stat -c %s "$2.stripped"
}

# ---- flash: the binary and what it links --------------------------------------------------------
echo "$me: building the size-optimised binaries in $out" >&2
plain=$(build x86_64-minsize)
gc=$(build x86_64-minsize-gc "${gc_flags[@]}")
row "stripped ctmon, x86-64, -Os" "$(kib "$(stripped_size strip "$plain")")"
row "stripped ctmon, x86-64, -Os + gc-sections" "$(kib "$(stripped_size strip "$gc")")"
# The libraries ctmon names itself (readelf's NEEDED) one by one; the total counts everything
# the loader maps, their own dependencies (OpenSSL, GnuTLS, Kerberos for libcurl...) included.
needed=" $(readelf -d "$gc" | awk '/(NEEDED)/ {gsub(/[][]/, "", $NF); printf "%s ", $NF}')"
total=0 count=0
while read -r lib path; do
  size=$(stat -L -c %s "$path")
  total=$((total + size)) count=$((count + 1))
  case "$needed" in *" $lib "*) row "&nbsp;&nbsp;links $lib" "$(kib "$size")" ;; esac
done < <(ldd "$gc" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3} $1 ~ /^\// {print $1, $1}')
row "all $count shared libraries it loads, x86-64, in total" "$(mib "$total")"

for arch in $arches; do
  case "$arch" in
    s390x) triplet=s390x-linux-gnu ;;
    armhf) triplet=arm-linux-gnueabihf ;;
    arm64) triplet=aarch64-linux-gnu ;;
    mipsel) triplet=mipsel-linux-gnu ;;
    *) die "--arches: unknown architecture '$arch' (s390x, armhf, arm64, mipsel)" ;;
  esac
  if ! command -v "$triplet-g++" >/dev/null; then
    row "stripped ctmon, $arch, -Os + gc-sections" "not built: no $triplet-g++ (packaging/debian/install-deps --cross $arch)"
    continue
  fi
  echo "$me: staging $arch's libraries and cross-building" >&2
  "$repo/tests/cross/stage.sh" "$arch" "$out/$arch-sysroot" >&2 || die "staging $arch's libraries failed"
  bin=$(build "$arch-minsize-gc" --toolchain "$repo/cmake/toolchains/$arch.cmake" \
          -DCTMON_CROSS_SYSROOT="$out/$arch-sysroot" "${gc_flags[@]}")
  row "stripped ctmon, $arch, -Os + gc-sections" "$(kib "$(stripped_size "$triplet-strip" "$bin")")"
done

# ---- RAM, CPU and flash writes: the end-to-end router ------------------------------------------
router_rows() {
  local json=$1
  python3 - "$json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
mb = lambda kb: kb / 1000
rows = [
    (f"daemon peak RSS (VmHWM), router at 1 s, {f['alive_s']:.0f} s", f"{mb(f['vm_hwm_kb']):.1f} MB"),
    ("&nbsp;&nbsp;largest smaps_rollup Rss: shared / private (of which dirty) / Pss",
     f"{mb(f['rss_kb']):.1f} MB: {mb(f['shared_kb']):.1f} / {mb(f['private_kb']):.1f} "
     f"({mb(f['private_dirty_kb']):.1f}) / {mb(f['pss_kb']):.1f} MB"),
    ("daemon CPU, router at 1 s, share of one core (its whole life)", f"{f['cpu_pct_one_core']:.2f} %"),
    (f"bytes written a day, router at 1 s, {f['commit_interval_s']:g} s commits, InfluxDB on, "
     f"{f['episodes']} episodes in {f['alive_s']:.0f} s (/proc/PID/io write_bytes, extrapolated)",
     f"{f['write_bytes_per_day'] / 1e6:.2f} MB ({f['write_bytes']} bytes; "
     f"{f['write_bytes'] / max(1, f['episodes']) / 1e3:.0f} kB per episode, quiet time included)"),
    ("&nbsp;&nbsp;database files at the end (db, -wal, -shm)",
     " / ".join(f"{f['db_file_bytes'].get(k, 0) / 1024:.0f} KiB" for k in ("", "-wal", "-shm"))),
]
for name, value in rows:
    print(f"{name}\t{value}")
PY
}
if [ "$router" = 1 ]; then
  echo "$me: running the end-to-end router for $seconds s (tests/integration/test_router_netns.py)" >&2
  run_dir=$(mktemp -d)
  trap 'rm -rf "$run_dir"' EXIT
  # The test's assertions run too. The figures are written before them, so a run in which the
  # detectors got a fault wrong (detection quality, not footprint) still measures; it is said.
  if ! (cd "$repo/tests/integration" && CTMON="$gc" PYTHONDONTWRITEBYTECODE=1 CTMON_ROUTER_SECONDS="$seconds" \
        CTMON_ROUTER_KILLS=0 CTMON_ROUTER_COMMIT_S=300 CTMON_ROUTER_FOOTPRINT_JSON="$run_dir/footprint.json" \
        /usr/bin/python3 test_router_netns.py) >"$out/router.log" 2>&1; then
    [ -s "$run_dir/footprint.json" ] || die "the router run failed before measuring (log: $out/router.log)"
    echo "$me: the router run's assertions failed (see $out/router.log); its figures stand" >&2
    row "router run" "its test assertions FAILED (see $out/router.log); figures measured anyway"
  fi
  echo "$me: the router's faults, episodes and footprint line: $out/router.log" >&2
  while IFS=$'\t' read -r name value; do row "$name" "$value"; done < <(router_rows "$run_dir/footprint.json")
fi

# ---- RAM and CPU: the daemon at 1 s -------------------------------------------------------------
if [ "$router" = 0 ]; then
echo "$me: running ctmon run at 1 s for $seconds s" >&2
ns=ctmfoot$$
run_dir=$(mktemp -d)
pid="" ping_pid=""
cleanup() {
  [ -z "$ping_pid" ] || kill "$ping_pid" 2>/dev/null || true
  [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$run_dir"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
daemon_args=(run --db "$run_dir/ctmon.db" --interval 1s --commit-interval 30s)
# The live-state file, when this ctmon has one, goes to the temporary folder too.
if "$gc" run --help | grep -q -- '--status-file'; then daemon_args+=(--status-file "$run_dir/status"); fi
ip netns exec "$ns" "$gc" "${daemon_args[@]}" 2>"$run_dir/log" &
pid=$!
ip netns exec "$ns" ping -q -i 0.2 -c $((seconds * 5)) 127.0.0.1 >/dev/null 2>&1 &
ping_pid=$!
stat_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
best_rss=0 best=""
for ((t = 1; t <= seconds; t++)); do
  sleep 1
  kill -0 "$pid" 2>/dev/null || die "ctmon run stopped after $t s: $(tail -n 1 "$run_dir/log")"
  if [ "$t" -eq 5 ]; then ticks0=$(stat_ticks) t0=$(date +%s.%N); fi
  read -r rss line < <(awk '/^(Rss|Pss|Shared_Clean|Shared_Dirty|Private_Clean|Private_Dirty):/ {v[$1] = $2}
    END {print v["Rss:"], v["Rss:"], v["Pss:"], v["Shared_Clean:"] + v["Shared_Dirty:"],
         v["Private_Clean:"] + v["Private_Dirty:"], v["Private_Dirty:"]}' "/proc/$pid/smaps_rollup")
  if [ "$rss" -gt "$best_rss" ]; then best_rss=$rss best=$line; fi
done
ticks1=$(stat_ticks)
t1=$(date +%s.%N)
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
kill -TERM "$pid"
wait "$pid" || die "ctmon run exited with status $? on SIGTERM: $(tail -n 1 "$run_dir/log")"
pid=""
read -r rss_kb pss_kb shared_kb private_kb private_dirty_kb <<<"$best"
row "daemon peak RSS (VmHWM), x86-64, -Os + gc-sections" "$(awk -v k="$hwm_kb" 'BEGIN {printf "%.1f MB", k / 1000}')"
row "&nbsp;&nbsp;largest smaps_rollup Rss: shared / private (of which dirty) / Pss" \
    "$(awk -v r="$rss_kb" -v s="$shared_kb" -v p="$private_kb" -v d="$private_dirty_kb" -v q="$pss_kb" \
         'BEGIN {printf "%.1f MB: %.1f / %.1f (%.1f) / %.1f MB", r / 1000, s / 1000, p / 1000, d / 1000, q / 1000}')"
row "daemon CPU at 1 s, share of one core (seconds 5-$seconds)" \
    "$(awk -v t="$((ticks1 - ticks0))" -v hz="$(getconf CLK_TCK)" -v a="$t0" -v b="$t1" \
         'BEGIN {printf "%.2f %%", t / hz / (b - a) * 100}')"
fi

# ---- flash writes --------------------------------------------------------------------------------
bytes_bench=$repo/build/bench/store/store_bytes_per_day
if [ -x "$bytes_bench" ]; then
  echo "$me: measuring bytes written per day (build/bench/store/store_bytes_per_day --quick)" >&2
  mkdir -p /var/tmp/ctmon-footprint
  figure=$("$bytes_bench" --dir /var/tmp/ctmon-footprint --quick | awk -F'|' '/ctmon default/ && /@1s/ {
    gsub(/^ +| +$/, "", $3); gsub(/^ +| +$/, "", $4); print $3 " through SQLite; " $4 " of pages dirtied (with -shm)"}')
  rm -rf /var/tmp/ctmon-footprint
  row "bytes written to flash per day at 1 s (default 5 min commits)" "${figure:-not found in the output of store_bytes_per_day}"
else
  row "bytes written to flash per day at 1 s" "not measured: build build/bench/store/store_bytes_per_day first"
fi

printf '| %s | %s |\n|---|---|\n' "ctmon footprint ($(uname -m) host, $(date -u +%Y-%m-%d))" "figure"
printf '%s\n' "${rows[@]}"
