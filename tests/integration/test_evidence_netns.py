"""The evidence an episode stores is what `ctmon series` shows for the same seconds: a UDP storm of
a known rate through a real router namespace, then the stored episode's peak rate, start and end
checked against the recorded series."""
import json
import unittest

from netns import WAN_IP, NetnsTestCase, ctmon_binary, sh, wait_for

INTERVAL_S = 1.0
STORM_PPS, STORM_S = 200, 30
COUNTER = "udp_conntrack_fwd_new"


class EvidenceMatchesSeries(NetnsTestCase):
    def events(self):
        out = sh(ctmon_binary(), "events", "--db", self.db, "--json").stdout
        return [json.loads(line) for line in out.splitlines()]

    def series(self):
        """[(ts, pps)] of COUNTER as `ctmon series --json` reports them (the daemon's live samples too)."""
        out = sh(ctmon_binary(), "series", "--db", self.db, "--json", "--counter", COUNTER, "--since", "10m").stdout
        return [(s["ts"], s["pps"][COUNTER]) for s in map(json.loads, out.splitlines())
                if s["pps"][COUNTER] is not None]

    def test_stored_peak_start_and_end_match_the_series(self):
        self.learn_a_quiet_router()
        self.topo.serve(self.topo.wan, "udp", 5353)
        d = self.daemon("--interval", f"{INTERVAL_S}s", "--commit-interval", "1s")
        d.wait_healthy()
        # After a restore the first samples cannot alarm (resume_samples): the storm starts once
        # the daemon is past them, so the episode's start measures the detectors, not the restart.
        wait_for(lambda: len(self.series()) > 5, 20, "six quiet samples")
        t = self.topo
        t.traffic(t.lan, "udp-storm", WAN_IP, "5353", str(STORM_PPS), str(STORM_S))
        # Closing waits out the score's tail and the 60 s merge gap: bounded, not a fixed sleep.
        wait_for(lambda: "episode closed" in d.text(), 150, "the storm's episode to close")
        closed = [e for e in self.events() if e["end_ts"] is not None]
        self.assertEqual(len(closed), 1, closed)
        episode = closed[0]
        udp = [c for c in episode["counters"] if c["name"] == COUNTER]
        self.assertTrue(udp, f"{COUNTER} not among the moved counters: {episode}")
        udp = udp[0]

        series = self.series()
        # The storm's seconds as the series sees them: well above the quiet namespace's rate.
        stormy = [(ts, pps) for ts, pps in series if pps > STORM_PPS / 4]
        self.assertGreater(len(stormy), STORM_S / INTERVAL_S / 2, "the series does not show the storm")
        first, last = stormy[0][0], stormy[-1][0]
        peak_ts, peak = max(stormy, key=lambda s: s[1])

        # The stored peak is the series' rate for the same second, and that second is the storm's
        # highest (or ties with it within a few %: a paced sender gives near-equal seconds).
        at_peak = [pps for ts, pps in series if abs(ts - udp["peak_ts"]) < 0.01]
        self.assertEqual(len(at_peak), 1, f"no sample at the stored peak time {udp['peak_ts']}")
        self.assertAlmostEqual(udp["peak_pps"], at_peak[0], delta=0.005 * at_peak[0] + 0.001)
        self.assertAlmostEqual(udp["peak_pps"], peak, delta=0.03 * peak,
                               msg=f"stored peak {udp['peak_pps']} pps, series maximum {peak} pps at {peak_ts}")
        self.assertLess(udp["baseline_pps"], STORM_PPS / 10, "the usual rate is the one before the storm")
        self.assertLessEqual(abs(episode["start_ts"] - first), 2 * INTERVAL_S + 0.01, (episode, first))
        self.assertLessEqual(abs(episode["end_ts"] - last), 2 * INTERVAL_S + 0.01, (episode, last))
        self.assertEqual(episode["kind"], "udp_storm")
        self.assertIn(f"{COUNTER} rose", episode["summary"])


if __name__ == "__main__":
    unittest.main()
