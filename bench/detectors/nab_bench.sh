#!/bin/sh
# NAB benchmark: runs `ctmon replay --format nab` over every file of the NAB subset, then scores
# the outputs with NAB's rules (standard, reward_low_FP_rate, reward_low_FN_rate profiles).
# One configuration for every file: the Analyzer's documented gauge profile
# (AnalyzerConfig::gauge(), detectors/analyzer.cpp). Prints figures; it is not a test.
#
#   bench/detectors/nab_bench.sh [path/to/ctmon] [nab data dir] [nab_score.py]
# defaults: build-det/monitor/cli/ctmon, ../shared/data/nab, ../shared/tools/nab_score.py
# (relative to the repository). Keeps the scored outputs in $NAB_RESULTS (default: a temp dir).
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
ctmon=${1:-$repo/build-det/monitor/cli/ctmon}
data=${2:-$repo/../shared/data/nab}
scorer=${3:-$repo/../shared/tools/nab_score.py}
results=${NAB_RESULTS:-$(mktemp -d)}

[ -x "$ctmon" ] || { echo "nab_bench: no ctmon binary at $ctmon (build the ctmon target)" >&2; exit 1; }
[ -d "$data" ] || { echo "nab_bench: no NAB data at $data" >&2; exit 1; }

files=0
start=$(date +%s.%N)
for f in "$data"/*/*.csv; do
  category=$(basename "$(dirname "$f")")
  mkdir -p "$results/$category"
  "$ctmon" replay --format nab --input "$f" --scores-out "$results/$category/$(basename "$f")" >/dev/null
  files=$((files + 1))
done
end=$(date +%s.%N)
echo "scored $files files in $(echo "$end - $start" | bc) s; outputs in $results"
python3 "$scorer" --results "$results"
