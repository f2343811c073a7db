"""Conntrack table health against the real kernel: in the router namespace of a fresh topology,
the daemon stores the table's entries and limit and the kernel's conntrack statistics, and they
are what `conntrack -C`, `sysctl net.netfilter.nf_conntrack_max` and `conntrack -S` say.

The table cannot be filled here (nf_conntrack_max is read-only inside a namespace), so the full
table and its drops are tested on recorded messages (tests/monitor/conntrack/); this test shows
that the real messages parse and end up in the store as docs/measurements.md says.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import SYSTEM_PYTHON, WAN_IP, NetnsTestCase, ctmon_binary, sh, wait_for  # noqa: E402

INTERVAL_S = 0.2
FLOWS = 200
PORT = 7000
STATS = ("invalid", "insert_failed", "drop", "early_drop", "error", "search_restart", "clash_resolve",
         "chain_toolong")
# `conntrack -S` prints chain_toolong as "chaintoolong"
CONNTRACK_S_NAME = {"chain_toolong": "chaintoolong"}

# One process, FLOWS sockets: FLOWS UDP flows (distinct source ports) through the router, each
# answered by the WAN's echo server, so every one is a conntrack entry in the router.
FLOW_MAKER = f"""
import socket
socks = []
for _ in range({FLOWS}):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(b"ctmon", ("{WAN_IP}", {PORT}))
    socks.append(s)
for s in socks:
    s.recv(64)
print("answered")
"""


def store_samples(db, prefix="conntrack_"):
    """[(ts, {name: (packets, bytes)})] from the database, with bytes (store_samples.cpp)."""
    tool = os.environ.get("CTMON_STORE_SAMPLES")
    if not tool:
        sys.exit("CTMON_STORE_SAMPLES must name the built store_samples (ctest sets it)")
    out = sh(tool, db, prefix).stdout
    rows = [json.loads(line) for line in out.splitlines() if line]
    return [(r["ts"], {k: tuple(v) for k, v in r["counters"].items()}) for r in rows]


def mean_values(rows, name):
    """[(ts, value)] of the mean counter `name`: Δbytes / Δpackets between successive samples."""
    values = []
    for (_, a), (ts, b) in zip(rows, rows[1:]):
        if name in a and name in b and b[name][0] > a[name][0]:
            values.append((ts, (b[name][1] - a[name][1]) / (b[name][0] - a[name][0])))
    return values


@unittest.skipUnless(shutil.which("conntrack"), "needs the conntrack tool: packaging/debian/install-deps --test")
class ConntrackHealthAgainstTheKernel(NetnsTestCase):
    def conntrack_count(self):
        return int(self.topo.run(self.topo.router, "conntrack", "-C").stdout)

    def conntrack_s_sums(self):
        """{stat: sum over CPUs} as `conntrack -S` prints them in the router."""
        sums = {}
        for line in self.topo.run(self.topo.router, "conntrack", "-S").stdout.splitlines():
            for key, value in re.findall(r"(\w+)=(\d+)", line):
                if key != "cpu":
                    sums[key] = sums.get(key, 0) + int(value)
        return sums

    def test_entries_limit_and_statistics_are_the_kernels(self):
        t = self.topo
        t.serve(t.wan, "udp", PORT)
        d = self.daemon("--interval", f"{INTERVAL_S}s", "--commit-interval", "1s", conntrack_health=True)
        d.wait_log("sampling table")
        wait_for(lambda: len(mean_values(store_samples(self.db), "conntrack_entries")) >= 2, 15,
                 "conntrack_entries in the store")
        before = mean_values(store_samples(self.db), "conntrack_entries")[-1][1]

        answered = t.run(t.lan, SYSTEM_PYTHON, "-c", FLOW_MAKER).stdout.strip()
        self.assertEqual(answered, "answered")
        counted = self.conntrack_count()
        self.assertGreaterEqual(counted, FLOWS)
        # A reading taken after conntrack -C counted, committed (1 s); nothing else runs in the
        # router, so the table holds still (UDP entries last 30 s at least).
        after_s = time.time() + 2 * INTERVAL_S
        wait_for(lambda: any(ts > after_s for ts, _ in mean_values(store_samples(self.db), "conntrack_entries")),
                 15, "a stored reading after the flows")
        rows = store_samples(self.db)
        entries = [v for ts, v in mean_values(rows, "conntrack_entries") if ts > after_s]
        self.assertLessEqual(abs(entries[-1] - counted), 2, f"stored {entries[-1]}, conntrack -C {counted}")
        self.assertGreaterEqual(entries[-1] - before, FLOWS - 2)

        limit = int(t.run(t.router, "sysctl", "-n", "net.netfilter.nf_conntrack_max").stdout)
        limits = {v for _, v in mean_values(rows, "conntrack_limit")}
        self.assertEqual(limits, {float(limit)})

        # Invalid packets (bad UDP checksums) raise the kernel's invalid count; the stored
        # cumulative statistics then equal conntrack -S's sums over CPUs.
        t.traffic(t.lan, "invalid-udp", WAN_IP, str(PORT), "25")
        expected = self.conntrack_s_sums()
        self.assertGreaterEqual(expected["invalid"], 25)

        def stored_stats():
            last = store_samples(self.db, "conntrack_stat_")[-1][1]
            return {name[len("conntrack_stat_"):]: packets for name, (packets, _) in last.items()}
        wait_for(lambda: stored_stats().get("invalid") == expected["invalid"], 15,
                 f"conntrack_stat_invalid == {expected['invalid']} in the store")
        stored = stored_stats()
        for stat in STATS:  # Linux 6.18 reports all eight
            with self.subTest(stat=stat):
                self.assertEqual(stored.get(stat), expected[CONNTRACK_S_NAME.get(stat, stat)])

        # ctmon status shows the fill and what a reading costs.
        code, status, _ = d.status()
        self.assertEqual(code, 0)
        self.assertEqual(status["conntrack"]["state"], "ok")
        self.assertEqual(status["conntrack"]["limit"], limit)
        self.assertGreater(status["conntrack"]["readings"], 10)
        self.assertGreater(status["conntrack"]["read_us"], 0)
        text = subprocess.run([ctmon_binary(), "status", "--db", self.db, "--status-file", d.status_path],
                              capture_output=True, text=True, timeout=60).stdout
        self.assertRegex(text, rf"conntrack +[\d,]+ of {limit:,} entries \([\d.]+ %\), 0 drops since start, "
                               r"\d+ us per reading")
        print(f"conntrack health: {status['conntrack']['read_us']:.1f} us per reading "
              f"({status['conntrack']['readings']} readings)")
        self.assertEqual(d.stop(), 0, d.text())

    def test_off_stores_none_of_its_counters(self):
        d = self.daemon("--interval", f"{INTERVAL_S}s", "--commit-interval", "1s")  # the helper's default: off
        d.wait_log("sampling table")
        wait_for(lambda: len(store_samples(self.db, "")) >= 3, 15, "three stored samples")
        self.assertEqual([r for _, r in store_samples(self.db) if r], [])
        code, status, _ = d.status()
        self.assertEqual(status["conntrack"], {"state": "off"})
        self.assertEqual(d.stop(), 0, d.text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
