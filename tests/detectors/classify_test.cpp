#include <catch2/catch.hpp>

#include "detectors/classify.h"

namespace ctmon {
namespace {

MovedCounter moved(const char* name, double z, double peak = 100, double base = 10) {
  MovedCounter m;
  m.name = name;
  m.peak_z = z;
  m.peak_score = 0.9;
  m.peak_pps = peak;
  m.baseline_pps = base;
  return m;
}

Episode with(std::vector<MovedCounter> counters) {
  Episode e;
  e.counters = std::move(counters);
  return e;
}

}  // namespace

TEST_CASE("forward established falling while new rises is a WAN drop") {
  const Episode e = with({moved("tcp_conntrack_fwd_established", -9, 20, 500), moved("tcp_conntrack_fwd_new", 7)});
  CHECK(classify_episode(e) == EpisodeKind::wan_drop);
}

TEST_CASE("invalid counters rising alone are an invalid burst") {
  CHECK(classify_episode(with({moved("tcp_conntrack_fwd_invalid", 8), moved("tcp_conntrack_input_invalid", 6)})) ==
        EpisodeKind::invalid_burst);
}

TEST_CASE("tcp new connections at the router itself are a scan") {
  CHECK(classify_episode(with({moved("tcp_conntrack_input_new", 9), moved("tcp_conntrack_input_invalid", 4)})) ==
        EpisodeKind::scan);
}

TEST_CASE("udp new and established rising are a UDP storm") {
  CHECK(classify_episode(with({moved("udp_conntrack_fwd_new", 9), moved("udp_conntrack_fwd_established", 6)})) ==
        EpisodeKind::udp_storm);
}

TEST_CASE("new connections rising on tcp and udp together are a filling conntrack table") {
  CHECK(classify_episode(with({moved("tcp_conntrack_fwd_new", 9), moved("udp_conntrack_fwd_new", 8)})) ==
        EpisodeKind::conntrack_full);
}

TEST_CASE("names outside the scheme are unknown and the summary still reads as a sentence") {
  Episode e = with({moved("value", 9, 181.5, 20)});
  e.kind = classify_episode(e);
  CHECK(e.kind == EpisodeKind::unknown);
  CHECK(summarize_episode(e) == "Unusual traffic: value rose to 182 (usually 20).");
}

TEST_CASE("the summary states the evidence with rates, usual rates and ratios") {
  Episode e = with({moved("tcp_conntrack_fwd_established", -9, 12, 480), moved("tcp_conntrack_fwd_new", 7, 95, 20)});
  e.kind = classify_episode(e);
  CHECK(summarize_episode(e) ==
        "WAN drop: tcp_conntrack_fwd_established fell 98 % (from 480 to 12 pps); tcp_conntrack_fwd_new rose 4.8x "
        "(from 20 to 95 pps).");
  CHECK(to_string(e.kind) == "wan_drop");
}

TEST_CASE("no ratio from a usual rate near zero, and the time of the peak is stated") {
  Episode e = with({moved("tcp_conntrack_fwd_invalid", 9, 180, 0.008)});
  e.start_wall_ns = 1'000'000'000'000;
  e.counters[0].peak_wall_ns = e.start_wall_ns + 12'000'000'000;
  e.kind = classify_episode(e);
  CHECK(e.kind == EpisodeKind::invalid_burst);
  CHECK(summarize_episode(e) == "Invalid-packet burst: tcp_conntrack_fwd_invalid rose from about 0 to 180 pps, peak 12 s in.");
}

TEST_CASE("a rise from a real usual rate is a ratio") {
  const Episode e = with({moved("udp_conntrack_fwd_new", 9, 256, 5.3)});
  CHECK(describe_change(e.counters[0], 0) == "udp_conntrack_fwd_new rose 48x (from 5.3 to 256 pps)");
}

TEST_CASE("a multivariate-only episode names the counters that drove it, and the rules read them") {
  Episode e = with({moved("tcp_conntrack_fwd_new", 3.2, 40, 20), moved("tcp_conntrack_fwd_established", -2.6, 300, 480)});
  for (auto& c : e.counters) {
    c.multivariate_driver = true;
    c.peak_score = 0.1;
  }
  e.kind = classify_episode(e);
  CHECK(summarize_episode(e) ==
        "WAN drop: the combined pattern was unusual, driven by tcp_conntrack_fwd_new (+3.2 sd), "
        "tcp_conntrack_fwd_established (-2.6 sd).");
}

TEST_CASE("forwarded established traffic falling alone is a WAN drop: the outage before any retry") {
  CHECK(classify_episode(with({moved("tcp_conntrack_fwd_established", -8, 20, 500),
                               moved("udp_conntrack_fwd_established", -7, 10, 90)})) == EpisodeKind::wan_drop);
}

TEST_CASE("each rule needs its own evidence: unknown when none holds") {
  CHECK(classify_episode(with({})) == EpisodeKind::unknown);
  // tcp new rising forward: not a scan (not at the router), not udp, not invalid.
  CHECK(classify_episode(with({moved("tcp_conntrack_fwd_new", 8)})) == EpisodeKind::unknown);
  // The router's own established traffic falling: nothing says the WAN went away.
  CHECK(classify_episode(with({moved("tcp_conntrack_input_established", -8, 20, 500)})) == EpisodeKind::unknown);
  // invalid rising while established fell somewhere other than forward: not a clean burst.
  CHECK(classify_episode(with({moved("tcp_conntrack_input_invalid", 8), moved("tcp_conntrack_input_established", -6)})) ==
        EpisodeKind::unknown);
}

TEST_CASE("rules are tried in the documented order") {
  // wan_drop before conntrack_full: established forward falling decides.
  CHECK(classify_episode(with({moved("tcp_conntrack_fwd_established", -9, 20, 500), moved("tcp_conntrack_fwd_new", 7),
                               moved("udp_conntrack_fwd_new", 7)})) == EpisodeKind::wan_drop);
  // udp_storm needs udp to weigh at least as much as tcp.
  Episode e = with({moved("tcp_conntrack_input_new", 9), moved("udp_conntrack_input_established", 4)});
  e.counters[1].peak_score = 0.5;
  CHECK(classify_episode(e) == EpisodeKind::scan);
}

}  // namespace ctmon
