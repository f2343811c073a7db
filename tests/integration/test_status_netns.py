"""ctmon status, events and show beside a real `ctmon run` in a network namespace (root): the
status file the daemon really writes reads as healthy; a missing table, a stopped (stale) and a
killed daemon make the health check fail; events answers with the live interval."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from netns import Topology, ctmon_binary, wait_for

INTERVAL_S = 0.2


def status(db, status_path):
    p = subprocess.run([ctmon_binary(), "status", "--db", db, "--status-file", status_path, "--json"],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, json.loads(p.stdout), p.stderr


class StatusBesideARealDaemon(unittest.TestCase):
    def setUp(self):
        self.topo = Topology().__enter__()
        self.addCleanup(self.topo.__exit__, None, None, None)
        self.dir = tempfile.mkdtemp(prefix="ctmon-status-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.db = os.path.join(self.dir, "ctmon.db")
        self.status_path = os.path.join(self.dir, "ctmon.status")

    def start(self, *flags):
        log = open(os.path.join(self.dir, "daemon.log"), "w")
        self.addCleanup(log.close)
        proc = self.topo.spawn(self.topo.router, ctmon_binary(), "run", "--db", self.db, "--status-file",
                               self.status_path, "--interval", str(INTERVAL_S), "--commit-interval", "1s",
                               *flags, stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: proc.poll() is not None or (proc.kill(), proc.wait()))
        # Healthy once the status file and the first commit exist.
        wait_for(lambda: os.path.exists(self.status_path) and os.path.exists(self.db) and
                 status(self.db, self.status_path)[0] == 0, 15, "a healthy status")
        return proc

    def test_live_then_stale_then_dead(self):
        proc = self.start()
        rc, j, _ = status(self.db, self.status_path)
        self.assertEqual(rc, 0)
        self.assertTrue(j["daemon"]["running"])
        self.assertEqual(j["daemon"]["table_state"], "ok")
        self.assertEqual(j["daemon"]["counters"], 18)
        self.assertEqual(j["daemon"]["interval_s"], INTERVAL_S)
        self.assertLess(j["daemon"]["last_sample_age_s"], 3 * INTERVAL_S + 0.5)
        time.sleep(1.5)  # a commit lands
        out = subprocess.run([ctmon_binary(), "events", "--db", self.db, "--status-file", self.status_path],
                             capture_output=True, text=True, check=True).stdout
        self.assertRegex(out, r"^No episodes recorded \(sampling every 0.2 s since \d{4}-\d\d-\d\d ")
        # A stopped daemon: its last sample grows stale.
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            time.sleep(3 * INTERVAL_S + 0.6)
            rc, j, err = status(self.db, self.status_path)
            self.assertEqual(rc, 1)
            self.assertTrue(any("last sample is stale" in p for p in j["problems"]), j["problems"])
            self.assertIn("ctmon: unhealthy: last sample is stale", err)
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        wait_for(lambda: status(self.db, self.status_path)[0] == 0, 10, "healthy again after SIGCONT")
        proc.kill()
        proc.wait()
        rc, j, _ = status(self.db, self.status_path)
        self.assertEqual(rc, 1)
        self.assertFalse(j["daemon"]["running"])
        self.assertTrue(any("daemon not running" in p for p in j["problems"]), j["problems"])

    def test_a_missing_table_fails_the_check(self):
        # The table must exist for the daemon to start healthy; without --install-rules it stays gone.
        self.topo.run(self.topo.router, ctmon_binary(), "rules", "install")
        proc = self.start("--no-install-rules")
        self.topo.run(self.topo.router, "nft", "delete table ip conntrack_stats")
        wait_for(lambda: status(self.db, self.status_path)[0] == 1, 10, "an unhealthy status")
        rc, j, _ = status(self.db, self.status_path)
        self.assertEqual(j["daemon"]["table_state"], "missing")
        self.assertTrue(any("is missing" in p and "ctmon rules install" in p for p in j["problems"]), j["problems"])
        self.assertIsNone(proc.poll())


if __name__ == "__main__":
    unittest.main(verbosity=2)
