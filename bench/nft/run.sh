#!/bin/sh
# Measures the CPU cost of one reading: ctmon vs a bare libnftnl loop vs the seed's script.
# Makes a throw-away namespace with the 18 counters loaded; needs root.
#   usage: bench/nft/run.sh [BUILD_DIR] [READER_SAMPLES] [SCRIPT_RUNS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-$repo/build}
seed=$repo/tests/fixtures/seed-collectd-exec.sh
[ -f "$seed" ] || { echo "bench: the seed script is not at $seed" >&2; exit 1; }
ns=ctmbench$$
shim=$(mktemp -d)
trap 'ip netns del $ns 2>/dev/null; rm -rf "$shim"' EXIT
# The seed runs `sudo nft ...`; as root a pass-through sudo measures the script without sudo.
printf '#!/bin/sh\nexec "$@"\n' > "$shim/sudo" && chmod +x "$shim/sudo"
ip netns add "$ns"
ip netns exec "$ns" nft -f "$repo/rules/conntrack-counter.nft"
PATH="$shim:$PATH" ip netns exec "$ns" "$build/bench/nft/bench_sampling_cost" "$seed" "${2:-10000}" "${3:-200}"
