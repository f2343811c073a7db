"""A home router on one machine, end to end: a LAN client behind a NAT router that runs
`ctmon run --interval 1s`, household traffic that never stops, five WAN faults injected one after
the other, and the daemon killed (-9) and restarted between them. Each fault must leave an
episode, the quiet stretches none, and the crashes must cost no episode and at most a commit
interval of samples.

Why the detectors are pre-trained, and how. A fresh daemon scores nothing for 600 s (its warm-up)
and learns what "usual" is on this router only over tens of minutes; a test cannot wait that
long. So the test records the household's counters on this very router for a minute (`ctmon run`
on a scratch database, read back with `ctmon series --csv`), and synthesises 50 minutes of history
from those real per-second increments: blocks of 8-20 recorded seconds, taken in random (seeded)
order, each scaled by a random factor near 1 and jittered, summed into cumulative counters and
stamped at 1 s steps ending just before now. `ctmon replay --input` feeds that CSV through the
daemon's own pipeline into the database, which saves what the detectors learned; the daemon then
starts on that database, logs "detectors resumed" and scores from its fourth sample on. The
history is this household's own traffic, not a made-up profile, so what the detectors learned as
normal is what they then see between the faults.

Timing. The detectors merge a burst into the open episode when it comes within 60 s of that
episode's last active sample (EpisodeConfig::merge_gap_s), so a quiet stretch lasts at least
MIN_QUIET_S and until the previous fault's episode has closed: shorter ones would make one
episode of two faults and hide a false alarm between them. A kill -9 in a quiet stretch ends the
wait early, because the next start closes an episode the crash left open. That is why the test
takes about 7 minutes rather than 5.

Environment knobs, for investigating: CTMON_ROUTER_SEED (the seed of traffic, history and kill
moments), CTMON_ROUTER_KEEP=DIR (copy the database and logs there at the end).
"""
import csv
import io
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

from netns import (LAN_IP, ROUTER_LAN_IP, ROUTER_WAN_IP, SYSTEM_PYTHON, TRAFFIC, WAN_IP,
                   NetnsTestCase, ctmon_binary, sh)
from test_daemon_netns import read_csv

SEED = int(os.environ.get("CTMON_ROUTER_SEED", "20261201"))
INTERVAL_S = 1.0
COMMIT_S = 2.0
RECORD_S = 60             # the household's own counters, recorded for the history
HISTORY_S = 50 * 60       # synthesised from the recording: past the 600 s warm-up, 3000 samples
LEAD_S = 15               # quiet, scored, before the first fault
FAULT_S = 25
MIN_QUIET_S = 40
CLOSE_WAIT_S = 120        # an episode closes 60 s after its last active sample; generous on top
SLACK_S = 5               # an episode may open a few samples into a fault and end a few after
QUIET_GRACE_S = 10        # after a fault, traffic settles (retransmits, a reconnecting flow)
KILLS = 3                 # kill -9 in this many of the four quiet stretches between faults

# The kind each fault should get, by docs/events.md's rules. Asserted only where ctmon gets it
# right today; the others are printed, and belong to the detection-quality work.
EXPECTED_KIND = {"outage": "wan_drop", "loss": "wan_drop", "invalid_tcp": "invalid_burst",
                 "syn_scan": "scan", "udp_storm": "udp_storm"}
# The scan is named `scan` in most runs, but not all: the router's RSTs to the scanned ports
# raise tcp_conntrack_output_established as much as the SYNs raise tcp_conntrack_input_new, and
# when the former leads the evidence the kind falls back to `unknown` (1 run in 5 here).
KIND_ASSERTED = {"invalid_tcp", "udp_storm"}
# 30 % loss on a household's few connections a second changes the counters by less than the
# household varies by itself (retries add about half the new connections, at 3-4 a second), so it
# is reported, not required, until the detectors see slow drifts of that size.
DETECTION_ASSERTED = {"outage", "invalid_tcp", "syn_scan", "udp_storm"}

