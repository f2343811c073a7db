"""ctmon events and ctmon show on a fixed replayed scenario: golden table, JSON and chart output
(fixed width, no colour, UTF-8 and LANG=C), the filters, the JSON contract shared with replay,
clear refusals of missing/foreign/newer databases, and the SVG chart (xmllint, structure)."""
import json
import os
import pty
import shutil
import sqlite3
import subprocess
import unittest
import xml.etree.ElementTree as ET

from test_events_common import ReplayedDb, check_golden, ctmon, env, run

SVG_NS = "{http://www.w3.org/2000/svg}"


class EventsOnReplayedScenario(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = ReplayedDb()

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()

    def events(self, *args, **env):
        return run("events", *self.fx.args(), *args, **env)

    # --- the table ---------------------------------------------------------------------------
    def test_table_matches_golden_at_80_columns(self):
        out = self.events().stdout
        check_golden(self, "events_table.txt", out)
        self.assertTrue(all(len(line) <= 80 for line in out.splitlines()), out)
        self.assertNotIn("\x1b", out)

    def test_table_is_ascii_under_lang_c(self):
        out = self.events(lang="C").stdout
        check_golden(self, "events_table_ascii.txt", out)
        out.encode("ascii")  # raises on any non-ASCII byte

    def test_columns_widens_the_table(self):
        wide = self.events(columns="400").stdout
        for line in wide.splitlines()[1:]:
            self.assertTrue(line.endswith(" s in."), line)  # the whole summary fits

    def test_newest_first_with_the_top_counter_and_its_change(self):
        lines = self.events(columns="200").stdout.splitlines()[1:]
        ids = [int(line.split()[0]) for line in lines]
        self.assertEqual(ids, sorted(ids, reverse=True))
        self.assertEqual(len(ids), 3)
        first_burst = lines[-1]
        self.assertIn("invalid_burst", first_burst)
        # The usual rate of invalid packets is near 0, so no ratio: the change and its peak.
        self.assertRegex(first_burst, r"tcp fwd invalid ~0 to \d+ pps")
        self.assertRegex(lines[1], r"tcp input new \d+x to \d+ pps")
        self.assertIn("11-20 00:50:00", first_burst)  # local start (TZ=UTC here)

    def on_a_tty(self, *args, **env_extra):
        """Runs ctmon with stdout on a pseudo-terminal; returns what it printed there."""
        master, slave = pty.openpty()
        try:
            p = subprocess.run([ctmon(), *args], stdout=slave, stderr=subprocess.PIPE, env=env(**env_extra),
                               timeout=60)
        finally:
            os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other side is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(master)
        self.assertEqual(p.returncode, 0, p.stderr)
        return b"".join(chunks).decode()

    def test_colour_on_a_tty_unless_no_color(self):
        self.assertIn("\x1b[", self.on_a_tty("events", *self.fx.args(), TERM="xterm"))
        self.assertNotIn("\x1b[", self.on_a_tty("events", *self.fx.args(), TERM="xterm", NO_COLOR="1"))

    def test_no_colour_when_not_a_tty_even_without_no_color(self):
        self.assertNotIn("\x1b", self.events(TERM="xterm-256color").stdout)

    # --- JSON ----------------------------------------------------------------------------------
    def test_json_matches_golden_and_the_replay_lines(self):
        out = self.events("--json").stdout
        check_golden(self, "events.jsonl", out)
        mine = [json.loads(line) for line in out.splitlines()]
        replayed = [json.loads(line) for line in self.fx.replay_json.splitlines()]
        self.assertEqual(len(mine), 3)
        # Same objects, same text: events lists newest first, replay prints in order.
        self.assertEqual(list(reversed(out.splitlines())), self.fx.replay_json.splitlines())
        self.assertEqual(list(reversed(mine)), replayed)
        for e in mine:
            for key in ("id", "start", "end", "start_ts", "end_ts", "score", "kind", "counters", "summary"):
                self.assertIn(key, e)
            for c in e["counters"]:
                self.assertIn("peak_pps", c)
                self.assertIn("baseline_pps", c)

    # --- filters -------------------------------------------------------------------------------
    def ids(self, *args):
        return [json.loads(line)["id"] for line in self.events("--json", *args).stdout.splitlines()]

    def test_filters(self):
        self.assertEqual(self.ids("--kind", "scan"), [2])
        self.assertEqual(self.ids("--limit", "1"), [3])
        self.assertEqual(self.ids("--since", "2026-11-20T01:00:00Z"), [3, 2])
        self.assertEqual(self.ids("--until", "2026-11-20T01:00:00Z"), [1])
        self.assertEqual(self.ids("--since", "2026-11-20 01:05", "--until", "2026-11-20 01:15"), [2])
        self.assertEqual(self.ids("--open"), [])
        # The filter compares the stored peak (JSON rounds it to 0.001): take a cut between two.
        with sqlite3.connect(f"file:{self.fx.db}?mode=ro", uri=True) as c:
            scores = dict(c.execute("SELECT id, peak_score FROM events"))
        low, high = sorted(scores.values())[:2]
        self.assertLess(low, high)
        cut = (low + high) / 2
        self.assertEqual(self.ids("--min-score", repr(cut)), sorted((i for i, s in scores.items() if s >= cut), reverse=True))
        self.assertEqual(len(self.ids("--min-score", repr(cut))), len(scores) - 1)

    def test_table_limit_says_what_was_left_out(self):
        out = self.events("--limit", "2").stdout
        self.assertEqual(len(out.splitlines()), 4, out)
        self.assertIn("1 older not shown", out)

    def test_nothing_found_is_an_answer_with_the_sampling_facts(self):
        out = self.events("--since", "2h").stdout
        self.assertEqual(out, "No episodes in the last 2h (sampling every 1 s since 2026-11-20 00:00:00).\n")
        out = self.events("--open").stdout
        self.assertIn("No episodes recorded still open (sampling every 1 s since", out)
        out = self.events("--kind", "wan_drop", "--since", "2026-11-20").stdout
        self.assertIn("No episodes since 2026-11-20 00:00:00 of kind wan_drop (sampling every 1 s", out)

    def test_bad_times_name_the_accepted_forms(self):
        for bad in ("soon", "25:00", "2026-13-01", "2h ago"):
            p = self.events("--since", bad, check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(f"--since '{bad}' is not a time; accepted: 2h, 30m, 3d", p.stderr)
            self.assertIn("RFC 3339", p.stderr)
        p = self.events("--since", "2026-11-20T02:00:00Z", "--until", "2026-11-20T01:00:00Z", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("is not before --until", p.stderr)

    # --- show ----------------------------------------------------------------------------------
    def show(self, *args, **env):
        return run("show", *self.fx.args(), *args, **env)

    def test_show_matches_golden_with_chart(self):
        out = self.show("1").stdout
        check_golden(self, "show_1.txt", out)
        self.assertIn("Counters that moved:", out)
        self.assertIn("tcp fwd invalid", out)
        self.assertIn("\u2591", out)  # the episode band
        self.assertIn("\u2588", out)  # bars

    def test_show_ascii_under_lang_c(self):
        out = self.show("3", lang="C").stdout
        check_golden(self, "show_3_ascii.txt", out)
        out.encode("ascii")
        self.assertEqual(out.count("packets/s"), 2)  # one chart per moving counter

    def test_show_unknown_id_lists_the_recent_ones(self):
        p = self.show("99", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(p.stderr.count("\n"), 1, p.stderr)
        self.assertIn("no episode 99", p.stderr)
        self.assertIn("the most recent are 3, 2, 1", p.stderr)

    def test_show_csv_is_a_replay_csv_of_the_window(self):
        out = self.show("1", "--csv").stdout.splitlines()
        self.assertTrue(out[0].startswith("timestamp,tcp_conntrack_fwd_new,"))
        stamps = [float(line.split(",")[0]) for line in out[1:]]
        start, end = 1795132800 + 3000, json.loads(self.events("--json", "--kind", "invalid_burst", "--limit", "5")
                                                   .stdout.splitlines()[-1])["end_ts"]
        self.assertEqual(stamps[0], start - 300)
        self.assertLess(stamps[-1], end + 300)
        self.assertGreaterEqual(stamps[-1], end + 299)
        self.assertEqual(len(stamps), len(set(stamps)))
        # It reads back: replaying the window finds the burst again.
        path = os.path.join(self.fx.dir, "window.csv")
        with open(path, "w") as f:
            f.write("\n".join(out) + "\n")
        self.assertEqual(run("replay", "--input", path).returncode, 0)

    def test_svg_is_xml_with_the_band_and_one_series_per_moving_counter(self):
        path = os.path.join(self.fx.dir, "episode3.svg")
        out = self.show("3", "--svg", path).stdout
        self.assertIn(f"Chart written to {path}", out)
        if shutil.which("xmllint"):
            subprocess.run(["xmllint", "--noout", path], check=True)
        root = ET.parse(path).getroot()
        self.assertEqual(root.tag, SVG_NS + "svg")
        series = [e for e in root.iter(SVG_NS + "path") if e.get("class") == "series"]
        counters = [c["name"] for c in json.loads(self.events("--json", "--limit", "1").stdout)["counters"]]
        self.assertGreaterEqual(len(counters), 2)
        self.assertEqual(sorted(e.get("data-counter") for e in series), sorted(counters))
        for e in series:
            self.assertGreater(e.get("d").count("L"), 100)  # a real line, not a stub
        bands = [e for e in root.iter(SVG_NS + "rect") if e.get("class") == "episode"]
        self.assertEqual(len(bands), len(counters))
        self.assertGreater(float(bands[0].get("width")), 10)
        texts = "".join(t.text or "" for t in root.iter(SVG_NS + "text"))
        self.assertIn("packets/s", texts)
        self.assertIn("01:20", texts)  # a real local time tick near the episode (TZ=UTC)
        self.assertIn("episode", texts)  # legend

    # --- databases that are not there or not ours ----------------------------------------------
    def test_missing_foreign_and_newer_databases_are_refused_in_one_line(self):
        d = self.fx.dir
        foreign = os.path.join(d, "foreign.db")
        with sqlite3.connect(foreign) as c:
            c.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
        newer = os.path.join(d, "newer.db")
        shutil.copy(self.fx.db, newer)
        with sqlite3.connect(newer) as c:
            c.execute("PRAGMA user_version = 9999")
        cases = {"missing": os.path.join(d, "nope.db"), "foreign": foreign, "newer": newer}
        for what, path in cases.items():
            for cmd in (["events"], ["events", "--json"], ["show", "1"], ["status"]):
                with self.subTest(what=what, cmd=cmd):
                    p = run(*cmd, "--db", path, "--status-file", self.fx.status, check=False)
                    self.assertNotEqual(p.returncode, 0)
                    err_lines = [l for l in p.stderr.splitlines() if l.startswith("ctmon:")]
                    self.assertTrue(err_lines, p.stderr)
                    self.assertIn(path, p.stderr + p.stdout)
                    self.assertNotIn("internal error", p.stderr)
        self.assertFalse(os.path.exists(cases["missing"]))  # a reader never creates it


if __name__ == "__main__":
    unittest.main(verbosity=2)
