#!/bin/sh
# NAB benchmark: runs `ctmon replay --format nab` over every file of the NAB subset (25 files, 4
# categories) and scores the outputs with NAB's rules (standard, reward_low_FP_rate,
# reward_low_FN_rate profiles), two ways:
# - plain: one configuration for every file, the Analyzer's documented gauge profile
#   (AnalyzerConfig::gauge(), detectors/analyzer.cpp);
# - leave one category out: a configuration (from the candidates declared in nab_loco.py) and a
#   threshold chosen on three categories, the fourth scored with them; per category and pooled.
# No per-file or per-category settings. Prints figures; it is not a test.
#
#   bench/detectors/nab_bench.sh [path/to/ctmon] [nab data dir] [nab_score.py]
# defaults: build/monitor/cli/ctmon (else build-det/...), ../shared/data/nab,
# ../shared/tools/nab_score.py (relative to the repository, or ../../shared from a worktree). Keeps the scored outputs in
# $NAB_RESULTS (default: a temp dir).
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
default_ctmon=$repo/build/monitor/cli/ctmon
[ -x "$default_ctmon" ] || default_ctmon=$repo/build-det/monitor/cli/ctmon
ctmon=${1:-$default_ctmon}
shared=$repo/../shared
[ -d "$shared" ] || shared=$repo/../../shared  # a worktree one folder deeper
data=${2:-$shared/data/nab}
scorer=${3:-$shared/tools/nab_score.py}
results=${NAB_RESULTS:-$(mktemp -d)}

[ -x "$ctmon" ] || { echo "nab_bench: no ctmon binary at $ctmon (build the ctmon target)" >&2; exit 1; }
[ -d "$data" ] || { echo "nab_bench: no NAB data at $data" >&2; exit 1; }
[ -f "$scorer" ] || { echo "nab_bench: no NAB scorer at $scorer" >&2; exit 1; }

start=$(date +%s)
python3 "$repo/bench/detectors/nab_loco.py" "$ctmon" "$data" "$scorer" "$results"
echo "outputs in $results; $(($(date +%s) - start)) s"