NAT = """table ip nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "wan0" masquerade
    }
}
"""


def wan_drop_rules(device, rule):
    """A netdev table dropping what arrives on `device`: loss on the WAN, before any conntrack
    or counter of that namespace sees the packet."""
    return f"""table netdev ctmon_test_fault {{
    chain wan_in {{
        type filter hook ingress device "{device}" priority 0; policy accept;
        {rule}
    }}
}}
"""


def events(db, *flags):
    out = sh(ctmon_binary(), "events", "--db", db, "--json", *flags).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def rfc3339(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(math.floor(ts)))


def synthesise_history(recorded_csv, out_path, seconds, end_ts, rng):
    """Writes `seconds` rows of replay CSV ending at `end_ts`, built from the recording's real
    per-second increments (see the module docstring)."""
    rows = list(csv.reader(io.StringIO(recorded_csv)))
    header, body = rows[0], rows[1:]
    times = [float(r[0]) for r in body]
    totals = [[int(v) if v else 0 for v in r[1:]] for r in body]
    deltas = [[max(0, b - a) for a, b in zip(prev, cur)]
              for prev, cur, t0, t1 in zip(totals, totals[1:], times, times[1:])
              if 0.5 < t1 - t0 < 1.5]  # a step of one interval: the rate of one second
    if len(deltas) < 30:
        raise AssertionError(f"only {len(deltas)} one-second steps recorded")
    cumulative = [0] * (len(header) - 1)
    with open(out_path, "w") as f:
        f.write(",".join(header) + "\n")
        written = 0
        while written < seconds:
            length = rng.randint(8, 20)
            first = rng.randrange(0, len(deltas) - length)
            scale = rng.uniform(0.8, 1.25)
            for step in deltas[first:first + length]:
                if written == seconds:
                    break
                for i, d in enumerate(step):
                    x = d * scale
                    # Randomised rounding keeps the mean; a little extra noise keeps identical
                    # tiles from looking identical.
                    n = int(x) + (1 if rng.random() < x - int(x) else 0)
                    if d > 3:
                        n = max(0, n + rng.randint(-1, 1))
                    cumulative[i] += n
                ts = end_ts - (seconds - 1 - written) * INTERVAL_S
                f.write(f"{ts:.3f}," + ",".join(map(str, cumulative)) + "\n")
                written += 1


class Footprint:
    """What the daemon takes, summed over its incarnations (each read just before it is killed or
    stopped): CPU time and bytes written, and the largest peak RSS and private dirty memory."""

    def __init__(self):
        self.cpu_ns = self.write_bytes = 0
        self.alive_s = 0.0
        self.hwm_kb = self.private_dirty_kb = 0

    def read(self, pid, alive_s):
        with open(f"/proc/{pid}/schedstat") as f:
            self.cpu_ns += int(f.read().split()[0])
        with open(f"/proc/{pid}/io") as f:
            io_ = dict(line.split(": ") for line in f.read().splitlines())
        self.write_bytes += int(io_["write_bytes"])
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f.read().splitlines())
        self.hwm_kb = max(self.hwm_kb, int(status["VmHWM"].split()[0]))
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Private_Dirty:"):
                    self.private_dirty_kb = max(self.private_dirty_kb, int(line.split()[1]))
        self.alive_s += alive_s

    def report(self):
        cpu_pct = 100.0 * self.cpu_ns / 1e9 / self.alive_s
        per_day_mb = self.write_bytes / self.alive_s * 86400 / 1e6
        return (f"footprint over {self.alive_s:.0f} s of `ctmon run --interval 1s --commit-interval "
                f"{COMMIT_S:.0f}s`: peak RSS (VmHWM) {self.hwm_kb} kB, private dirty "
                f"{self.private_dirty_kb} kB, CPU {cpu_pct:.2f} % of one core, "
                f"{self.write_bytes} bytes written to the database's disk ({per_day_mb:.1f} MB a day "
                f"extrapolated, at this short commit interval)")


