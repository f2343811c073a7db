"""ctmon sample against the real kernel: real rules, real traffic through and to a router.

Each scenario sends traffic whose conntrack states are known exactly and checks that the
counters moved by exactly that much, in the hook the traffic implies, and that ctmon reads
the same values as `nft -j list counters`.
"""
import unittest

from netns import (LAN_IP, ROUTER_LAN_IP, WAN_IP, Topology, ctmon_binary, ctmon_counters)

ZERO = (0, 0)


class SampleAgainstKernel(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.topo = t = Topology().__enter__()
        cls.addClassCleanup(t.__exit__, None, None, None)
        t.run(t.router, ctmon_binary(), "rules", "install")
        t.serve(t.wan, "tcp", 8080)
        t.serve(t.wan, "udp", 5353)
        t.serve(t.router, "tcp", 8081)
        t.serve(t.router, "udp", 5354)
        # The WAN host must not answer the invalid probes: its RSTs would be invalid too.
        t.run(t.wan, "nft", "add table ip guard; "
              "add chain ip guard in { type filter hook input priority 0; policy accept; }; "
              "add rule ip guard in tcp dport 9 drop; add rule ip guard in udp dport 9 drop")

    def moved(self, action):
        """Runs `action` and returns {counter: packets moved}, read by ctmon before and after."""
        before = ctmon_counters(self.topo, self.topo.router)
        action()
        after = ctmon_counters(self.topo, self.topo.router)
        self.assertEqual(set(before), set(after))
        return {name: after[name][0] - before[name][0] for name in after}

    def assert_only(self, moved, expected_exact, expected_positive=()):
        for name, delta in moved.items():
            with self.subTest(counter=name):
                if name in expected_exact:
                    self.assertEqual(delta, expected_exact[name])
                elif name in expected_positive:
                    self.assertGreater(delta, 0)
                else:
                    self.assertEqual(delta, 0, "moved without traffic for it")

    def test_ctmon_reads_exactly_what_nft_lists(self):
        t = self.topo
        t.traffic(t.lan, "tcp", WAN_IP, "8080", "3")
        t.traffic(t.lan, "udp", ROUTER_LAN_IP, "5354", "2")
        ours = ctmon_counters(t, t.router)
        theirs = t.nft_counters(t.router)
        self.assertEqual(len(ours), 18)
        self.assertEqual(ours, theirs)
        self.assertNotEqual(ours["tcp_conntrack_fwd_established"], ZERO)

    def test_forwarded_tcp_connections_count_one_new_each_in_forward(self):
        moved = self.moved(lambda: self.topo.traffic(self.topo.lan, "tcp", WAN_IP, "8080", "5"))
        self.assert_only(moved, {"tcp_conntrack_fwd_new": 5},
                         expected_positive={"tcp_conntrack_fwd_established"})
        # SYN-ACK, ACK, data, echo, FINs: at least 4 established packets per connection
        self.assertGreaterEqual(moved["tcp_conntrack_fwd_established"], 20)

    def test_tcp_to_the_router_counts_in_input_and_its_answers_in_output(self):
        moved = self.moved(
            lambda: self.topo.traffic(self.topo.lan, "tcp", ROUTER_LAN_IP, "8081", "3"))
        self.assert_only(moved, {"tcp_conntrack_input_new": 3},
                         expected_positive={"tcp_conntrack_input_established",
                                            "tcp_conntrack_output_established"})

    def test_tcp_from_the_router_counts_new_in_output(self):
        moved = self.moved(lambda: self.topo.traffic(self.topo.router, "tcp", WAN_IP, "8080", "2"))
        self.assert_only(moved, {"tcp_conntrack_output_new": 2},
                         expected_positive={"tcp_conntrack_output_established",
                                            "tcp_conntrack_input_established"})

    def test_a_forwarded_udp_flow_is_new_once_then_established_both_ways(self):
        moved = self.moved(lambda: self.topo.traffic(self.topo.lan, "udp", WAN_IP, "5353", "4"))
        # request 1 is new; its echo and every later request and echo are established
        self.assert_only(moved, {"udp_conntrack_fwd_new": 1, "udp_conntrack_fwd_established": 7})

    def test_udp_to_the_router_counts_requests_in_input_and_echoes_in_output(self):
        moved = self.moved(
            lambda: self.topo.traffic(self.topo.lan, "udp", ROUTER_LAN_IP, "5354", "4"))
        self.assert_only(moved, {"udp_conntrack_input_new": 1,
                                 "udp_conntrack_input_established": 3,
                                 "udp_conntrack_output_established": 4})

    def test_tcp_segments_with_syn_and_fin_count_as_invalid_in_forward(self):
        moved = self.moved(
            lambda: self.topo.traffic(self.topo.lan, "invalid-tcp", WAN_IP, "9", "7"))
        self.assert_only(moved, {"tcp_conntrack_fwd_invalid": 7})

    def test_udp_datagrams_with_a_bad_checksum_count_as_invalid_in_forward(self):
        moved = self.moved(
            lambda: self.topo.traffic(self.topo.lan, "invalid-udp", WAN_IP, "9", "5"))
        self.assert_only(moved, {"udp_conntrack_fwd_invalid": 5})


if __name__ == "__main__":
    unittest.main(verbosity=2)
