"""Every way the kernel side can be wrong gets one clear line and a non-zero exit."""
import os
import unittest

from netns import NetnsTestCase, ctmon_binary, ctmon_counters, sh

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class KernelSideErrors(NetnsTestCase):
    def setUp(self):
        super().setUp()
        self.ns = self.topo.router

    def ctmon(self, *args, check_rc=None):
        proc = self.topo.run(self.ns, ctmon_binary(), *args, check=False)
        if check_rc is not None:
            self.assertEqual(proc.returncode, check_rc, proc.stderr + proc.stdout)
        return proc

    def assert_fails_with(self, args, *fragments):
        proc = self.ctmon(*args)
        self.assertNotEqual(proc.returncode, 0, proc.stdout)
        self.assertEqual(proc.stderr.count("\n"), 1, f"not one line: {proc.stderr!r}")
        for fragment in fragments:
            self.assertIn(fragment, proc.stderr)

    def test_a_missing_table_names_the_command_that_creates_it(self):
        self.assert_fails_with(["sample"], "table ip conntrack_stats does not exist",
                               "create it with 'ctmon rules install'")

    def test_the_wrong_family_suggests_the_family_that_has_the_table(self):
        self.ctmon("rules", "install", check_rc=0)
        self.assert_fails_with(["sample", "--table", "inet:conntrack_stats"],
                               "table inet conntrack_stats does not exist",
                               "did you mean --table ip:conntrack_stats?")

    def test_a_table_without_counters_says_so(self):
        self.topo.run(self.ns, "nft", "add table ip empty")
        self.assert_fails_with(["sample", "--table", "ip:empty"],
                               "table ip empty has no named counters")

    def test_objects_that_are_not_counters_are_left_out(self):
        self.ctmon("rules", "install", check_rc=0)
        self.topo.run(self.ns, "nft", "add quota ip conntrack_stats not_a_counter { 25 mbytes }")
        counters = ctmon_counters(self.topo, self.ns)
        self.assertEqual(len(counters), 18)
        self.assertNotIn("not_a_counter", counters)
        self.assert_fails_with(["sample", "--counter", "not_a_counter"],
                               "has no counter named 'not_a_counter'")

    def test_a_flushed_ruleset_reads_as_a_missing_table(self):
        self.ctmon("rules", "install", check_rc=0)
        self.topo.run(self.ns, "nft", "flush ruleset")
        self.assert_fails_with(["sample"], "does not exist")

    def test_without_cap_net_admin_the_error_says_how_to_grant_it(self):
        proc = self.topo.run(self.ns, "setpriv", "--reuid=65534", "--regid=65534",
                             "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
                             ctmon_binary(), "sample", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("needs CAP_NET_ADMIN", proc.stderr)
        self.assertIn("setcap cap_net_admin+ep", proc.stderr)

    def test_an_unknown_family_and_an_unknown_flag_are_refused(self):
        self.assert_fails_with(["sample", "--table", "ipv4:x"], "unknown family 'ipv4'")
        proc = self.ctmon("sample", "--bogus")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("--bogus", proc.stderr)

    def test_install_is_idempotent_and_keeps_the_counters_values(self):
        self.ctmon("rules", "install", check_rc=0)
        self.topo.serve(self.ns, "udp", 7000)
        self.topo.traffic(self.ns, "udp", "127.0.0.1", "7000", "3")
        before = ctmon_counters(self.topo, self.ns)
        self.assertEqual(before["udp_conntrack_output_new"][0], 1)
        self.ctmon("rules", "install", check_rc=0)
        self.assertEqual(ctmon_counters(self.topo, self.ns), before)
        self.assertEqual(self.ctmon("rules", "check", check_rc=0).stdout.strip(),
                         "table ip conntrack_stats: all 18 counters and 3 chains present")

    def test_check_names_what_is_missing_and_install_repairs_it(self):
        self.ctmon("rules", "install", check_rc=0)
        self.topo.run(self.ns, "nft", "flush chain ip conntrack_stats input_counter; "
                      "delete counter ip conntrack_stats tcp_conntrack_input_new; "
                      "delete chain ip conntrack_stats output_counter; "
                      "add chain ip conntrack_stats mine")
        proc = self.ctmon("rules", "check", check_rc=1)
        self.assertIn("missing counters: tcp_conntrack_input_new", proc.stdout)
        self.assertIn("missing chains: output_counter", proc.stdout)
        self.assertIn("chain input_counter: 0 rules, expected 6", proc.stdout)
        self.assertIn("extra chains: mine", proc.stdout)
        self.assertIn("differs from the rule file", proc.stderr)
        # `mine` is the user's own chain: install would flush it, so only --force goes ahead,
        # and then flushes it but leaves it there
        self.assert_fails_with(["rules", "install"], "is not ctmon's: it holds chain mine")
        self.ctmon("rules", "install", "--force", check_rc=0)
        self.assertIn("extra chains: mine", self.ctmon("rules", "check", check_rc=0).stdout)

    def test_the_inet_rules_install_and_read_like_the_ip_ones(self):
        self.ctmon("rules", "install", "--table", "inet:conntrack_stats", check_rc=0)
        self.assertEqual(len(ctmon_counters(self.topo, self.ns, "--table",
                                            "inet:conntrack_stats")), 18)
        self.assertEqual(
            ctmon_counters(self.topo, self.ns, "--table", "inet:conntrack_stats"),
            self.topo.nft_counters(self.ns, "inet conntrack_stats"))

    def test_remove_deletes_the_table_and_says_when_there_was_none(self):
        self.ctmon("rules", "install", check_rc=0)
        self.assertIn("removed", self.ctmon("rules", "remove", check_rc=0).stdout)
        self.assertIn("nothing to remove", self.ctmon("rules", "remove", check_rc=0).stdout)
        self.assert_fails_with(["sample"], "does not exist")

    def test_rules_print_is_the_rule_file_itself(self):
        with open(os.path.join(REPO, "rules", "conntrack-counter.nft")) as f:
            self.assertEqual(self.ctmon("rules", "print", check_rc=0).stdout, f.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
