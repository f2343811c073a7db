"""ctmon run against a real kernel: every sample kept and equal to what nft counts, through
a deleted table, SIGHUP, kill -9 at random moments, a full disk and a locked database."""
import csv
import hashlib
import io
import os
import random
import signal
import sqlite3
import subprocess
import time
import unittest

from netns import HERE, SYSTEM_PYTHON, WAN_IP, NetnsTestCase, ctmon_binary, sh, wait_for

INTERVAL_S = 0.2


def read_csv(db, *flags):
    out = sh(ctmon_binary(), "series", "--db", db, "--csv", *flags).stdout
    rows = list(csv.reader(io.StringIO(out)))
    header, body = rows[0], rows[1:]
    return header, [(float(r[0]), {h: csv_number(h, v) for h, v in zip(header[1:], r[1:])}) for r in body]


# Columns that hold a value per row, not a cumulative count (docs/formats.md): the probes' RTT,
# jitter and loss, the conntrack table's fill.
MEAN_COLUMNS = ("probe_", "conntrack_entries", "conntrack_limit")


def csv_number(name, field):
    """A replay CSV field: a cumulative count, or the value of a probe or of the conntrack table
    (docs/formats.md); None when empty."""
    if not field:
        return None
    return float(field) if name.startswith(MEAN_COLUMNS) else int(field)


