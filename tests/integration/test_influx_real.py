"""Forwarding to a REAL InfluxDB 1.6 (Debian `influxdb`, started here on a loopback port): a
scenario with two clear episodes is replayed through `ctmon replay --db --influx-url`, exactly the
daemon's forwarder, outbox and sender; the points are queried back. Then the fault path: the
server stops between the episodes, ctmon ends with a non-empty outbox, the server comes back,
ctmon restarts on the same database, and every point arrives as in an undisturbed run."""
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest

from test_influx_support import INTERVAL_S, T0, InfluxD, csv_text, replay, scenario_rows

EP1_S, EP2_S = 3600, 3 * 3600  # spike starts, seconds after T0
SPIKES = [(EP1_S, 60, "tcp_conntrack_fwd_new", 25), (EP2_S, 60, "tcp_conntrack_fwd_invalid", 40)]
PRE_MS, POST_MS, BUCKET_MS = 15 * 60 * 1000, 5 * 60 * 1000, 10 * 1000


@unittest.skipUnless(shutil.which("influxd"), "influxd not installed (Debian package influxdb)")
class RealInfluxDB(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ctmon-influx-test-")
        os.chmod(cls.tmp, 0o755)
        cls.rows = scenario_rows(4, SPIKES)
        cls.csv = os.path.join(cls.tmp, "scenario.csv")
        with open(cls.csv, "w") as f:
            f.write(csv_text(cls.rows))
        cls.influx = InfluxD(os.path.join(cls.tmp, "influxd"))
        os.makedirs(cls.influx.dir)
        cls.influx.start()
        cls.influx.create_db("ref")
        r, cls.episodes = replay(cls.csv, os.path.join(cls.tmp, "ref.db"), cls.influx.url, "ref")
        if r.returncode != 0:
            raise AssertionError(f"replay failed: {r.stderr}")
        cls.replay_log = r.stderr

    @classmethod
    def tearDownClass(cls):
        cls.influx.cleanup()
        shutil.rmtree(cls.tmp, True)

    def test_the_scenario_has_the_two_episodes(self):
        starts = [e["start_ts"] for e in self.episodes]
        self.assertEqual(len(self.episodes), 2, self.episodes)
        self.assertTrue(T0 + EP1_S - 30 <= starts[0] <= T0 + EP1_S + 30, starts)
        self.assertTrue(T0 + EP2_S - 30 <= starts[1] <= T0 + EP2_S + 30, starts)
        self.assertIn("outbox empty", self.replay_log)

    def test_markers_merge_open_and_close_with_time_end(self):
        events = self.influx.points("ref", "ctmon_event")
        self.assertEqual(len(events), 2, events)  # open and close wrote the same point
        for ev, ep in zip(sorted(events, key=lambda e: e["time"]), self.episodes):
            self.assertEqual(ev["time"], int(ep["start_ts"] * 1000))
            self.assertEqual(ev["time_end"], int(ep["end_ts"] * 1000))
            self.assertEqual(ev["state"], "closed")
            self.assertEqual(ev["host"], "router-a")
            self.assertEqual(ev["kind"], ep["kind"])
            self.assertTrue(ev["title"].startswith("ctmon: "))
            self.assertEqual(ev["text"], ep["summary"])
            self.assertTrue(ev["tags"].startswith("ctmon,"))
            self.assertAlmostEqual(ev["score"], ep["score"], places=3)
            self.assertEqual(ev["where"], ep["where"], "the marker carries the episode's where")

    def test_rates_cover_exactly_the_windows_around_each_episode(self):
        rates = self.influx.points("ref", "ctmon_rate")
        self.assertGreater(len(rates), 0)
        moved = {c["name"] for ep in self.episodes for c in ep["counters"]}
        self.assertTrue({p["counter"] for p in rates} <= moved)
        for ep in self.episodes:
            start, end = int(ep["start_ts"] * 1000), int(ep["end_ts"] * 1000)
            names = {c["name"] for c in ep["counters"]}
            for name in names:
                series = sorted(p["time"] for p in rates if p["counter"] == name
                                and start - PRE_MS - BUCKET_MS <= p["time"] <= end + POST_MS + BUCKET_MS)
                pre = [t for t in series if t < start]
                during = [t for t in series if start <= t <= end]
                post = [t for t in series if t > end]
                # 15 min in 10 s buckets (90, 91 when not aligned); the episode at 5 s; 5 min after.
                self.assertIn(len(pre), (90, 91), (name, len(pre)))
                self.assertGreaterEqual(pre[0], start - PRE_MS)
                self.assertEqual(len(during), (end - start) // (INTERVAL_S * 1000) + 1, name)
                # The stream stays at full resolution until the tracker closes the episode: 30 s
                # (6 samples) after the score fell below the lower threshold, which its CUSUM part
                # holds up after the traffic (end_ts) for at most about as long as the episode
                # lasted; then 5 min of buckets.
                close_tail = 30 // INTERVAL_S + len(during)
                self.assertTrue(20 <= len(post) <= 31 + close_tail, (name, len(post)))
                self.assertLessEqual(post[-1], end + POST_MS)
        # Nothing outside the windows.
        for p in rates:
            self.assertTrue(any(int(ep["start_ts"] * 1000) - PRE_MS <= p["time"] <= int(ep["end_ts"] * 1000) + POST_MS
                                for ep in self.episodes), p)
        sample = next(p for p in rates if p["counter"] == "tcp_conntrack_fwd_new")
        self.assertEqual((sample["proto"], sample["hook"], sample["state"], sample["host"]),
                         ("tcp", "fwd", "new", "router-a"))
        self.assertIsInstance(sample["packets"], int)

    def test_points_queued_across_an_outage_and_a_restart_all_arrive(self):
        """influxd stops between the two episodes (after the first one arrived); ctmon ends with
        points in its outbox; influxd comes back; ctmon restarts on the same database and sends
        them. The result equals the undisturbed run, point for point."""
        db = os.path.join(self.tmp, "fault.db")
        self.influx.create_db("fault")
        fifo = os.path.join(self.tmp, "scenario.fifo")
        os.mkfifo(fifo)
        proc = subprocess.Popen(
            [os.environ["CTMON"], "replay", "--input", fifo, "--json", "--db", db, "--host", "router-a",
             "--influx-url", self.influx.url, "--influx-db", "fault", "--influx-drain", "2",
             "--interval", str(INTERVAL_S)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out = {}
        reader = threading.Thread(target=lambda: out.update(zip(("stdout", "stderr"), proc.communicate())))
        reader.start()
        first_half = [r for r in self.rows if r[0] < T0 + EP1_S + 1800]
        between = [r for r in self.rows if T0 + EP1_S + 1800 <= r[0] < T0 + EP2_S - 1800]
        rest = [r for r in self.rows if r[0] >= T0 + EP2_S - 1800]
        with open(fifo, "w") as f:
            f.write(csv_text(first_half))
            f.flush()
            # Quiet samples, a few at a time, so the sender gets pumped, until episode 1's closed
            # marker is in InfluxDB.
            arrived = False
            for i in range(0, len(between), 32):
                f.write(csv_text(between[i:i + 32], header=False))
                f.flush()
                time.sleep(0.2)
                ev = self.influx.points("fault", "ctmon_event")
                if ev and "time_end" in ev[0]:
                    arrived = True
                    f.write(csv_text(between[i + 32:], header=False))
                    break
            self.assertTrue(arrived, "episode 1 never reached InfluxDB while it was up")
            self.influx.stop()
            f.write(csv_text(rest, header=False))
        reader.join(120)
        self.assertEqual(proc.returncode, 0, out.get("stderr"))
        self.assertIn("still queued", out["stderr"])
        queued = sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute("SELECT count(*) FROM outbox").fetchone()[0]
        self.assertGreater(queued, 100)

        self.influx.start()  # same data directory, new port
        later = os.path.join(self.tmp, "later.csv")
        last_t, last_vals = self.rows[-1]
        with open(later, "w") as f:
            f.write(csv_text([(last_t + INTERVAL_S * (i + 1), last_vals) for i in range(3)]))
        r, _ = replay(later, db, self.influx.url, "fault")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("outbox empty", r.stderr)
        self.assertIn(f"{queued} lines queued from before", r.stderr)

        for measurement in ("ctmon_rate", "ctmon_event"):
            ref = self.influx.points("ref", measurement)
            got = self.influx.points("fault", measurement)
            key = (lambda p: (p["time"], p.get("counter", "")))
            self.assertEqual(len(got), len(ref), measurement)
            self.assertEqual(sorted(map(key, got)), sorted(map(key, ref)), measurement)
            self.assertEqual(sorted(got, key=key), sorted(ref, key=key), measurement)


if __name__ == "__main__":
    unittest.main(verbosity=2)
