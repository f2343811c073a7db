"""What the real binary does with bad arguments and bad settings, before it touches anything:
one line on stderr naming the problem, exit status 1 (help and version requests exit 0), and
nothing created. Needs no root and no kernel: every case fails while parsing."""
import os
import subprocess
import tempfile
import unittest

CTMON = os.environ.get("CTMON", "")


def ctmon(*args):
    return subprocess.run([CTMON, *args], text=True, capture_output=True, check=False,
                          timeout=30)


class CommandLine(unittest.TestCase):
    def assert_one_line_error(self, args, *fragments):
        proc = ctmon(*args)
        self.assertEqual(proc.returncode, 1, f"{args}: {proc.stderr}")
        self.assertEqual(proc.stderr.count("\n"), 1, f"{args}: not one line: {proc.stderr!r}")
        for fragment in fragments:
            self.assertIn(fragment, proc.stderr)

    def test_every_parse_error_exits_1_in_one_line(self):
        self.assert_one_line_error(["run", "--bogus"], "ctmon run:", "--bogus", "ctmon run --help")
        self.assert_one_line_error(["replay", "--input", "x.csv", "--format", "x"], "--format")
        self.assert_one_line_error(["events", "--since"], "--since")
        self.assert_one_line_error(["events", "--limit", "many"], "--limit")
        # Range messages say what is expected in words, not as a 300-digit float.
        for bad in ("0", "-3", "many", "1e3"):
            self.assert_one_line_error(["events", "--limit", bad], "--limit: expected a whole number", f"'{bad}'")
            proc = ctmon("events", "--limit", bad)
            self.assertLess(len(proc.stderr), 200, proc.stderr)
        for bad in ("2", "-0.1", "nan", "high"):
            self.assert_one_line_error(["events", "--min-score", bad], "--min-score: expected a score from 0 to 1",
                                       f"'{bad}'")
        self.assert_one_line_error(["nosuch"], "unknown command 'nosuch'", "run, series")
        self.assert_one_line_error(["--bogus"], "unknown option '--bogus'")
        self.assert_one_line_error(["config", "nosuch"], "unknown command 'nosuch'", "check")

    def test_no_command_prints_the_commands_and_exits_1(self):
        for args, commands in (([], ["run", "events", "status", "config"]),
                               (["config"], ["check", "example", "keys"])):
            proc = ctmon(*args)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertIn("Usage: ctmon", proc.stderr)
            for command in commands:
                self.assertRegex(proc.stderr, rf"(?m)^  {command} ")

    def test_help_and_version_exit_0(self):
        for args in (["--help"], ["run", "--help"], ["config", "check", "--help"], ["--version"]):
            proc = ctmon(*args)
            self.assertEqual(proc.returncode, 0, f"{args}: {proc.stderr}")
            self.assertTrue(proc.stdout)


class Settings(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="ctmon-args-")
        self.addCleanup(self.dir.cleanup)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def test_a_retention_out_of_range_is_refused_before_the_database_exists(self):
        db = os.path.join(self.path("sub"), "ctmon.db")
        for flags in (["--retention-rollup", "1s"], ["--retention-raw", "1s"]):
            proc = ctmon("run", "--config", "/dev/null", "--db", db, *flags)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
            self.assertIn(f"{flags[0]} 1s is not allowed", proc.stderr)
            self.assertFalse(os.path.exists(os.path.dirname(db)), "nothing may be created")

    def test_nan_and_infinite_durations_are_refused_with_file_and_line(self):
        for text in ("interval = 5\n[influx]\npre_window = nan\n",
                     "interval = 5\n[influx]\ntimeout = inf\n",
                     "interval = 5\nretention_rollup = -inf\n"):
            config = self.write("nan.toml", text)
            proc = ctmon("config", "check", "--config", config)
            self.assertEqual(proc.returncode, 1, text)
            self.assertIn(config + ":", proc.stderr)
            self.assertIn("is not allowed: a duration from", proc.stderr)

    def test_a_bad_influx_api_names_the_file_and_line(self):
        config = self.write("api.toml", "[influx]\nurl = 'http://127.0.0.1:8086'\napi = 'v3'\n")
        proc = ctmon("config", "check", "--config", config)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"{config}:3: influx.api = 'v3' is not allowed", proc.stderr)

    def test_config_check_never_prints_the_urls_credentials(self):
        config = self.write("url.toml", "[influx]\nurl = 'http://alice:s3cret@192.0.2.1:8086'\n")
        for args in (["--config", config],
                     ["--config", "/dev/null", "--influx-url", "https://bob:hunter2@h:8086"]):
            proc = ctmon("config", "check", *args)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertNotIn("s3cret", proc.stdout)
            self.assertNotIn("hunter2", proc.stdout)
            self.assertIn("***@", proc.stdout)


if __name__ == "__main__":
    if not CTMON or not os.access(CTMON, os.X_OK):
        raise SystemExit("CTMON must name the built ctmon binary (ctest sets it)")
    unittest.main(verbosity=2)
