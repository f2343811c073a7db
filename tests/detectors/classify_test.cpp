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

TEST_CASE("the summary states the evidence with rates and baselines") {
  Episode e = with({moved("tcp_conntrack_fwd_established", -9, 12, 480), moved("tcp_conntrack_fwd_new", 7, 95, 20)});
  e.kind = classify_episode(e);
  CHECK(summarize_episode(e) ==
        "WAN drop: tcp_conntrack_fwd_established fell to 12 pps (usually 480 pps); tcp_conntrack_fwd_new rose to 95 "
        "pps (usually 20 pps).");
  CHECK(to_string(e.kind) == "wan_drop");
}

}  // namespace ctmon
