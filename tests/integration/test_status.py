"""ctmon status without root: the database facts, and how it tells the daemon's liveness from
its pid file and status socket when the daemon cannot answer (none, a dead one, an older one
without a socket, a stuck one). The answers of a real daemon are checked in
test_status_netns.py; the status codec itself in tests/monitor/status."""
import json
import os
import socket
import subprocess
import time
import unittest

from test_events_common import ReplayedDb, run


class StatusWithoutAnAnsweringDaemon(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = ReplayedDb()

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()

    def pid_file(self, pid, name="ctmon.status"):
        """The daemon's pid file, in the format monitor/daemon/status_file.h documents."""
        path = os.path.join(self.fx.dir, name)
        with open(path, "w") as f:
            json.dump({"pid": pid, "started_ts": time.time() - 60, "db": self.fx.db,
                       "socket": path.replace(".status", ".sock")}, f)
        self.addCleanup(os.remove, path)
        return path

    def status(self, status_path, *args, **env):
        return run("status", "--db", self.fx.db, "--status-file", status_path, *args, check=False, **env)

    def assert_unhealthy(self, status_path, fragment):
        p = self.status(status_path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertTrue(p.stdout.startswith("ctmon: UNHEALTHY\n"), p.stdout)
        self.assertIn(fragment, p.stdout)
        self.assertIn("ctmon: unhealthy: ", p.stderr)
        self.assertEqual(p.stderr.count("\n"), 1, p.stderr)
        j = json.loads(self.status(status_path, "--json").stdout)
        self.assertFalse(j["healthy"])
        self.assertTrue(any(fragment in problem for problem in j["problems"]), j["problems"])
        return j

    def test_the_database_facts_need_no_daemon(self):
        p = self.status(os.path.join(self.fx.dir, "none.status"))
        self.assertIn("raw 2026-11-20 00:00:00 .. 2026-11-20 01:29:59", p.stdout)
        self.assertIn("InfluxDB       forwarding: off", p.stdout)
        j = json.loads(self.status(os.path.join(self.fx.dir, "none.status"), "--json").stdout)
        self.assertEqual(j["database"]["episodes_total"], 3)
        self.assertGreater(j["database"]["size_bytes"], 0)
        self.assertEqual(j["database"]["raw_oldest"], "2026-11-20T00:00:00Z")
        self.assertEqual(j["influx"]["state"], "off")
        for key in ("status_file", "running", "pid", "started", "interval_s", "last_sample", "last_sample_age_s",
                    "table", "table_state", "store_state", "counters", "samples", "missed_ticks", "samples_in_ram",
                    "samples_dropped", "episodes_opened", "open_episode", "detector_us_per_sample", "reading_us_per_sample", "db"):
            self.assertIn(key, j["daemon"])

    def test_no_status_file_means_not_running(self):
        j = self.assert_unhealthy(os.path.join(self.fx.dir, "none.status"), "daemon not running: no status file")
        self.assertFalse(j["daemon"]["running"])

    def test_a_dead_pid_means_not_running(self):
        child = subprocess.Popen(["true"])
        child.wait()
        j = self.assert_unhealthy(self.pid_file(child.pid), f"pid {child.pid} from")
        self.assertFalse(j["daemon"]["running"])

    def test_a_live_daemon_without_a_socket_is_pointed_out(self):
        # An older ctmon, or one that could not create its socket: alive, but it cannot say more.
        j = self.assert_unhealthy(self.pid_file(os.getpid()), "runs but has no status socket")
        self.assertTrue(j["daemon"]["running"])
        self.assertEqual(j["daemon"]["pid"], os.getpid())

    def test_a_daemon_that_does_not_answer_is_unhealthy_after_a_bounded_wait(self):
        status_path = self.pid_file(os.getpid(), "stuck.status")
        sock_path = status_path.replace(".status", ".sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(sock_path)
        listener.listen(4)  # never accepts: a stopped or stuck daemon
        self.addCleanup(os.remove, sock_path)
        self.addCleanup(listener.close)
        started = time.monotonic()
        self.assert_unhealthy(status_path, "does not answer")
        self.assertLess(time.monotonic() - started, 2 * 3 + 5, "each status call waits 3 s at most")

    def test_influx_configured_but_no_daemon_report_says_so(self):
        config = os.path.join(self.fx.dir, "influx.toml")
        with open(config, "w") as f:
            f.write('[influx]\nurl = "http://127.0.0.1:8086"\n')
        p = run("status", "--config", config, "--db", self.fx.db, "--status-file",
                os.path.join(self.fx.dir, "none.status"), check=False)
        self.assertIn("forwarding configured; the daemon reports no sender state", p.stdout)

    def test_json_never_shows_the_password_in_the_influx_url(self):
        config = os.path.join(self.fx.dir, "secret.toml")
        with open(config, "w") as f:
            f.write('[influx]\nurl = "http://ctmon:hunter2@127.0.0.1:8086"\n')
        p = run("status", "--json", "--config", config, "--db", self.fx.db, "--status-file",
                os.path.join(self.fx.dir, "none.status"), check=False)
        self.assertNotIn("hunter2", p.stdout + p.stderr)
        self.assertIn("127.0.0.1:8086", json.loads(p.stdout)["influx"]["url"])

    def test_lang_c_is_ascii(self):
        p = self.status(os.path.join(self.fx.dir, "none.status"), lang="C")
        p.stdout.encode("ascii")


if __name__ == "__main__":
    unittest.main(verbosity=2)
