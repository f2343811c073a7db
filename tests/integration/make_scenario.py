"""Writes a replay CSV (timestamp,<18 counters>, cumulative packets) of a quiet home router with
episodes injected at known times, for the integration tests of replay, events and InfluxDB.

  make_scenario.py OUT.csv [--hours H] [--interval S] [--episode START_S:LEN_S:KIND]... [--seed N]
                   [--scale F]

--scale multiplies the quiet router's rates (0.01: as quiet as a test's network namespace).

KIND is invalid_burst (tcp fwd invalid x30), scan (tcp input new x40) or udp_storm (udp fwd new
x25). Times are seconds from the start; the recording starts at 2026-11-20T00:00:00Z.
"""
import argparse
import math
import random

PROTOS, HOOKS, STATES = ("tcp", "udp"), ("fwd", "input", "output"), ("new", "established", "invalid")
NAMES = [f"{p}_conntrack_{h}_{s}" for p in PROTOS for h in HOOKS for s in STATES]
START_UNIX_S = 1795132800  # 2026-11-20T00:00:00Z
BASE_PPS = {"new": 2.0, "established": 120.0, "invalid": 0.05}
EPISODE_EFFECT = {"invalid_burst": ("tcp_conntrack_fwd_invalid", 30.0),
                  "scan": ("tcp_conntrack_input_new", 40.0),
                  "udp_storm": ("udp_conntrack_fwd_new", 25.0)}


def poisson(rng, lam):
    if lam < 30:
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1
    return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--episode", action="append", default=[])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scale", type=float, default=1.0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    episodes = []
    for spec in a.episode:
        start, length, kind = spec.split(":")
        episodes.append((float(start), float(length), EPISODE_EFFECT[kind]))
    totals = {n: 0 for n in NAMES}
    with open(a.out, "w") as f:
        f.write("timestamp," + ",".join(NAMES) + "\n")
        steps = int(a.hours * 3600 / a.interval)
        for i in range(steps):
            t = i * a.interval
            for name in NAMES:
                state = name.rsplit("_", 1)[1]
                pps = BASE_PPS[state] * (0.3 if name.startswith("udp") else 1.0) * a.scale
                for start, length, (target, factor) in episodes:
                    if name == target and start <= t < start + length:
                        pps = max(pps, 1.0) * factor
                totals[name] += poisson(rng, pps * a.interval)
            stamp = START_UNIX_S + t
            f.write(f"{stamp:.3f}".rstrip("0").rstrip(".") + "," +
                    ",".join(str(totals[n]) for n in NAMES) + "\n")


if __name__ == "__main__":
    main()
