"""Active probes against a real kernel: the router namespace probes its WAN neighbour and its own
LAN address, by literal address and by `auto` (the default gateway and the LAN address, read
over rtnetlink). Calm, the stored probe counters hold sub-millisecond round trips and no loss;
then the WAN neighbour answers echo requests itself after random delays of 0-150 ms and drops
30 % of them (nft numgen), and the WAN side's median, max, jitter and loss rise while the LAN
side stays calm.

The values are read where the daemon computed them (its status, each interval) and the
observation counts where they are stored (`ctmon series --raw --json`)."""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import (HERE, ROUTER_LAN_IP, ROUTER_WAN_IP, SYSTEM_PYTHON, WAN_IP, LAN_IP,  # noqa: E402
                   NetnsTestCase, ctmon_binary, sh, wait_for)

PER_INTERVAL = 10


def stored_packets(db):
    """The last stored sample's cumulative packets per counter (observation counts)."""
    out = sh(ctmon_binary(), "series", "--db", db, "--json", "--raw").stdout.strip().splitlines()
    return json.loads(out[-1])["packets"] if out else {}


class ProbesAgainstKernel(NetnsTestCase):
    def setUp(self):
        super().setUp()
        t = self.topo
        # The router's uplink: `auto` takes the default gateway as the WAN target.
        t.run(t.router, "ip", "route", "add", "default", "via", WAN_IP)

    def probing_daemon(self, *probes):
        flags = [f for p in probes for f in ("--probe", p)]
        d = self.daemon("--interval", "1s", "--commit-interval", "1s", "--probe-per-interval",
                        str(PER_INTERVAL), *flags)
        d.wait_log("sampling table")
        return d

    def probe_status(self, d):
        """{target: status entry} from the running daemon."""
        _, status, _ = d.status()
        return {p["target"]: p for p in status.get("probes", [])}

    def collect(self, d, seconds):
        """The daemon's per-interval probe values for `seconds`, one reading per interval."""
        readings = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            readings.append(self.probe_status(d))
            time.sleep(1.0)
        return readings

    def disturb_wan(self, max_delay_ms=150, drop_percent=30):
        t = self.topo
        t.run(t.wan, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1")
        responder = t.spawn(t.wan, SYSTEM_PYTHON, os.path.join(HERE, "echo_responder.py"),
                            str(max_delay_ms), stdout=subprocess.PIPE)
        self.assertEqual(responder.stdout.readline().strip(), "listening")
        t.run(t.wan, "nft", "add table inet chaos; "
              "add chain inet chaos in { type filter hook input priority 0; }; "
              f"add rule inet chaos in icmp type echo-request numgen random mod 100 < {drop_percent} drop")

    def test_auto_and_literal_targets_are_stored_with_plausible_values(self):
        d = self.probing_daemon("auto", f"client=lan:{LAN_IP}", f"far=wan:{WAN_IP}")
        for line in (f"probing wan {WAN_IP}", f"probing lan {ROUTER_LAN_IP}",
                     f"probing lan_client {LAN_IP}", f"probing wan_far {WAN_IP}"):
            self.assertIn(line, d.text())
        wait_for(lambda: all(p["median_rtt_ms"] >= 0 for p in self.probe_status(d).values()), 10,
                 "a reply from every target")
        readings = self.collect(d, 3)
        self.assertEqual(d.stop(), 0, d.text())
        for target in ("wan", "lan", "lan_client", "wan_far"):
            values = [r[target] for r in readings if target in r and r[target]["median_rtt_ms"] >= 0]
            self.assertTrue(values, target)
            for v in values:
                self.assertLess(v["median_rtt_ms"], 20, (target, v))
                self.assertLessEqual(v["median_rtt_ms"], v["max_rtt_ms"], (target, v))
                self.assertEqual(v["loss"], 0, (target, v))
                self.assertIn(v["transport"], ("icmp", "icmp-raw"))
        stored = stored_packets(self.db)
        for target in ("wan", "lan", "lan_client", "wan_far"):
            for metric in ("rtt_min_us", "rtt_median_us", "rtt_max_us", "jitter_us", "loss"):
                self.assertIn(f"probe_{target}_{metric}", stored)
            # About PER_INTERVAL probes answered per interval were stored.
            self.assertGreaterEqual(stored[f"probe_{target}_loss"], 3 * PER_INTERVAL, target)
            self.assertGreaterEqual(stored[f"probe_{target}_rtt_median_us"], 3, target)
        # The ordinary counters are still all there: probes ride in the same samples.
        self.assertIn("tcp_conntrack_fwd_new", stored)

    def test_a_disturbed_wan_raises_rtt_jitter_and_loss_there_only(self):
        d = self.probing_daemon(f"wan:{WAN_IP}", f"lan:{ROUTER_LAN_IP}")
        wait_for(lambda: self.probe_status(d).get("wan", {}).get("median_rtt_ms", -1) >= 0, 10,
                 "a WAN reply")
        calm = self.collect(d, 3)
        before = stored_packets(self.db)
        self.disturb_wan()
        time.sleep(1.5)  # the interval in progress mixes calm and disturbed probes
        disturbed = self.collect(d, 12)
        self.assertEqual(d.stop(), 0, d.text())
        after = stored_packets(self.db)

        def mean(readings, target, key):
            values = [r[target][key] for r in readings if target in r and r[target][key] >= 0]
            self.assertTrue(values, (target, key))
            return sum(values) / len(values)

        self.assertLess(mean(calm, "wan", "median_rtt_ms"), 5)
        self.assertGreater(mean(disturbed, "wan", "median_rtt_ms"), 35)   # uniform 0-150 ms: 75
        self.assertGreater(mean(disturbed, "wan", "max_rtt_ms"), 90)      # the highest of ~7
        self.assertGreater(mean(disturbed, "wan", "jitter_ms"), 20)       # uniform: 50 ms
        self.assertLess(mean(calm, "wan", "jitter_ms"), 5)
        loss = mean(disturbed, "wan", "loss")
        self.assertGreater(loss, 0.15)
        self.assertLess(loss, 0.45)
        self.assertLess(mean(disturbed, "lan", "median_rtt_ms"), 5)
        self.assertEqual(mean(disturbed, "lan", "loss"), 0)
        # Stored: every resolved probe counted, whatever its fate.
        resolved = after["probe_wan_loss"] - before["probe_wan_loss"]
        self.assertGreaterEqual(resolved, 10 * PER_INTERVAL)

    def test_without_icmp_privileges_a_named_target_is_refused_and_a_port_times_tcp(self):
        t = self.topo
        t.run(t.router, "sysctl", "-qw", "net.ipv4.ping_group_range=1 0")
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs",
                  "--inh-caps=+net_admin", "--ambient-caps=+net_admin", "--bounding-set=-all,+net_admin"]
        os.chmod(self.dir, 0o777)
        refused = t.run(t.router, *nobody, ctmon_binary(), "run", "--db", self.db, "--status-file",
                        self.db + ".status", "--probe", f"lan:{ROUTER_LAN_IP}", check=False)
        self.assertEqual(refused.returncode, 1)
        error = refused.stderr.strip().splitlines()[-1]  # after the table's install line
        self.assertTrue(error.startswith("ctmon: probe target lan "), refused.stderr)
        for advice in ("ping_group_range", "CAP_NET_RAW", f"lan:{ROUTER_LAN_IP}:443"):
            self.assertIn(advice, error)
        # A port: TCP connect timing; a refused connection (RST) is an answer too.
        t.serve(t.wan, "tcp", 8080)
        d = self.topo.spawn(t.router, *nobody, ctmon_binary(), "run", "--db", self.db,
                            "--status-file", self.db + ".status", "--interval", "1s",
                            "--probe", f"wan:{WAN_IP}:8080", "--probe", f"closed=wan:{WAN_IP}:8081",
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: d.poll() is not None or (d.kill(), d.wait()))

        def answered():
            p = subprocess.run([ctmon_binary(), "status", "--db", self.db, "--status-file",
                                self.db + ".status", "--json"], capture_output=True, text=True)
            probes = {x["target"]: x for x in json.loads(p.stdout).get("probes", [])} if p.stdout else {}
            return (len(probes) == 2 and all(x["transport"] == "tcp" and x["median_rtt_ms"] >= 0
                                             and x["loss"] == 0 for x in probes.values()))
        wait_for(answered, 15, "TCP timing of an open and a closed port")

    def where_of_episodes(self, d, wanted, timeout_s=60):
        """Waits for an episode whose `where` is `wanted` in `ctmon events --json`."""
        deadline = time.monotonic() + timeout_s
        events = []
        while time.monotonic() < deadline:
            out = sh(ctmon_binary(), "events", "--db", self.db, "--json").stdout
            events = [json.loads(line) for line in out.splitlines() if line.strip()]
            if any(e.get("where") == wanted for e in events):
                return events
            time.sleep(1)
        self.fail(f"no episode with where={wanted} in {timeout_s} s: {events}\n{d.text()}")

    def test_a_wan_disturbance_is_placed_at_the_isp(self):
        self.learn_a_quiet_router()
        d = self.probing_daemon(f"wan:{WAN_IP}", f"lan:{ROUTER_LAN_IP}")
        time.sleep(5)  # the probes' calm, for the detectors
        self.disturb_wan()
        episode = [e for e in self.where_of_episodes(d, "isp") if e["where"] == "isp"][0]
        # The evidence the verdict rests on: the WAN's jitter or loss, and the calm LAN.
        moved = {c["name"] for c in episode["counters"]}
        self.assertTrue(moved & {"probe_wan_jitter_us", "probe_wan_loss", "probe_wan_rtt_median_us"}, episode)
        self.assertIn("LAN calm", episode["summary"])
        self.assertRegex(episode["summary"], r"WAN (RTT|RTT jitter|loss) ")

    def test_a_slow_router_is_placed_at_the_router(self):
        self.learn_a_quiet_router()
        t = self.topo
        d = self.probing_daemon(f"wan:{WAN_IP}", f"lan:{LAN_IP}")
        time.sleep(5)
        self.disturb_wan()
        # The router's own LAN-side answers delayed as well: the router answers the LAN client's
        # echo requests itself, late, and drops a share.
        t.run(t.lan, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1")
        responder = t.spawn(t.lan, SYSTEM_PYTHON, os.path.join(HERE, "echo_responder.py"), "150",
                            stdout=subprocess.PIPE)
        self.assertEqual(responder.stdout.readline().strip(), "listening")
        self.where_of_episodes(d, "router")


if __name__ == "__main__":
    unittest.main(verbosity=2)
