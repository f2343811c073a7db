"""`ctmon replay` on bad input: one line on stderr, exit 1, and nothing at all on stdout."""
import datetime
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from netns import ctmon_binary


class ReplayRefusesBadInput(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ctmon-replay-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def write(self, name, rows):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write("timestamp,tcp_conntrack_input_new\n")
            f.writelines(f"{t},{v}\n" for t, v in rows)
        return path

    def replay(self, *args):
        return subprocess.run([ctmon_binary(), "replay", *args], text=True, capture_output=True,
                              check=False)

    def test_a_bad_row_halfway_leaves_stdout_empty(self):
        rows = [(1_700_000_000 + i, 10 * i) for i in range(500)] + [(1_700_000_500, "x")]
        proc = self.replay("--input", self.write("bad.csv", rows))
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
        self.assertIn("bad.csv:502: column 2", proc.stderr)

    def test_a_good_file_prints_the_table(self):
        rows = [(1_700_000_000 + i, 10 * i) for i in range(100)]
        proc = self.replay("--input", self.write("good.csv", rows))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.splitlines()[0].split(), ["id", "start", "dur", "kind", "where", "score", "moved", "summary"], proc.stdout)

    def test_backwards_timestamps_are_refused_with_db_naming_the_line(self):
        # 3,600 samples whose clock steps back 10 minutes at row 3000
        rows = [(1_700_000_000 + i, 10 * i) for i in range(3000)]
        rows += [(1_700_000_000 + 2400 + i, 30_000 + 10 * i) for i in range(600)]
        path = self.write("back.csv", rows)
        db = os.path.join(self.dir, "replay.db")
        proc = self.replay("--input", path, "--db", db)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stdout, "")
        # The refusal is one line, the last; before it the daemon's pipeline said when its
        # detectors stopped learning, as a daemon would.
        errors = [line for line in proc.stderr.splitlines() if line.startswith("ctmon:")]
        self.assertEqual(errors, proc.stderr.splitlines()[-1:], proc.stderr)
        self.assertIn("back.csv:3002: column 1 (timestamp): expected a time after the previous "
                      "row's 1700002999", proc.stderr)
        self.assertIn("got '1700002400'", proc.stderr)
        self.assertIn("sort", proc.stderr)
        # in time order the same samples are all stored
        rows.sort()
        rows = [(t, 10 * i) for i, (t, _) in enumerate(rows) if i == 0 or t != rows[i - 1][0]]
        proc = self.replay("--input", self.write("sorted.csv", rows), "--db",
                           os.path.join(self.dir, "sorted.db"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        series = subprocess.run([ctmon_binary(), "series", "--db", os.path.join(self.dir, "sorted.db"),
                                 "--csv", "--raw", "--since", "2023-01-01"],
                                text=True, capture_output=True, check=False)
        self.assertEqual(series.returncode, 0, series.stderr)
        self.assertEqual(len(series.stdout.splitlines()) - 1, len(rows))

    def test_without_db_backwards_timestamps_are_only_a_skipped_step(self):
        rows = [(1_700_000_000 + i, 10 * i) for i in range(100)] + [(1_700_000_050, 1000)]
        proc = self.replay("--input", self.write("back.csv", rows))
        self.assertEqual(proc.returncode, 0, proc.stderr)


class ReplayGaugeSettings(unittest.TestCase):
    """--gauge-settings: how the NAB benchmark tries its declared candidate configurations."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ctmon-replay-gauge-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.input = os.path.join(self.dir, "series.csv")
        start = datetime.datetime(2014, 4, 1)
        with open(self.input, "w") as f:
            f.write("timestamp,value\n")
            for i in range(800):
                value = 1000.0 if i == 600 else 10.0 + (i * 7919 % 13) / 10.0
                when = start + datetime.timedelta(minutes=5 * i)
                f.write(f"{when:%Y-%m-%d %H:%M:%S},{value}\n")

    def scores(self, *settings):
        out = os.path.join(self.dir, "scores.csv")
        proc = subprocess.run([ctmon_binary(), "replay", "--format", "nab", "--input", self.input,
                               "--scores-out", out, *settings], text=True, capture_output=True, check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(out) as f:
            return [float(line.rsplit(",", 1)[1]) for line in f.readlines()[1:]]

    def test_a_setting_changes_the_detector(self):
        self.assertGreater(max(self.scores()), 0.0)  # the spike opens an episode with the gauge profile
        self.assertEqual(max(self.scores("--gauge-settings", "open=1000000")), 0.0)

    def test_unknown_key_and_wrong_format_are_one_line_errors(self):
        for args, needle in ((["--format", "nab", "--scores-out", os.path.join(self.dir, "s.csv"),
                               "--gauge-settings", "speed=3"], "unknown key 'speed'"),
                             (["--format", "nab", "--scores-out", os.path.join(self.dir, "s.csv"),
                               "--gauge-settings", "level=fast"], "expected key=number"),
                             (["--gauge-settings", "level=100"], "applies to --format nab only")):
            proc = subprocess.run([ctmon_binary(), "replay", "--input", self.input, *args], text=True,
                                  capture_output=True, check=False)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
            self.assertIn(needle, proc.stderr)




def rfc3339(unix_s):
    return datetime.datetime.fromtimestamp(unix_s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ProbesThroughTheReplayCsv(unittest.TestCase):
    """A probe's values go into the store through the replay CSV, come out of `ctmon series` in
    their units, and `ctmon series --csv` writes what replays back to the same values."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ctmon-probes-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def ctmon(self, *args):
        return subprocess.run([ctmon_binary(), *args], text=True, capture_output=True, check=False)

    def test_values_round_trip_at_one_second(self):
        import random
        rng = random.Random(3)
        t0 = 1_795_132_800
        rows, total = [], 0
        # Fifteen busy counters make every 300 s block too big for one page with bytes, so the
        # store keeps no bytes in it (BytesPolicy::kWhenBlockFitsPage) but a mean counter's.
        noise_names = [f"noise_{k}" for k in range(15)]
        noise = [0] * len(noise_names)
        noise_rows = []
        for i in range(900):  # three 300 s blocks at 1 s
            total += 20 + i % 7
            lost = i % 50 == 7
            rtt = "" if lost else str(10_000 + (i * 37) % 2_000)
            jitter = "" if lost else f"{100 + (i * 53) % 800}.5"
            rows.append(f"{t0 + i},{total},{rtt},{jitter},{1 if lost else 0},{300 + i % 7}\n")
            noise = [n + rng.randint(0, 100_000) for n in noise]
            noise_rows.append("," + ",".join(map(str, noise)))
        source = os.path.join(self.dir, "in.csv")
        with open(source, "w") as f:
            f.write("timestamp,tcp_conntrack_fwd_new,probe_wan_rtt_median_us,probe_wan_jitter_us,"
                    "probe_wan_loss,conntrack_entries," + ",".join(noise_names) + "\n")
            f.writelines(r.rstrip("\n") + extra + "\n" for r, extra in zip(rows, noise_rows))
        chosen = [a for name in ("tcp_conntrack_fwd_new", "probe_wan_rtt_median_us", "probe_wan_jitter_us",
                                 "probe_wan_loss", "conntrack_entries") for a in ("--counter", name)]
        db = os.path.join(self.dir, "ctmon.db")
        proc = self.ctmon("replay", "--input", source, "--db", db)
        self.assertEqual(proc.returncode, 0, proc.stderr)

        out = self.ctmon("series", "--db", db, "--csv", *chosen)
        self.assertEqual(out.returncode, 0, out.stderr)
        written = out.stdout.splitlines()
        self.assertEqual(written[0], "timestamp,tcp_conntrack_fwd_new,probe_wan_rtt_median_us,"
                                     "probe_wan_jitter_us,probe_wan_loss,conntrack_entries")
        # The first row has no previous one to take a value from; every other row is the input.
        self.assertEqual(written[2:], [r.rstrip("\n") for r in rows[1:]])

        table = self.ctmon("series", "--db", db, "--since", rfc3339(t0 + 7), "--until", rfc3339(t0 + 9), *chosen)
        self.assertEqual(table.returncode, 0, table.stderr)
        # The window's first sample has no rate (nothing before it was read); the second is row 8.
        header, _, row = table.stdout.splitlines()[:3]
        self.assertEqual(header.split()[1:], ["tcp.fwd.new", "WAN.RTT.ms", "WAN.jitter.ms", "WAN.loss.%",
                                              "conntrack.entries"])
        # Row 8 of the input: rtt 10296 us, jitter 524.5 us, no loss, 301 entries.
        self.assertEqual(row.split()[3:], ["10.30", "0.52", "0.0", "301"])

    def test_a_value_out_of_range_is_one_line_naming_the_column(self):
        source = os.path.join(self.dir, "bad.csv")
        with open(source, "w") as f:
            f.write("timestamp,probe_wan_loss\n1795132800,0\n1795132801,1.5\n")
        proc = self.ctmon("replay", "--input", source)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
        self.assertIn("bad.csv:3: column 2 (probe_wan_loss): expected a fraction from 0 to 1", proc.stderr)


class WhereFromReplayedProbes(unittest.TestCase):
    """The daemon's pipeline on a replayed household with a WAN and a LAN probe: the WAN side
    jitters and loses probes while the LAN stays calm, so the episode says `isp` with that
    evidence, and `ctmon show` draws the probes beside the counters."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ctmon-where-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def ctmon(self, *args):
        return subprocess.run([ctmon_binary(), *args], text=True, capture_output=True, check=False)

    def test_a_jittery_wan_beside_a_calm_lan_is_the_isp(self):
        import random
        rng = random.Random(7)
        t0, total = 1_795_132_800, 0
        columns = ["tcp_conntrack_fwd_new", "probe_wan_rtt_median_us", "probe_wan_jitter_us", "probe_wan_loss",
                   "probe_lan_rtt_median_us", "probe_lan_jitter_us", "probe_lan_loss"]
        rows = []
        for i in range(1500):
            total += rng.randint(15, 25)
            bad = 1100 <= i < 1160  # a minute of a bad WAN, long after the 600 s warm-up
            wan_rtt = rng.uniform(10_000, 150_000) if bad else rng.gauss(12_000, 300)
            wan_jitter = rng.uniform(20_000, 60_000) if bad else abs(rng.gauss(400, 100))
            wan_loss = 0.3 if bad else 0
            lan = (rng.gauss(150, 10), abs(rng.gauss(20, 5)), 0)
            rows.append(",".join([str(t0 + i), str(total), f"{wan_rtt:.0f}", f"{wan_jitter:.0f}", str(wan_loss),
                                  *(f"{v:.0f}" for v in lan)]) + "\n")
        source = os.path.join(self.dir, "in.csv")
        with open(source, "w") as f:
            f.write("timestamp," + ",".join(columns) + "\n")
            f.writelines(rows)
        db = os.path.join(self.dir, "ctmon.db")
        proc = self.ctmon("replay", "--input", source, "--db", db, "--json")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        episodes = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        self.assertEqual(len(episodes), 1, proc.stdout)
        e = episodes[0]
        self.assertEqual(e["where"], "isp", e)
        self.assertLessEqual(abs(e["start_ts"] - (t0 + 1100)), 10, e)
        self.assertIn("LAN calm", e["summary"])
        self.assertIn("WAN", e["summary"])
        moved = {c["name"] for c in e["counters"]}
        self.assertTrue(moved & {"probe_wan_jitter_us", "probe_wan_loss", "probe_wan_rtt_median_us"}, moved)

        stored = json.loads(self.ctmon("events", "--db", db, "--json").stdout.splitlines()[0])
        self.assertEqual(stored["where"], "isp")
        show = self.ctmon("show", str(stored["id"]), "--db", db)
        self.assertEqual(show.returncode, 0, show.stderr)
        self.assertIn("where isp", show.stdout)
        self.assertIn("LAN RTT, ms", show.stdout)  # the calm side is drawn too
        self.assertIn("WAN loss, %", show.stdout)

        # ctmon correlate on the same store: the probes were read, the episode was the probes'.
        report = self.ctmon("correlate", "--db", db, "--since", rfc3339(t0), "--until", rfc3339(t0 + 1500), "--json")
        self.assertEqual(report.returncode, 0, report.stderr)
        r = json.loads(report.stdout)
        self.assertTrue(r["probe_counters"], r)
        self.assertEqual(r["episodes"]["total"], 1, r)
        self.assertEqual(r["episodes"]["probes_only"] + r["episodes"]["both"], 1, r)
        self.assertEqual(r["episodes"]["where"], {"isp": 1}, r)
        self.assertEqual({t["counter"] for t in r["targets"]}, {"probe_wan_jitter_us", "probe_lan_jitter_us"}, r)
        self.assertGreater(r["intervals"], 1400, r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
