"""ctmon run against a real kernel when its files go away or it dies mid-episode: a database or
-wal deleted under the daemon is written back with everything it held, and an episode that was
open when the daemon was killed (kill -9) is closed at the next start instead of staying open."""
import json
import os
import signal
import subprocess
import time
import unittest

from netns import WAN_IP, NetnsTestCase, ctmon_binary, sh, wait_for
from test_daemon_netns import read_csv
from test_influx_support import T0, csv_text, scenario_rows

INTERVAL_S = 0.2


def read_text(path):
    with open(path) as f:
        return f.read()


class CrashRecovery(NetnsTestCase):
    def daemon(self, *flags, log_path=None):
        return super().daemon("--interval", str(INTERVAL_S), *flags, log_path=log_path)

    def stored_rows(self):
        try:
            return len(read_csv(self.db)[1])
        except Exception:  # noqa: BLE001 - not readable yet is "none"
            return 0

    def check_deleted_file_is_written_back(self, victim):
        t = self.topo
        t.serve(t.wan, "tcp", 8080)
        d = self.daemon("--commit-interval", "1s", log_path=os.path.join(self.dir, "daemon.log"))
        d.wait_log("sampling table")
        wait_for(lambda: self.stored_rows() >= 10, 20, "samples on disk")
        deleted_at = time.time()
        os.remove(victim)
        d.wait_log("writing everything back", 15)
        d.wait_log("written back; sampling goes on", 15)
        self.assertTrue(os.path.exists(self.db))
        t.traffic(t.lan, "tcp", WAN_IP, "8080", "3")
        wait_for(lambda: self.stored_rows() > 0 and read_csv(self.db)[1][-1][0] > deleted_at + 1, 20,
                 "samples after the deletion on disk")
        self.assertIsNone(d.proc.poll(), "the daemon must keep running")
        self.assertEqual(d.stop(), 0, d.text())
        self.assertIn("nothing was lost", d.text())
        _, rows = read_csv(self.db)
        times = [r[0] for r in rows]
        self.assertLess(times[0], deleted_at - 1, "the samples from before the deletion are back")
        steps = [b - a for a, b in zip(times, times[1:])]
        self.assertLess(max(steps), 3 * INTERVAL_S, "a sample is missing around the deletion")
        self.assertEqual(rows[-1][1]["tcp_conntrack_fwd_new"], 3)
        self.assertEqual(d.text().count("writing everything back"), 1, d.text())

    def test_a_deleted_database_is_written_back_with_everything(self):
        self.check_deleted_file_is_written_back(self.db)

    def test_a_deleted_wal_is_written_back_with_everything(self):
        self.check_deleted_file_is_written_back(self.db + "-wal")

    def test_an_episode_open_at_kill_9_is_closed_at_the_next_start(self):
        # `ctmon replay --db` runs the daemon's pipeline; fed through a FIFO it is killed (-9) for
        # real in the middle of an episode, then a second run on the same database settles it.
        spike_s = 2000
        rows = scenario_rows(1.0, [(spike_s, 3600, "tcp_conntrack_fwd_new", 25)])
        before, after = [r for r in rows if r[0] < T0 + spike_s + 60], [r for r in rows if r[0] >= T0 + spike_s + 60]
        fifo = os.path.join(self.dir, "samples.csv")
        os.mkfifo(fifo)
        log_path = os.path.join(self.dir, "replay.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen([ctmon_binary(), "replay", "--input", fifo, "--db", self.db],
                                    stdout=log, stderr=subprocess.STDOUT)
            self.addCleanup(lambda: proc.poll() is not None or proc.kill())
            with open(fifo, "w") as feed:
                feed.write(csv_text(before))
                feed.flush()
                wait_for(lambda: "episode opened" in read_text(log_path), 60, "the episode to open")
                events = self.events()
                self.assertEqual(len(events), 1, events)
                self.assertIsNone(events[0]["end"], "the episode is open in the database")
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
        stored_until = max(r[0] for r in read_csv(self.db)[1])

        later = os.path.join(self.dir, "later.csv")
        with open(later, "w") as f:
            f.write(csv_text(after[:20]))
        second = subprocess.run([ctmon_binary(), "replay", "--input", later, "--db", self.db], capture_output=True,
                                text=True, timeout=120)
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertIn("was still open when the daemon stopped", second.stderr)
        events = self.events()
        self.assertEqual(len(events), 1, events)
        self.assertIsNotNone(events[0]["end"])
        self.assertEqual(events[0]["end_ts"], stored_until, "closed at the last stored sample")

    def events(self):
        out = sh(ctmon_binary(), "events", "--db", self.db, "--json", "--since", "2023-01-01").stdout
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


if __name__ == "__main__":
    unittest.main()
