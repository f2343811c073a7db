"""ctmon status as a health check: exit 0 with a live daemon's fresh status file, non-zero when
the daemon is gone, its last sample is stale, its table is missing or its store fails; the
database facts; the InfluxDB placeholder; --json for scripts. The status file is written here in
the daemon's format (monitor/daemon/status_file.h) so each unhealthy state can be set up."""
import json
import os
import subprocess
import time
import unittest

from test_events_common import ReplayedDb, run


class StatusHealthCheck(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = ReplayedDb()

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()

    def write_status(self, **overrides):
        status = {"pid": os.getpid(), "started": "2026-11-20T00:00:00Z", "last_sample_ts": time.time() - 1,
                  "interval_s": 5, "commit_interval_s": 300, "table": "ip:conntrack_stats", "table_state": "ok",
                  "counters": 18, "samples": 1234, "missed_ticks": 0, "samples_in_ram": 12, "samples_dropped": 0,
                  "store_state": "ok", "episodes_opened": 3, "open_episode": False, "db": self.fx.db}
        status.update(overrides)
        path = os.path.join(self.fx.dir, "ctmon.status")
        with open(path, "w") as f:
            json.dump(status, f)
        return path

    def status(self, status_path, *args, **env):
        return run("status", "--db", self.fx.db, "--status-file", status_path, *args, check=False, **env)

    def test_a_live_fresh_daemon_is_healthy(self):
        p = self.status(self.write_status())
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertTrue(p.stdout.startswith("ctmon: healthy\n"), p.stdout)
        self.assertIn(f"running, pid {os.getpid()}", p.stdout)
        self.assertIn("(sampling every 5 s)", p.stdout)
        self.assertIn("ip:conntrack_stats: ok, 18 counters", p.stdout)
        self.assertIn("raw 2026-11-20 00:00:00 .. 2026-11-20 01:29:59", p.stdout)
        self.assertIn("InfluxDB       forwarding: off", p.stdout)
        self.assertNotIn("problem:", p.stdout)

    def test_json_for_scripts(self):
        p = self.status(self.write_status(), "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        j = json.loads(p.stdout)
        self.assertTrue(j["healthy"])
        self.assertEqual(j["problems"], [])
        self.assertTrue(j["daemon"]["running"])
        self.assertLess(j["daemon"]["last_sample_age_s"], 10)
        self.assertEqual(j["database"]["episodes_total"], 3)
        self.assertGreater(j["database"]["size_bytes"], 0)
        self.assertEqual(j["database"]["raw_oldest"], "2026-11-20T00:00:00Z")
        self.assertEqual(j["influx"]["state"], "off")

    def assert_unhealthy(self, status_path, fragment):
        p = self.status(status_path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertTrue(p.stdout.startswith("ctmon: UNHEALTHY\n"), p.stdout)
        self.assertIn(fragment, p.stdout)
        self.assertIn("ctmon: unhealthy: ", p.stderr)
        j = json.loads(self.status(status_path, "--json").stdout)
        self.assertFalse(j["healthy"])
        self.assertTrue(any(fragment in problem for problem in j["problems"]), j["problems"])

    def test_no_status_file_means_not_running(self):
        self.assert_unhealthy(os.path.join(self.fx.dir, "none.status"), "daemon not running: no status file")

    def test_a_dead_pid_means_not_running(self):
        child = subprocess.Popen(["true"])
        child.wait()
        self.assert_unhealthy(self.write_status(pid=child.pid), f"pid {child.pid} from")

    def test_a_stale_last_sample(self):
        self.assert_unhealthy(self.write_status(last_sample_ts=time.time() - 60), "last sample is stale: ")

    def test_a_fresh_enough_sample_is_not_stale(self):
        p = self.status(self.write_status(last_sample_ts=time.time() - 12))  # < 3 intervals of 5 s
        self.assertEqual(p.returncode, 0, p.stdout)

    def test_a_missing_table(self):
        self.assert_unhealthy(self.write_status(table_state="missing"), "table ip:conntrack_stats is missing")

    def test_a_failing_store(self):
        self.assert_unhealthy(self.write_status(store_state="disk full"), "cannot store samples: disk full")

    def test_warnings_do_not_fail_the_check(self):
        p = self.status(self.write_status(samples_in_ram=500, samples_dropped=7))
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("500 samples wait in RAM", p.stdout)
        self.assertIn("7 samples were dropped", p.stdout)

    def test_a_daemon_writing_another_database_is_pointed_out(self):
        p = self.status(self.write_status(db="/var/lib/ctmon/other.db"))
        self.assertIn("the daemon writes /var/lib/ctmon/other.db", p.stdout)

    def test_influx_configured_but_not_reported_says_so(self):
        config = os.path.join(self.fx.dir, "influx.toml")
        with open(config, "w") as f:
            f.write('[influx]\nurl = "http://127.0.0.1:8086"\n')
        p = run("status", "--config", config, "--db", self.fx.db, "--status-file", self.write_status(), check=False)
        self.assertIn("forwarding configured; the daemon reports no sender state", p.stdout)

    def test_the_senders_state_is_shown_and_a_failing_influx_is_a_warning_not_ill_health(self):
        ok = {"state": "ok", "detail": "", "queued": 0, "last_success_ts": 1795132800.0, "retry_in_ms": 0,
              "sent_lines": 120, "rejected_lines": 0}
        p = self.status(self.write_status(influx=ok))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("InfluxDB       ok, 0 lines queued, last success 2026-11-20", p.stdout)
        down = dict(ok, state="unreachable", detail="no answer from http://192.0.2.1:8086/write", queued=812,
                    rejected_lines=2)
        p = self.status(self.write_status(influx=down))
        self.assertEqual(p.returncode, 0, "the outbox keeps the points: not unhealthy")
        self.assertIn("unreachable, 812 lines queued", p.stdout)
        self.assertIn("InfluxDB: no answer from http://192.0.2.1:8086/write", p.stdout)
        self.assertIn("InfluxDB refused 2 line(s)", p.stdout)

    def test_lang_c_is_ascii(self):
        p = self.status(self.write_status(samples_dropped=1), lang="C")
        p.stdout.encode("ascii")


if __name__ == "__main__":
    unittest.main(verbosity=2)
