"""A real collectd runs `ctmon collectd --loop` in its Exec plugin and records with its csv
plugin; what collectd recorded must be what the kernel counted. The same command must also print
the seed script's PUTVAL lines byte for byte."""
import glob
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from netns import LAN_IP, WAN_IP, Topology, ctmon_binary, sh, wait_for

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The hand-rolled collectd Exec script that `ctmon collectd` replaces, kept as it was found.
SEED_SCRIPT = os.path.join(REPO, "tests", "fixtures", "seed-collectd-exec.sh")

COLLECTD_CONF = """\
Interval 0.5
Hostname "router-a"
FQDNLookup false
BaseDir "{dir}"
PIDFile "{dir}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin exec
LoadPlugin csv
<Plugin exec>
  Exec "nobody:nogroup" "{dir}/ctmon" "collectd" "--loop"
</Plugin>
<Plugin csv>
  DataDir "{dir}/csv"
  StoreRates false
</Plugin>
"""


class CollectdExec(unittest.TestCase):
    def setUp(self):
        self.topo = Topology().__enter__()
        self.addCleanup(self.topo.__exit__, None, None, None)
        self.dir = tempfile.mkdtemp(prefix="ctmon-collectd-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.chmod(self.dir, 0o755)  # collectd runs the program as nobody
        self.topo.run(self.topo.router, ctmon_binary(), "rules", "install")

    def test_collectd_records_what_the_kernel_counted(self):
        t = self.topo
        # The documented way to run without sudo: the binary carries CAP_NET_ADMIN itself.
        binary = os.path.join(self.dir, "ctmon")
        shutil.copy(ctmon_binary(), binary)
        sh("setcap", "cap_net_admin+ep", binary)
        with open(os.path.join(self.dir, "collectd.conf"), "w") as f:
            f.write(COLLECTD_CONF.format(dir=self.dir))
        t.serve(t.wan, "tcp", 8080)
        t.serve(t.wan, "udp", 5353)
        log = open(os.path.join(self.dir, "collectd.log"), "w")
        self.addCleanup(log.close)
        collectd = t.spawn(t.router, "collectd", "-f", "-C", os.path.join(self.dir, "collectd.conf"),
                           stdout=log, stderr=subprocess.STDOUT)

        t.traffic(t.lan, "tcp", WAN_IP, "8080", "4")
        t.traffic(t.lan, "udp", WAN_IP, "5353", "5")
        expected = {name: packets for name, (packets, _) in t.nft_counters(t.router).items()}
        self.assertEqual(expected["tcp_conntrack_fwd_new"], 4)

        csv_dir = os.path.join(self.dir, "csv", "router-a", "nftables-conntrack_stats")

        def recorded():
            values = {}
            for path in glob.glob(os.path.join(csv_dir, "packets-*")):
                name = os.path.basename(path)[len("packets-"):].rsplit("-", 3)[0]
                with open(path) as f:
                    lines = f.read().splitlines()
                if len(lines) > 1:
                    values[name] = int(float(lines[-1].split(",")[1]))
            return values

        def caught_up():
            return recorded() == expected

        try:
            wait_for(caught_up, timeout_s=15, what="collectd's csv to hold the kernel's counts")
        except AssertionError:
            with open(os.path.join(self.dir, "collectd.log")) as f:
                self.fail(f"collectd recorded {recorded()}, kernel counted {expected}; "
                          f"collectd said: {f.read()[-2000:]}")
        self.assertEqual(len(recorded()), 18)

        # Killed, collectd cannot stop its Exec program: ctmon must notice and not run on alone.
        child = subprocess.run(["pgrep", "-P", str(collectd.pid), "-f", "collectd --loop"],
                               capture_output=True, text=True).stdout.split()
        self.assertEqual(len(child), 1, "collectd should run exactly one ctmon collectd --loop")

        def ours_running():
            return os.path.exists(f"/proc/{child[0]}")
        collectd.kill()
        collectd.wait()
        wait_for(lambda: not ours_running(), timeout_s=5, what="the orphaned ctmon collectd --loop to exit")

    def test_the_lines_are_the_seed_scripts_byte_for_byte(self):
        t = self.topo
        t.serve(t.router, "udp", 5354)
        t.traffic(t.lan, "udp", "10.199.1.1", "5354", "3")
        # The seed runs `sudo nft ...`; a sudo that just runs its arguments stands in for it.
        shim = os.path.join(self.dir, "bin")
        os.mkdir(shim)
        with open(os.path.join(shim, "sudo"), "w") as f:
            f.write('#!/bin/sh\nexec "$@"\n')
        os.chmod(os.path.join(shim, "sudo"), 0o755)
        env = dict(os.environ, PATH=f"{shim}:{os.environ['PATH']}",
                   COLLECTD_HOSTNAME="router-a", COLLECTD_INTERVAL="30.000")
        seed = t.run(t.router, "sh", SEED_SCRIPT, env=env).stdout
        ours = t.run(t.router, ctmon_binary(), "collectd", env=env).stdout
        self.assertEqual(ours, seed)
        self.assertEqual(len(ours.splitlines()), 18)
        self.assertIn('PUTVAL "router-a/nftables-conntrack_stats/packets-udp_conntrack_input_new" '
                      'interval=30.000 N:1\n', ours)
        # without collectd's variables both fall back to localhost and 60
        bare = {k: v for k, v in env.items() if not k.startswith("COLLECTD_")}
        self.assertEqual(t.run(t.router, ctmon_binary(), "collectd", env=bare).stdout,
                         t.run(t.router, "sh", SEED_SCRIPT, env=bare).stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
