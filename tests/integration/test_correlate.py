"""ctmon correlate on the binary: a replayed database without probes (the one line that says how
to turn them on, exit 0, and the episodes still counted in --json), a missing database (the same
one-line error as ctmon events) and a reversed period. The statistics on probe data are tested in
tests/monitor/cli/correlate_test.cpp, on a database written by the real store writer."""
import json
import os
import unittest

from test_events_common import ReplayedDb, run


class CorrelateOnReplayedScenario(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = ReplayedDb()

        # The scenario is dated in the past: the default period (the last 24 hours) would miss it.
        cls.period = ["--since", "2000-01-01"]

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()

    def test_without_probes_one_line_says_how_to_turn_them_on(self):
        p = run("correlate", *self.fx.args(), *self.period)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(len(p.stdout.splitlines()), 1, p.stdout)
        self.assertIn("--probe auto", p.stdout)
        self.assertIn("Probes", p.stdout)
        self.assertEqual(p.stderr, "")

    def test_json_counts_the_replayed_episodes_as_counter_only(self):
        replayed = [json.loads(line) for line in self.fx.replay_json.splitlines() if line.strip()]
        self.assertGreater(len(replayed), 0)
        report = json.loads(run("correlate", "--json", *self.fx.args(), *self.period).stdout)
        self.assertFalse(report["probe_counters"])
        self.assertEqual(report["targets"], [])
        self.assertEqual(report["episodes"]["total"], len(replayed))
        self.assertEqual(report["episodes"]["counters_only"], len(replayed))
        self.assertEqual(report["episodes"]["both"], 0)
        self.assertIsNone(report["episodes"]["lag_s"])
        self.assertGreater(report["intervals"], 0)
        self.assertEqual(sum(report["episodes"]["where"].values()), len(replayed))

    def test_missing_database_is_the_reading_commands_one_line_error(self):
        absent = ["--db", os.path.join(self.fx.dir, "absent.db"), "--status-file", self.fx.status]
        correlate = run("correlate", *absent, check=False)
        events = run("events", *absent, check=False)
        self.assertEqual(correlate.returncode, 1)
        self.assertEqual(correlate.stdout, "")
        self.assertEqual(correlate.stderr, events.stderr)
        self.assertEqual(len(correlate.stderr.splitlines()), 1)

    def test_reversed_period_is_refused(self):
        p = run("correlate", *self.fx.args(), "--since", "1h", "--until", "2h", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("swap them", p.stderr)

    def test_an_until_before_the_default_period_asks_for_since(self):
        p = run("correlate", *self.fx.args(), "--until", "2000-01-01", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("give --since too", p.stderr)

    def test_the_default_period_is_the_last_day(self):
        # The scenario's samples are older than a day: none are read by default.
        report = json.loads(run("correlate", "--json", *self.fx.args()).stdout)
        self.assertEqual(report["intervals"], 0)


if __name__ == "__main__":
    unittest.main()