class RouterEndToEnd(NetnsTestCase):
    def setUp(self):
        super().setUp()
        self.rng = random.Random(SEED)
        self.footprint = Footprint()
        self.incarnation = 0
        self.test_started = time.time()
        keep = os.environ.get("CTMON_ROUTER_KEEP")
        if keep:
            self.addCleanup(shutil.copytree, self.dir, keep, dirs_exist_ok=True)

    # --- the network ---

    def build_router(self):
        t = self.topo
        t.run(t.router, "nft", "-f", "-", input=NAT)
        t.serve(t.wan, "tcp", 8080)
        t.serve(t.wan, "udp", 5353)
        t.serve(t.router, "tcp", 8081)
        t.serve(t.router, "udp", 5354)
        # Bounded by the longest this test can take; the topology kills it earlier.
        t.spawn(t.lan, SYSTEM_PYTHON, TRAFFIC, "household", "900", str(SEED), WAN_IP, ROUTER_LAN_IP)

    # --- the daemon ---

    def start_daemon(self, *flags):
        self.incarnation += 1
        d = self.daemon("--interval", "1s", "--commit-interval", f"{COMMIT_S:.0f}s", *flags,
                        log_path=os.path.join(self.dir, f"daemon{self.incarnation}.log"))
        d.spawned = time.monotonic()
        d.wait_log("sampling table", 15)
        with open(f"/proc/{d.proc.pid}/comm") as f:
            self.assertEqual(f.read().strip(), "ctmon", "`ip netns exec` execs the daemon itself")
        return d

    def end_daemon(self, d, sig):
        self.footprint.read(d.proc.pid, time.monotonic() - d.spawned)
        return d.stop(sig)

    def pretrain(self):
        scratch = os.path.join(self.dir, "recording.db")
        d = self.daemon("--interval", "1s", "--commit-interval", "1s", db=scratch,
                        log_path=os.path.join(self.dir, "recording.log"))
        d.wait_log("sampling table", 15)
        time.sleep(RECORD_S)  # the household's minute, at its own pace
        self.assertEqual(d.stop(), 0, d.text())
        recorded = sh(ctmon_binary(), "series", "--db", scratch, "--csv").stdout
        history = os.path.join(self.dir, "history.csv")
        synthesise_history(recorded, history, HISTORY_S, time.time() - 2 * INTERVAL_S, self.rng)
        offset = time.strftime("%z")
        replay = sh(ctmon_binary(), "replay", "--input", history, "--db", self.db,
                    "--utc-offset", f"{offset[:3]}:{offset[3:]}", timeout=120)
        self.history_episodes = len(events(self.db))
        return replay

    # --- the faults ---

    def nft_fault(self, name, rule):
        t = self.topo
        t.run(t.wan, "nft", "-f", "-", input=wan_drop_rules("eth0", rule))
        t.run(t.router, "nft", "-f", "-", input=wan_drop_rules("wan0", rule))
        start = time.time()
        try:
            time.sleep(FAULT_S)
        finally:
            t.run(t.wan, "nft", "delete", "table", "netdev", "ctmon_test_fault")
            t.run(t.router, "nft", "delete", "table", "netdev", "ctmon_test_fault")
        return name, start, time.time()

    def traffic_fault(self, name, ns, *args):
        proc = self.topo.spawn(ns, SYSTEM_PYTHON, TRAFFIC, *args, stdout=subprocess.PIPE)
        self.assertEqual(proc.stdout.readline().strip(), "sending", f"{name} did not start")
        start = time.time()
        self.assertEqual(proc.wait(FAULT_S + 30), 0, f"{name} failed")
        return name, start, time.time()

    def faults(self):
        t = self.topo
        return [
            lambda: self.nft_fault("outage", "drop"),
            lambda: self.nft_fault("loss", "numgen random mod 10 < 3 drop"),
            # SYN+FIN from the WAN to the LAN host: forwarded, invalid both ways (the host's RST too).
            lambda: self.traffic_fault("invalid_tcp", t.wan, "invalid-tcp", LAN_IP, "8080", str(30 * FAULT_S),
                                       str(FAULT_S)),
            lambda: self.traffic_fault("syn_scan", t.wan, "syn-scan", ROUTER_WAN_IP, "60", str(FAULT_S)),
            # A LAN client asking 60 times a second, from a new port each time.
            lambda: self.traffic_fault("udp_storm", t.lan, "udp-storm", WAN_IP, "5353", "60", str(FAULT_S)),
        ]

    # --- waiting ---

    def wait_quiet(self, since, minimum_s):
        """Until `minimum_s` have passed since `since` and no episode is open (bounded)."""
        deadline = time.monotonic() + CLOSE_WAIT_S
        while time.time() < since + minimum_s or events(self.db, "--open"):
            self.assertLess(time.monotonic(), deadline, "an episode stayed open "
                            f"{CLOSE_WAIT_S} s: {events(self.db, '--open')}")
            time.sleep(1)

    def kill_and_restart(self, d):
        before = events(self.db, "--since", rfc3339(self.test_started))
        killed_at = time.time()
        self.assertEqual(self.end_daemon(d, signal.SIGKILL), -signal.SIGKILL)
        d = self.start_daemon()
        d.wait_log("detectors resumed", 15)
        after = {e["id"]: e for e in events(self.db, "--since", rfc3339(self.test_started))}
        for e in before:
            self.assertIn(e["id"], after, f"episode {e['id']} recorded before the kill is gone")
            if e["end"] is None:
                self.assertIn(f"episode {e['id']} was still open", d.text())
                self.assertIsNotNone(after[e["id"]]["end"], "the restart closes what the crash left open")
                e = dict(e, end=after[e["id"]]["end"], end_ts=after[e["id"]]["end_ts"])
            self.assertEqual(after[e["id"]], e, "an episode changed across the kill")
        return d, killed_at, before

    # --- the test ---

    def test_faults_make_episodes_quiet_makes_none_and_crashes_lose_nothing(self):
        self.build_router()
        self.pretrain()
        live_from = time.time()
        d = self.start_daemon()
        d.wait_log("detectors resumed", 15)
        learned = re.search(r"\((\d+) samples learned\)", d.text())
        self.assertGreaterEqual(int(learned.group(1)), HISTORY_S - 1, "the history was not learned")
        time.sleep(LEAD_S)

        kill_gaps = set(self.rng.sample(range(1, 5), KILLS))
        faults, kills, snapshots = [], [], []
        for i, inject in enumerate(self.faults()):
            if i > 0:
                previous_end = faults[-1][2]
                if i in kill_gaps:
                    # Somewhere in the stretch, while the previous episode is likely still open.
                    time.sleep(max(0.0, previous_end + self.rng.uniform(5, MIN_QUIET_S - 10) - time.time()))
                    d, killed_at, before = self.kill_and_restart(d)
                    kills.append(killed_at)
                    snapshots.append(before)
                self.wait_quiet(previous_end, MIN_QUIET_S)
            faults.append(inject())
        self.wait_quiet(faults[-1][2], QUIET_GRACE_S + 5)
        stop_at = time.time()
        self.assertEqual(self.end_daemon(d, signal.SIGTERM), 0, d.text())
        self.assertIn("everything saved", d.text())

        episodes = events(self.db, "--since", rfc3339(self.test_started))
        self.report_faults(faults, episodes)
        print(self.footprint.report(), file=sys.stderr)

        with self.subTest("no episode open after the clean stop"):
            self.assertEqual(events(self.db, "--open"), [])
        with self.subTest("every episode recorded before a kill is still there"):
            now = {e["id"]: e for e in episodes}
            for before in snapshots:
                for e in before:
                    self.assertIn(e["id"], now)
                    self.assertEqual(now[e["id"]]["start_ts"], e["start_ts"])
        with self.subTest("each fault has its episode"):
            missed = [name for name, _, _ in faults
                      if name in DETECTION_ASSERTED and self.episode_for(name, faults, episodes) is None]
            self.assertEqual(missed, [], "faults without an episode")
        with self.subTest("kinds"):
            for name, _, _ in faults:
                e = self.episode_for(name, faults, episodes)
                if name in KIND_ASSERTED and e is not None:
                    self.assertEqual(e["kind"], EXPECTED_KIND[name], f"{name}: {e['summary']}")
        with self.subTest("no episode in the quiet stretches"):
            stretches = [(live_from + 4 * INTERVAL_S, faults[0][1])]
            stretches += [(a[2] + QUIET_GRACE_S, b[1]) for a, b in zip(faults, faults[1:])]
            stretches.append((faults[-1][2] + QUIET_GRACE_S, stop_at))
            false = [e for e in episodes if any(lo < e["start_ts"] < hi for lo, hi in stretches)]
            self.assertEqual(false, [], "episodes where no fault was")
        with self.subTest("a kill -9 loses at most a commit interval and a sample"):
            _, rows = read_csv(self.db)
            live = [ts for ts, _ in rows if ts >= live_from]
            for killed_at in kills:
                last = max(ts for ts in live if ts < killed_at)
                # Counted in ticks, not seconds: a tick late on this loaded machine is no lost sample.
                lost = math.floor((killed_at - last) / INTERVAL_S)
                print(f"kill -9 at {rfc3339(killed_at)}: the last stored sample was {killed_at - last:.2f} s "
                      f"before it, {lost} sample(s) lost", file=sys.stderr)
                self.assertLessEqual(lost, round(COMMIT_S / INTERVAL_S) + 1,
                                     f"samples lost before the kill at {rfc3339(killed_at)}")
            # Elsewhere nothing is missing: every step is one interval, a skipped tick at most.
            steps = [(a, b) for a, b in zip(live, live[1:]) if not any(a < k < b for k in kills)]
            self.assertLess(max(b - a for a, b in steps), 2.5 * INTERVAL_S, "a sample is missing")

    # --- helpers of the assertions ---

    @staticmethod
    def episode_for(name, faults, episodes):
        _, start, end = next(f for f in faults if f[0] == name)
        overlapping = [e for e in episodes
                       if e["start_ts"] <= end + SLACK_S and (e["end_ts"] or math.inf) >= start - SLACK_S]
        return min(overlapping, key=lambda e: e["start_ts"], default=None)

    def report_faults(self, faults, episodes):
        lines = [f"\nrouter end to end, seed {SEED}: {len(episodes)} episodes in the live run, "
                 f"{self.history_episodes} in the synthesised history",
                 f"{'fault':<12} {'fault start':<20} {'len s':>5} {'episode':>7} {'delay s':>7} "
                 f"{'end delay s':>11} {'kind':<14} {'expected':<14} {'score':>5}"]
        for name, start, end in faults:
            e = self.episode_for(name, faults, episodes)
            if e is None:
                lines.append(f"{name:<12} {rfc3339(start):<20} {end - start:5.0f} {'none':>7} MISSED" +
                             ("" if name in DETECTION_ASSERTED else " (not asserted)"))
                continue
            end_delay = f"{e['end_ts'] - end:11.0f}" if e["end_ts"] else f"{'open':>11}"
            mark = "" if e["kind"] == EXPECTED_KIND[name] else " MISMATCH" + (
                "" if name in KIND_ASSERTED else " (not asserted)")
            lines.append(f"{name:<12} {rfc3339(start):<20} {end - start:5.0f} {e['id']:>7} "
                         f"{e['start_ts'] - start:7.0f} {end_delay} {e['kind']:<14} "
                         f"{EXPECTED_KIND[name]:<14} {e['score']:5.2f}{mark}")
        lines.append("all live episodes:")
        for e in episodes:
            lines.append(f"  {e['id']} {e['start']} .. {e['end']} {e['kind']} {e['score']:.2f}: {e['summary']}")
        print("\n".join(lines), file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
