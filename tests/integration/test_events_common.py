"""Shared by the ctmon events/show/status tests: a fixed replayed scenario in a temporary
database, and running ctmon with a fixed terminal (TZ=UTC, COLUMNS, no colour, a chosen LANG)."""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")
# Episodes at known times; the detectors warm up for 600 samples first. The third one moves two
# counters at once, so a chart has two series.
SCENARIO = ["--hours", "1.5", "--episode", "3000:40:invalid_burst", "--episode", "4200:30:scan",
            "--episode", "4800:40:invalid_burst", "--episode", "4800:40:udp_storm"]


def ctmon():
    path = os.environ.get("CTMON")
    if not path:
        sys.exit("set CTMON to the ctmon binary (ctest does)")
    return path


def env(lang="C.UTF-8", columns="80", **extra):
    e = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "LC_ALL", "LC_CTYPE", "LANG", "COLUMNS")}
    e.update(TZ="UTC", LANG=lang, COLUMNS=columns)
    e.update(extra)
    return e


def run(*args, check=True, **env_args):
    p = subprocess.run([ctmon(), *args], capture_output=True, text=True, env=env(**env_args), timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"ctmon {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


def make_scenario(directory, *extra):
    csv_path = os.path.join(directory, "scenario.csv")
    subprocess.run([sys.executable, os.path.join(HERE, "make_scenario.py"), csv_path, *SCENARIO, *extra],
                   check=True)
    return csv_path


class ReplayedDb:
    """The scenario replayed into a fresh database (as the daemon would have stored it)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ctmon-cli-")
        self.csv = make_scenario(self.dir)
        self.db = os.path.join(self.dir, "ctmon.db")
        # No status file: the commands must not pick up a real daemon's /run file.
        self.status = os.path.join(self.dir, "absent.status")
        self.replay_json = run("replay", "--input", self.csv, "--db", self.db, "--json").stdout

    def args(self):
        return ["--db", self.db, "--status-file", self.status]

    def close(self):
        shutil.rmtree(self.dir, True)


def check_golden(test, name, text):
    """Compares `text` with golden/<name>; CTMON_UPDATE_GOLDEN=1 rewrites the file instead."""
    path = os.path.join(GOLDEN, name)
    if os.environ.get("CTMON_UPDATE_GOLDEN") == "1":
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return
    with open(path, encoding="utf-8") as f:
        expected = f.read()
    test.assertEqual(expected, text, f"output differs from {path} (CTMON_UPDATE_GOLDEN=1 rewrites it after review)")
