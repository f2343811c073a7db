"""ctmon status, events and show beside a real `ctmon run` in a network namespace (root): what the
daemon answers on its status socket reads as healthy; a missing table, a failing store, a stopped
(silent) and a killed daemon make the health check fail; a failing InfluxDB is a warning; events
answers with the live interval."""
import datetime
import os
import signal
import subprocess
import time
import unittest

from netns import HERE, WAN_IP, NetnsTestCase, ctmon_binary, sh, wait_for

INTERVAL_S = 0.2


class StatusBesideARealDaemon(NetnsTestCase):
    def start(self, *flags, db=None, log_path=None):
        d = self.daemon("--interval", str(INTERVAL_S), "--commit-interval", "1s", *flags, db=db, log_path=log_path)
        d.wait_healthy()
        return d

    def test_live_then_silent_then_dead(self):
        d = self.start()
        rc, j, _ = d.status()
        self.assertEqual(rc, 0)
        self.assertTrue(j["daemon"]["running"])
        self.assertEqual(j["daemon"]["pid"], d.proc.pid)  # ip netns exec execs ctmon itself
        self.assertEqual(j["daemon"]["table_state"], "ok")
        self.assertEqual(j["daemon"]["counters"], 18)
        self.assertEqual(j["daemon"]["interval_s"], INTERVAL_S)
        self.assertEqual(j["daemon"]["store_state"], "ok")
        self.assertRegex(j["daemon"]["started"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertLess(j["daemon"]["last_sample_age_s"], 3 * INTERVAL_S + 0.5)
        self.assertEqual(j["influx"]["state"], "off")
        sock = d.db + ".sock"
        self.assertEqual(os.stat(sock).st_mode & 0o777, 0o660)
        time.sleep(1.5)  # a commit lands
        out = subprocess.run([ctmon_binary(), "events", "--db", d.db, "--status-file", d.status_path],
                             capture_output=True, text=True, check=True).stdout
        self.assertRegex(out, r"^No episodes recorded \(sampling every 0.2 s since \d{4}-\d\d-\d\d ")
        # A fresh daemon learns before it detects (120 s of traffic) and every reader says so.
        started = datetime.datetime.fromisoformat(j["daemon"]["started"].replace("Z", "+00:00"))
        until = datetime.datetime.fromisoformat(j["daemon"]["learning_until"].replace("Z", "+00:00"))
        self.assertAlmostEqual((until - started).total_seconds(), 120, delta=5)
        hh_mm = until.astimezone().strftime("%H:%M")
        self.assertIn(f"the detectors are learning this router's traffic until {hh_mm}", out)
        self.assertIn(f"detectors learning this router's traffic until {hh_mm} (2m): no episodes before then",
                      d.text())
        text = subprocess.run([ctmon_binary(), "status", "--db", d.db, "--status-file", d.status_path],
                              capture_output=True, text=True).stdout
        self.assertRegex(text, rf"\n  detectors +learning until {hh_mm}: no episodes before then\n")
        # A stopped daemon cannot answer: unhealthy after a bounded wait, healthy again after.
        os.kill(d.proc.pid, signal.SIGSTOP)
        try:
            rc, j, err = d.status()
            self.assertEqual(rc, 1)
            self.assertTrue(any("does not answer" in p for p in j["problems"]), j["problems"])
            self.assertTrue(j["daemon"]["running"])
            self.assertIn("ctmon: unhealthy: daemon (pid", err)
        finally:
            os.kill(d.proc.pid, signal.SIGCONT)
        d.wait_healthy(10)
        d.stop(signal.SIGKILL)
        self.assertTrue(os.path.exists(sock), "a killed daemon leaves its socket behind")
        rc, j, _ = d.status()
        self.assertEqual(rc, 1)
        self.assertFalse(j["daemon"]["running"])
        self.assertTrue(any("daemon not running" in p for p in j["problems"]), j["problems"])
        # The next daemon replaces the stale socket and answers.
        d = self.start(db=self.db)
        self.assertEqual(d.status()[0], 0)
        self.assertEqual(d.stop(), 0)
        self.assertFalse(os.path.exists(sock), "a clean stop removes the socket")
        self.assertFalse(os.path.exists(d.status_path), "and the pid file")

    def test_counters_are_those_in_the_table_now(self):
        d = self.start()
        t = self.topo
        t.run(t.router, "nft", "; ".join(f"add counter ip conntrack_stats renamed_{k}" for k in range(5)))
        wait_for(lambda: d.status()[1]["daemon"]["counters"] == 23, 10, "the added counters")
        # Deleted (or renamed away): gone from the count, though the catalog keeps their names.
        t.run(t.router, "nft", "; ".join(f"delete counter ip conntrack_stats renamed_{k}" for k in range(5)))
        wait_for(lambda: d.status()[1]["daemon"]["counters"] == 18, 10, "the count without them")
        self.assertEqual(d.stop(), 0, d.text())

    def test_skipped_ticks_are_one_condition_not_a_line_each(self):
        d = self.start()
        for _ in range(3):  # a router too busy to sample, three times within a minute
            os.kill(d.proc.pid, signal.SIGSTOP)
            time.sleep(4 * INTERVAL_S)
            os.kill(d.proc.pid, signal.SIGCONT)
            d.wait_log("fell behind")
            time.sleep(2 * INTERVAL_S)
        self.assertEqual(d.stop(), 0, d.text())
        self.assertEqual(d.text().count("fell behind"), 1, d.text())
        self.assertNotIn("keeps up again", d.text(), "it kept skipping within the minute")
        self.assertIn("tick(s) skipped", d.text())

    def test_a_missing_table_fails_the_check(self):
        # The table must exist for the daemon to start healthy; without --install-rules it stays gone.
        self.topo.run(self.topo.router, ctmon_binary(), "rules", "install")
        d = self.start("--no-install-rules")
        self.topo.run(self.topo.router, "nft", "delete table ip conntrack_stats")
        wait_for(lambda: d.status()[0] == 1, 10, "an unhealthy status")
        _, j, _ = d.status()
        self.assertEqual(j["daemon"]["table_state"], "missing")
        self.assertTrue(any("is missing" in p and "ctmon rules install" in p for p in j["problems"]), j["problems"])
        self.assertIsNone(d.proc.poll())

    def test_flushed_rules_fail_the_check_until_installed(self):
        # `nft flush table` keeps the counters, which read on, frozen: without --install-rules
        # the daemon cannot repair it and must say so.
        self.topo.run(self.topo.router, ctmon_binary(), "rules", "install")
        d = self.start("--no-install-rules")
        self.topo.run(self.topo.router, "nft", "flush table ip conntrack_stats")
        wait_for(lambda: d.status()[0] == 1, 10, "an unhealthy status")
        _, j, _ = d.status()
        self.assertEqual(j["daemon"]["table_state"], "rules missing")
        self.assertEqual(j["daemon"]["counters"], 18)
        self.assertTrue(any("frozen" in p and "'ctmon rules install'" in p for p in j["problems"]), j["problems"])
        d.wait_log("lost its rules (nft flush table?): its counters are frozen")
        self.topo.run(self.topo.router, ctmon_binary(), "rules", "install")
        d.wait_healthy(10)
        d.wait_log("has its rules again")
        self.assertEqual(d.stop(), 0, d.text())
        self.assertEqual(d.text().count("lost its rules"), 1, d.text())

    def test_a_failing_store_fails_the_check_and_recovers(self):
        mnt = os.path.join(self.dir, "small")
        os.mkdir(mnt)
        sh("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt)
        self.addCleanup(sh, "umount", "-l", mnt, check=False)
        d = self.start(db=os.path.join(mnt, "ctmon.db"))
        filler = os.path.join(mnt, "filler")
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
        wait_for(lambda: d.status()[1]["daemon"]["store_state"] == "disk full", 15, "the store to fail")
        rc, j, _ = d.status()
        self.assertEqual(rc, 1)
        self.assertTrue(any("cannot store samples: disk full" in p for p in j["problems"]), j["problems"])
        self.assertGreater(j["daemon"]["samples_in_ram"], 0)
        os.remove(filler)
        d.wait_healthy(40)

    def test_a_daemon_writing_another_database_is_pointed_out(self):
        d = self.start()
        other = os.path.join(self.dir, "other.db")
        sh(ctmon_binary(), "replay", "--input", self.csv(), "--db", other)
        _, j, _ = d.status(db=other)
        self.assertTrue(any(f"the daemon writes {d.db}" in w for w in j["warnings"]), j["warnings"])

    def test_a_failing_influxdb_is_shown_as_a_warning_not_ill_health(self):
        # A loopback port nobody listens on refuses at once. The first run queues heartbeat points
        # in the outbox at its stop; the second finds them and tries to send them.
        flags = ("--influx-url", "http://127.0.0.1:9/", "--influx-heartbeat", "1s")
        d = self.start(*flags, log_path=os.path.join(self.dir, "first.log"))
        time.sleep(2.5)
        self.assertEqual(d.stop(), 0)
        d = self.start(*flags)
        wait_for(lambda: d.status()[1]["influx"].get("state") not in (None, "idle", "sending"), 20,
                 "the sender to fail")
        rc, j, _ = d.status()
        self.assertEqual(rc, 0, j["problems"])
        self.assertEqual(j["influx"]["state"], "unreachable")
        self.assertGreater(j["influx"]["queued"], 0)
        self.assertTrue(any(w.startswith("InfluxDB: no answer from http://127.0.0.1:9/") for w in j["warnings"]),
                        j["warnings"])

    def test_series_and_show_see_the_samples_not_yet_committed(self):
        # Detectors that learned already (as in test_daemon_netns.py), so an episode opens within
        # seconds; commits every 5 minutes, so that nothing else reaches the database meanwhile.
        sh("/usr/bin/python3", os.path.join(HERE, "make_scenario.py"), os.path.join(self.dir, "quiet.csv"),
           "--hours", "0.4", "--scale", "0.01")
        sh(ctmon_binary(), "replay", "--input", os.path.join(self.dir, "quiet.csv"), "--db", self.db)
        t = self.topo
        t.serve(t.wan, "tcp", 8080)
        d = self.daemon("--interval", "0.5", "--commit-interval", "5m")
        d.wait_healthy()
        absent = os.path.join(self.dir, "absent.status")

        def rows(*args, status_path):
            out = sh(ctmon_binary(), *args, "--db", self.db, "--status-file", status_path, "--csv").stdout
            return out.splitlines()[1:]

        deadline = time.monotonic() + 20
        while "episode opened" not in d.text() and time.monotonic() < deadline:
            t.traffic(t.lan, "tcp", WAN_IP, "8080", "200")
        self.assertIn("episode opened", d.text())
        # The open episode's samples up to its opening are flushed; those after it are in RAM.
        time.sleep(2.5)
        stored = rows("show", "1", status_path=absent)
        live = rows("show", "1", status_path=d.status_path)
        self.assertGreaterEqual(len(live), len(stored) + 4, "show misses the samples in the daemon's RAM")
        self.assertEqual(live[:len(stored)], stored, "the stored samples come first, unchanged")
        since = ["--since", "1m"]
        self.assertGreater(len(rows("series", *since, status_path=d.status_path)),
                           len(rows("series", *since, status_path=absent)))
        # What the daemon hands over is what it commits at its stop.
        final = rows("series", *since, status_path=d.status_path)
        self.assertEqual(d.stop(), 0)
        committed = rows("series", *since, status_path=absent)
        self.assertEqual(committed[:len(final)], final)

    def csv(self):
        path = os.path.join(self.dir, "quiet.csv")
        sh("/usr/bin/python3", os.path.join(HERE, "make_scenario.py"), path,
           "--hours", "0.05")
        return path


if __name__ == "__main__":
    unittest.main(verbosity=2)
