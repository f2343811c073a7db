"""`ctmon rules install/remove` touch only ctmon's own table, take no command through a table
name, and do not let file capabilities turn any local user into the firewall's editor. Each test
builds a throw-away namespace holding a firewall that is not ctmon's and checks it survives."""
import os
import pwd
import shutil
import subprocess
import tempfile
import unittest

from netns import Topology, ctmon_binary

NOBODY = pwd.getpwnam("nobody")

FOREIGN_INET = """
table inet firewall {
    counter ssh_hits {}
    set blocked { type ipv4_addr; elements = { 192.0.2.7 } }
    chain input {
        type filter hook input priority 0; policy accept;
        ip saddr @blocked drop
        tcp dport 22 counter name "ssh_hits" accept
    }
}
"""
FOREIGN_IP = """
table ip other {
    chain forward {
        type filter hook forward priority 0; policy accept;
        ct state invalid drop
    }
}
"""


class RulesTouchOnlyCtmonsTable(unittest.TestCase):
    def setUp(self):
        self.topo = Topology().__enter__()
        self.addCleanup(self.topo.__exit__, None, None, None)
        self.ns = self.topo.router

    def nft(self, *args, check=True):
        return self.topo.run(self.ns, "nft", *args, check=check)

    def load(self, text):
        self.topo.run(self.ns, "nft", "-f", "-", input=text)

    def ruleset(self):
        return self.nft("list", "ruleset").stdout

    def ctmon(self, *args, rc):
        proc = self.topo.run(self.ns, ctmon_binary(), *args, check=False)
        self.assertEqual(proc.returncode, rc, proc.stderr + proc.stdout)
        if rc != 0:
            self.assertEqual(proc.stderr.count("\n"), 1, f"not one line: {proc.stderr!r}")
            self.assertEqual(proc.stdout, "")
        return proc

    def test_install_refuses_a_foreign_table_and_leaves_it_intact(self):
        self.load(FOREIGN_INET)
        before = self.ruleset()
        proc = self.ctmon("rules", "install", "--table", "inet:firewall", rc=1)
        self.assertIn("table inet firewall is not ctmon's", proc.stderr)
        self.assertIn("chain input", proc.stderr)
        self.assertIn("set blocked", proc.stderr)
        self.assertIn("counter ssh_hits", proc.stderr)
        self.assertIn("--force", proc.stderr)
        self.assertEqual(self.ruleset(), before)

    def test_install_with_force_replaces_a_foreign_tables_rules(self):
        self.load(FOREIGN_INET)
        self.ctmon("rules", "install", "--table", "inet:firewall", "--force", rc=0)
        self.assertNotIn("tcp dport 22", self.ruleset())
        self.ctmon("rules", "check", "--table", "inet:firewall", rc=0)

    def test_remove_refuses_a_foreign_table_and_leaves_it_intact(self):
        self.load(FOREIGN_IP)
        before = self.ruleset()
        proc = self.ctmon("rules", "remove", "--table", "ip:other", rc=1)
        self.assertIn("table ip other is not ctmon's: it holds chain forward", proc.stderr)
        self.assertIn("--force", proc.stderr)
        self.assertEqual(self.ruleset(), before)
        self.ctmon("rules", "remove", "--table", "ip:other", "--force", rc=0)
        self.assertNotIn("table ip other", self.ruleset())

    def test_remove_refuses_an_empty_table_it_did_not_make(self):
        self.nft("add", "table", "ip", "someone")
        proc = self.ctmon("rules", "remove", "--table", "ip:someone", rc=1)
        self.assertIn("none of the rule file's chains or counters", proc.stderr)
        self.assertIn("table ip someone", self.ruleset())

    def test_install_fills_an_empty_table_and_remove_then_deletes_it(self):
        self.nft("add", "table", "ip", "mine")
        self.ctmon("rules", "install", "--table", "ip:mine", rc=0)
        self.ctmon("rules", "check", "--table", "ip:mine", rc=0)
        self.ctmon("rules", "remove", "--table", "ip:mine", rc=0)
        self.assertNotIn("table ip mine", self.ruleset())

    def test_a_chain_added_to_ctmons_table_makes_it_someone_elses(self):
        self.ctmon("rules", "install", rc=0)
        self.nft("add", "chain", "ip", "conntrack_stats", "mine")
        self.nft("add", "rule", "ip", "conntrack_stats", "mine", "tcp", "dport", "22", "accept")
        before = self.ruleset()
        proc = self.ctmon("rules", "install", rc=1)
        self.assertIn("it holds chain mine", proc.stderr)
        self.assertEqual(self.ruleset(), before)
        self.ctmon("rules", "remove", rc=1)
        self.assertEqual(self.ruleset(), before)

    def test_a_table_name_cannot_carry_a_command(self):
        self.load(FOREIGN_INET)
        self.load(FOREIGN_IP)
        before = self.ruleset()
        for hostile in ("ip:z; flush ruleset; table ip z", "ip:z\nflush ruleset",
                        'ip:z" ; flush ruleset ; "', "inet:firewall; delete table ip other"):
            for command in ("install", "remove", "check", "print"):
                with self.subTest(command=command, table=hostile):
                    proc = self.ctmon("rules", command, "--table", hostile, rc=1)
                    self.assertIn("is not allowed", proc.stderr)
                    self.assertIn("only ASCII letters, digits and '_'", proc.stderr)
                    self.assertEqual(self.ruleset(), before)
        proc = self.ctmon("sample", "--table", "ip:z; flush ruleset", rc=1)
        self.assertIn("';' at position 2 of the name is not allowed", proc.stderr)
        self.assertEqual(self.ruleset(), before)


class FileCapabilitiesDoNotChangeTheFirewall(unittest.TestCase):
    """The README's collectd setup: `setcap cap_net_admin+ep` on the binary, run by nobody."""

    def setUp(self):
        self.topo = Topology().__enter__()
        self.addCleanup(self.topo.__exit__, None, None, None)
        self.dir = tempfile.mkdtemp(prefix="ctmon-filecap-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.chmod(self.dir, 0o755)
        self.binary = os.path.join(self.dir, "ctmon")
        shutil.copy(ctmon_binary(), self.binary)
        os.chmod(self.binary, 0o755)
        subprocess.run(["setcap", "cap_net_admin+ep", self.binary], check=True)

    def as_nobody(self, *args):
        # No --no-new-privs: the file capability must take effect at exec, as it does for
        # collectd's Exec plugin.
        return self.topo.run(self.topo.router, "setpriv", f"--reuid={NOBODY.pw_uid}",
                             f"--regid={NOBODY.pw_gid}", "--clear-groups", self.binary, *args,
                             check=False)

    def test_rules_install_and_remove_refuse_while_reading_still_works(self):
        t = self.topo
        t.run(t.router, ctmon_binary(), "rules", "install")
        before = t.run(t.router, "nft", "list", "ruleset").stdout
        sample = self.as_nobody("sample")
        self.assertEqual(sample.returncode, 0, sample.stderr)  # the capability is in effect
        self.assertIn("tcp_conntrack_fwd_new", sample.stdout)
        for command in ("install", "remove"):
            with self.subTest(command=command):
                proc = self.as_nobody("rules", command)
                self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
                self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
                self.assertIn("refusing to change nftables tables", proc.stderr)
                self.assertIn("file capabilities", proc.stderr)
                self.assertIn("run 'ctmon rules' as root", proc.stderr)
        self.assertEqual(t.run(t.router, "nft", "list", "ruleset").stdout, before)
        # check only reads: it stays open to the collectd user
        self.assertEqual(self.as_nobody("rules", "check").returncode, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