class DaemonAgainstKernel(NetnsTestCase):
    def daemon(self, *flags, interval_s=INTERVAL_S, log_path=None):
        return super().daemon("--interval", str(interval_s), *flags, log_path=log_path)

    def test_every_sample_is_kept_and_the_last_equals_what_nft_counts(self):
        t = self.topo
        t.serve(t.wan, "tcp", 8080)
        d = self.daemon("--commit-interval", "2s", "--retention-raw", "1h")
        d.wait_log("sampling table")
        started = time.time()
        for _ in range(6):
            t.traffic(t.lan, "tcp", WAN_IP, "8080", "3")
            time.sleep(0.4)
        time.sleep(1)
        self.assertEqual(d.stop(), 0, d.text())
        elapsed = time.time() - started
        nft = t.nft_counters(t.router)

        header, rows = read_csv(self.db)
        self.assertEqual(len(header), 19)
        last = rows[-1][1]
        self.assertEqual(last, {name: packets for name, (packets, _) in nft.items()})
        self.assertEqual(last["tcp_conntrack_fwd_new"], 18)
        # every tick is there: no step much longer than the interval, and about elapsed/interval
        steps = [b[0] - a[0] for a, b in zip(rows, rows[1:])]
        self.assertLess(max(steps), 3 * INTERVAL_S, "a sample is missing")
        self.assertGreaterEqual(len(rows), int(elapsed / INTERVAL_S) - 2)
        # cumulative and never going backwards while the table stayed
        for name in header[1:]:
            values = [r[1][name] for r in rows]
            self.assertEqual(values, sorted(values), name)
        self.assertIn("everything saved", d.text())

    def test_a_deleted_table_is_reinstalled_and_the_reset_is_in_the_data(self):
        t = self.topo
        t.serve(t.router, "udp", 5354)
        d = self.daemon("--commit-interval", "1s")
        d.wait_log("sampling table")
        t.traffic(t.lan, "udp", "10.199.1.1", "5354", "5")
        time.sleep(0.6)
        t.run(t.router, "nft", "delete table ip conntrack_stats")
        d.wait_log("disappeared")
        d.wait_log("reinstalled")
        d.wait_log("readable again")
        time.sleep(0.6)
        self.assertIsNone(d.proc.poll(), "the daemon must keep running")
        self.assertEqual(d.stop(), 0)
        _, rows = read_csv(self.db)
        values = [r[1]["udp_conntrack_input_established"] for r in rows]
        self.assertEqual(max(values), 4)
        self.assertEqual(values[-1], 0, "after re-creation the counters start from 0")
        self.assertEqual(d.text().count("disappeared"), 1, "logged once, not once per sample")

    def test_flushed_rules_are_reinstalled_and_the_counters_count_on(self):
        # `nft flush table` keeps the chains and the counters: they read, frozen, until the
        # daemon notices and reinstalls the rules, which keeps the counters' values.
        t = self.topo
        t.serve(t.wan, "udp", 5355)
        d = self.daemon("--commit-interval", "1s")
        d.wait_healthy()
        t.traffic(t.lan, "udp", WAN_IP, "5355", "3")
        before = t.nft_counters(t.router)["udp_conntrack_fwd_new"][0]
        self.assertEqual(before, 1)
        t.run(t.router, "nft", "flush table ip conntrack_stats")
        d.wait_log("lost its rules (nft flush table?): reinstalled them; counters keep their values")
        self.assertEqual(t.nft_counters(t.router)["udp_conntrack_fwd_new"][0], before, "the value is kept")
        t.traffic(t.lan, "udp", WAN_IP, "5355", "3")  # a new flow: one more new packet
        self.assertEqual(t.nft_counters(t.router)["udp_conntrack_fwd_new"][0], before + 1, "counting again")
        # A single chain flushed is noticed too.
        t.run(t.router, "nft", "flush chain ip conntrack_stats forward_counter")
        d.wait_log("lost 6 of its 18 rules")
        t.traffic(t.lan, "udp", WAN_IP, "5355", "3")
        self.assertEqual(t.nft_counters(t.router)["udp_conntrack_fwd_new"][0], before + 2)
        d.wait_healthy()
        _, status, _ = d.status()
        self.assertEqual(status["daemon"]["table_state"], "ok")
        # The daemon's samples follow the counters again, up to what nft counts now.
        live = lambda: read_csv(self.db, "--status-file", d.status_path)[1][-1][1]["udp_conntrack_fwd_new"]
        wait_for(lambda: live() == before + 2, 10, "the daemon to read the new count")
        self.assertEqual(d.stop(), 0, d.text())
        _, rows = read_csv(self.db)
        self.assertEqual(rows[-1][1]["udp_conntrack_fwd_new"], before + 2)
        self.assertEqual(d.text().count("lost its rules"), 1, "logged once, not once per sample")

    def test_without_install_rules_it_waits_for_the_table(self):
        d = self.daemon("--no-install-rules", "--commit-interval", "1s")
        d.wait_log("waiting for it")
        time.sleep(0.5)
        self.assertIsNone(d.proc.poll())
        self.topo.run(self.topo.router, ctmon_binary(), "rules", "install")
        d.wait_log("readable again")
        time.sleep(0.6)
        self.assertEqual(d.stop(), 0)
        self.assertGreater(len(read_csv(self.db)[1]), 0)

    def test_sighup_reloads_the_config_file(self):
        config = os.path.join(self.dir, "ctmon.toml")
        with open(config, "w") as f:
            f.write('interval = "200ms"\ncommit_interval = "1s"\n')
        d = super().daemon("--config", config)
        d.wait_log("every 200ms")
        with open(config, "w") as f:
            f.write('interval = "100ms"\ncommit_interval = "1s"\n')
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log("configuration reloaded (table ip:conntrack_stats, interval 100ms)")
        with open(config, "w") as f:
            f.write('interval = "100ms"\ncommit_interval = "2s"\nhost = "gw"\n')
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log("SIGHUP: changes to commit_interval, host take effect at the next restart")
        with open(config, "w") as f:
            f.write('interval = "1 hour"\n')
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log("keeping the running configuration")
        self.assertEqual(d.stop(), 0)

    def test_sighup_to_a_longer_interval_still_finds_episodes(self):
        # Detectors that learned already (24 minutes of a router as quiet as this namespace,
        # replayed at 1 s), so that an episode can open within seconds: past the warm-up of
        # 600 s / 500 ms = 1200 samples, which a restored state counts in samples.
        csv_path = os.path.join(self.dir, "learned.csv")
        sh(SYSTEM_PYTHON, os.path.join(HERE, "make_scenario.py"), csv_path, "--hours", "0.4", "--scale", "0.01")
        sh(ctmon_binary(), "replay", "--input", csv_path, "--db", self.db)
        config = os.path.join(self.dir, "ctmon.toml")
        with open(config, "w") as f:
            f.write('interval = "100ms"\ncommit_interval = "1s"\n')
        t = self.topo
        t.serve(t.wan, "tcp", 8080)
        d = super().daemon("--config", config)
        d.wait_log("detectors resumed")
        d.wait_log("every 100ms")
        time.sleep(1)
        # Five times longer: with detectors still set for 100 ms every step would be a gap.
        with open(config, "w") as f:
            f.write('interval = "500ms"\ncommit_interval = "1s"\n')
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log("configuration reloaded (table ip:conntrack_stats, interval 500ms)")
        self.assertIn("detectors now sample every 500ms", d.text())
        time.sleep(2.5)  # a few quiet steps at the new interval first
        self.assertNotIn("episode opened", d.text(), "an episode before any burst proves nothing")
        # A burst of new connections through the router, after the reload.
        deadline = time.monotonic() + 20
        while "episode opened" not in d.text() and time.monotonic() < deadline:
            t.traffic(t.lan, "tcp", WAN_IP, "8080", "200")
        self.assertIn("episode opened", d.text(), "no episode after changing the interval by SIGHUP")
        self.assertIn("tcp_conntrack_fwd_new", d.text().split("episode opened", 1)[1].splitlines()[0])
        self.assertEqual(d.stop(), 0, d.text())

    def test_kill_9_during_commits_never_breaks_the_database(self):
        commit_s = 1.0
        rng = random.Random(20261127)
        for round_ in range(6):
            d = self.daemon("--commit-interval", f"{commit_s}s", interval_s=0.05,
                            log_path=os.path.join(self.dir, f"round{round_}.log"))
            d.wait_log("sampling table")
            time.sleep(rng.uniform(1.2, 3.0))
            killed_at = time.time()
            d.stop(signal.SIGKILL)
            con = sqlite3.connect(self.db)
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            con.close()
            _, rows = read_csv(self.db)
            self.assertTrue(rows, f"round {round_}: nothing recorded")
            lost_s = killed_at - rows[-1][0]
            self.assertLess(lost_s, commit_s + 0.5,
                            f"round {round_}: {lost_s:.2f} s lost, more than one commit interval")

    def test_after_kill_9_the_next_start_rebuilds_the_lost_minute_rollups(self):
        def rollup_newest_s():
            con = sqlite3.connect(self.db)
            newest = con.execute("SELECT max(max_wall_ns) FROM rollup_blocks").fetchone()[0]
            con.close()
            return (newest or 0) / 1e9

        d = self.daemon("--commit-interval", "1s", interval_s=0.1, log_path=os.path.join(self.dir, "crash.log"))
        d.wait_log("sampling table")
        time.sleep(2.5)
        d.stop(signal.SIGKILL)
        _, rows = read_csv(self.db)
        self.assertTrue(rows, "nothing recorded before the kill")
        last_raw_s = rows[-1][0]
        # The hour's rollup block was still in RAM: the crash lost it (else this test proves nothing).
        self.assertLess(rollup_newest_s(), last_raw_s - 1.0)

        d = self.daemon(interval_s=0.1, log_path=os.path.join(self.dir, "after-crash.log"))
        d.wait_log("did not stop cleanly: rebuilt")
        # Checked while this daemon runs: its own rollup block is written only at the hour or
        # at its stop. Minute rollups keep the last sample before a break, so the last sample
        # before the kill is in them again.
        self.assertGreaterEqual(rollup_newest_s(), last_raw_s - 0.01)
        self.assertEqual(d.stop(), 0)

        d = self.daemon(interval_s=0.1, log_path=os.path.join(self.dir, "after-clean-stop.log"))
        d.wait_log("sampling table")
        self.assertEqual(d.stop(), 0)
        self.assertNotIn("did not stop cleanly", d.text())

    def test_a_full_disk_keeps_samples_in_ram_and_recovers(self):
        mnt = os.path.join(self.dir, "small")
        os.mkdir(mnt)
        sh("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt)
        self.addCleanup(sh, "umount", "-l", mnt, check=False)
        self.db = os.path.join(mnt, "ctmon.db")
        d = self.daemon("--commit-interval", "1s")
        d.wait_log("sampling table")
        time.sleep(1.5)
        filler = os.path.join(mnt, "filler")
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
        full_from = time.time()
        d.wait_log("disk full", timeout_s=15)
        time.sleep(2)
        os.remove(filler)
        d.wait_log("works again", timeout_s=40)
        full_until = time.time()
        time.sleep(0.5)
        self.assertEqual(d.stop(), 0, d.text())
        self.assertEqual(d.text().count("disk full"), 1, "logged once per condition")
        _, rows = read_csv(self.db)
        during = [ts for ts, _ in rows if full_from + 0.5 < ts < full_until - 0.5]
        self.assertGreaterEqual(len(during), int((full_until - full_from - 1) / INTERVAL_S) - 3,
                                "samples taken while the disk was full were lost")

    def test_a_locked_database_delays_writes_without_losing_samples(self):
        d = self.daemon("--commit-interval", "1s")
        d.wait_log("sampling table")
        time.sleep(1.2)
        locker = sqlite3.connect(self.db, timeout=10, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        locked_from = time.time()
        d.wait_log("database locked", timeout_s=10)
        time.sleep(1.5)
        locker.execute("COMMIT")
        locker.close()
        locked_until = time.time()
        d.wait_log("works again", timeout_s=40)
        self.assertEqual(d.stop(), 0)
        _, rows = read_csv(self.db)
        during = [ts for ts, _ in rows if locked_from < ts < locked_until]
        self.assertGreaterEqual(len(during), int((locked_until - locked_from) / INTERVAL_S) - 3)

    def test_a_corrupt_database_is_refused_untouched_until_reset_db(self):
        with open(self.db, "wb") as f:
            f.write(b"this is not a database" * 200)
        def digest_of(path):
            with open(path, "rb") as f:
                return hashlib.sha256(f.read()).hexdigest()
        digest = digest_of(self.db)
        proc = self.topo.run(self.topo.router, ctmon_binary(), "run", "--db", self.db,
                             check=False, timeout=10)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("--reset-db", proc.stderr)
        self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
        self.assertEqual(digest_of(self.db), digest)
        d = self.daemon("--reset-db", "--commit-interval", "1s")
        d.wait_log("moved aside to")
        d.wait_log("sampling table")
        self.assertEqual(d.stop(), 0)
        aside = [n for n in os.listdir(self.dir) if n.startswith("ctmon.db.reset-")]
        self.assertEqual(len(aside), 1)
        self.assertEqual(digest_of(os.path.join(self.dir, aside[0])), digest)

    def test_bad_flags_and_config_values_each_get_their_own_error(self):
        config = os.path.join(self.dir, "bad.toml")
        with open(config, "w") as f:
            f.write("interval = 5\nretention = '2d'\n")
        cases = [
            (["--interval", "45s"], "--interval 45s is not allowed: a duration from 50ms to 30s"),
            (["--interval", "fast"], "--interval fast: not a duration"),
            (["--commit-interval", "1s", "--interval", "2s"], "shorter than interval"),
            (["--table", "ipv4:x"], "unknown family 'ipv4'"),
            (["--config", config], "bad.toml:2: unknown key 'retention'"),
            (["--config", os.path.join(self.dir, "missing.toml")], "cannot be read"),
            (["--influx-api", "v3"], '--influx-api v3 is not allowed: "v1"'),
            (["--retention-rollup", "1s"], "--retention-rollup 1s is not allowed"),
        ]
        for flags, message in cases:
            with self.subTest(flags=flags):
                proc = self.topo.run(self.topo.router, ctmon_binary(), "run", "--db", self.db,
                                     *flags, check=False, timeout=10)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertIn(message, proc.stderr)
                self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
        self.assertFalse(os.path.exists(self.db), "a refused start must not create the database")


if __name__ == "__main__":
    unittest.main(verbosity=2)
