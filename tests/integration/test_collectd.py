"""A real collectd runs `ctmon collectd --loop` in its Exec plugin and records with its csv
plugin; what collectd recorded must be what the kernel counted. The same command must also print
the seed script's PUTVAL lines byte for byte, and with --db turn the episodes recorded in a ctmon
database into collectd notifications, which collectd's logfile plugin writes out."""
import glob
import json
import os
import shutil
import subprocess
import time
import unittest

from netns import HERE, SYSTEM_PYTHON, WAN_IP, NetnsTestCase, ctmon_binary, sh, wait_for

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The hand-rolled collectd Exec script that `ctmon collectd` replaces, kept as it was found.
SEED_SCRIPT = os.path.join(REPO, "tests", "fixtures", "seed-collectd-exec.sh")

def collectd_conf(folder, *exec_args, log_file=None):
    """collectd every 0.5 s, running `<folder>/ctmon collectd --loop <exec_args>` as nobody and
    recording with its csv plugin; with `log_file`, its logfile plugin (which also writes the
    notifications it receives) logs there."""
    logfile = (f'LoadPlugin logfile\n<Plugin logfile>\n  File "{log_file}"\n  LogLevel info\n</Plugin>\n'
               if log_file else "")
    args = "".join(f' "{a}"' for a in ("collectd", "--loop", *exec_args))
    return f"""\
Interval 0.5
Hostname "router-a"
FQDNLookup false
BaseDir "{folder}"
PIDFile "{folder}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
{logfile}LoadPlugin exec
LoadPlugin csv
<Plugin exec>
  Exec "nobody:nogroup" "{folder}/ctmon"{args}
</Plugin>
<Plugin csv>
  DataDir "{folder}/csv"
  StoreRates false
</Plugin>
"""


class CollectdExec(NetnsTestCase):
    def setUp(self):
        super().setUp()
        os.chmod(self.dir, 0o755)  # collectd runs the program as nobody
        self.topo.run(self.topo.router, ctmon_binary(), "rules", "install")

    def test_collectd_records_what_the_kernel_counted(self):
        t = self.topo
        # The documented way to run without sudo: the binary carries CAP_NET_ADMIN itself.
        binary = os.path.join(self.dir, "ctmon")
        shutil.copy(ctmon_binary(), binary)
        sh("setcap", "cap_net_admin+ep", binary)
        with open(os.path.join(self.dir, "collectd.conf"), "w") as f:
            f.write(collectd_conf(self.dir))
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

    def as_nobody(self, *cmd):
        """Runs `cmd` as the user collectd gives its Exec programs, so the database is theirs."""
        return sh("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cmd)

    def test_episodes_in_the_database_become_collectd_notifications(self):
        t = self.topo
        binary = os.path.join(self.dir, "ctmon")
        shutil.copy(ctmon_binary(), binary)
        sh("setcap", "cap_net_admin+ep", binary)
        db_dir = os.path.join(self.dir, "db")
        os.mkdir(db_dir)
        shutil.chown(db_dir, "nobody", "nogroup")
        db = os.path.join(db_dir, "ctmon.db")
        # A database that already holds an episode: history, which must not be announced.
        old = os.path.join(self.dir, "old.csv")
        sh(SYSTEM_PYTHON, os.path.join(HERE, "make_scenario.py"), old, "--hours", "0.5", "--scale", "0.01",
           "--episode", "1500:40:scan")
        self.as_nobody(ctmon_binary(), "replay", "--input", old, "--db", db)
        with open(os.path.join(self.dir, "collectd.conf"), "w") as f:
            f.write(collectd_conf(self.dir, "--db", db, log_file=os.path.join(self.dir, "notifications.log")))
        log = open(os.path.join(self.dir, "collectd.out"), "w")
        self.addCleanup(log.close)
        t.spawn(t.router, "collectd", "-f", "-C", os.path.join(self.dir, "collectd.conf"),
                stdout=log, stderr=subprocess.STDOUT)
        notes = os.path.join(self.dir, "notifications.log")

        def notifications():
            try:
                with open(notes) as f:
                    return [line for line in f if "Notification:" in line]
            except FileNotFoundError:
                return []

        # PUTVAL arriving means the loop runs, and has read the database once.
        wait_for(lambda: glob.glob(os.path.join(self.dir, "csv", "router-a", "nftables-conntrack_stats",
                                                "packets-*")), 15, "collectd to record the counters")
        time.sleep(1.5)  # three more intervals: nothing to announce yet
        self.assertEqual(notifications(), [], "an episode recorded before the start was announced")

        # The daemon's pipeline (replay) records a new episode: began and ended, both announced.
        new = os.path.join(self.dir, "new.csv")
        sh(SYSTEM_PYTHON, os.path.join(HERE, "make_scenario.py"), new, "--hours", "0.5", "--scale", "0.01",
           "--seed", "2", "--episode", "1500:40:udp_storm")
        self.as_nobody(ctmon_binary(), "replay", "--input", new, "--db", db)
        events = [json.loads(line) for line in
                  sh(ctmon_binary(), "events", "--db", db, "--json", "--since", "2000-01-01").stdout.splitlines()]
        newest = max(events, key=lambda e: e["id"])
        try:
            wait_for(lambda: len(notifications()) >= 2, 10, "two notifications in collectd's log")
        except AssertionError:
            with open(os.path.join(self.dir, "collectd.out")) as f:
                out = f.read()[-2000:]
            with open(notes) as f:
                self.fail(f"events {events}; collectd's log: {f.read()[-3000:]}; its output: {out}")
        began, ended = notifications()[:2]
        self.assertIn("severity = WARNING", began)
        self.assertIn("host = router-a", began)
        self.assertIn("plugin = nftables", began)
        self.assertIn(f"jitter episode {newest['id']} began: {newest['kind']}", began)
        self.assertIn("severity = OKAY", ended)
        self.assertIn(f"jitter episode {newest['id']} ended after", ended)
        time.sleep(1)
        self.assertEqual(len(notifications()), 2 * (len(events) - 1), "each new episode: one beginning, one end")

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
