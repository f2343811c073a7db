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

TEST_CASE("the router's answers to a scan do not outweigh it") {
  // A SYN scan of the router: its RSTs and SYN-ACKs raise output established as much as the SYNs
  // raise input new, and weighed with them the SYNs were only half of the tcp rise.
  Episode e = with({moved("tcp_conntrack_output_established", 9), moved("tcp_conntrack_input_new", 9)});
  e.counters[1].peak_score = 0.89;
  CHECK(classify_episode(e) == EpisodeKind::scan);
  // Forwarded tcp rising more than the router's own new connections is still no scan.
  CHECK(classify_episode(with({moved("tcp_conntrack_input_new", 9), moved("tcp_conntrack_fwd_new", 9),
                               moved("tcp_conntrack_fwd_established", 9)})) == EpisodeKind::unknown);
}

TEST_CASE("a scan's invalid probes are part of the scan, not an invalid burst") {
  // An ACK or FIN scan raises input invalid more than its SYNs raise input new.
  Episode e = with({moved("tcp_conntrack_input_invalid", 9), moved("tcp_conntrack_input_new", 5)});
  e.counters[1].peak_score = 0.5;
  CHECK(classify_episode(e) == EpisodeKind::scan);
  // Forwarded invalid outweighing the router's new connections: an invalid burst.
  e.counters.push_back(moved("tcp_conntrack_fwd_invalid", 9));
  CHECK(classify_episode(e) == EpisodeKind::invalid_burst);
}

TEST_CASE("udp moving by chance during a scan of the router is no table filling") {
  Episode e = with({moved("tcp_conntrack_input_new", 9), moved("tcp_conntrack_input_invalid", 6),
                    moved("udp_conntrack_fwd_new", 4)});
  e.counters[2].peak_score = 0.4;
  CHECK(classify_episode(e) == EpisodeKind::scan);
  // As heavy as the tcp rise, udp is more than chance.
  e.counters[2].peak_score = 1.8;
  CHECK(classify_episode(e) == EpisodeKind::conntrack_full);
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

TEST_CASE("a peak time from a corrupt state, far from the start, is left out rather than overflowing") {
  Episode e = with({moved("tcp_conntrack_fwd_invalid", 9, 180, 0.008)});
  e.start_wall_ns = -7'428'367'636'854'678'536;
  e.counters[0].peak_wall_ns = 1'795'004'400'000'097'272;
  CHECK_THAT(describe_change(e.counters[0], e.start_wall_ns), Catch::EndsWith("s in"));
  e.start_wall_ns = 1'795'004'400'000'097'272;
  e.counters[0].peak_wall_ns = -7'428'367'636'854'678'536;
  CHECK_THAT(describe_change(e.counters[0], e.start_wall_ns), !Catch::Contains(" in"));
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

namespace ctmon {
namespace {

MovedCounter measured(const char* name, double peak, double base, double score = 0.9) {
  MovedCounter m;
  m.name = name;
  m.peak_z = peak >= base ? 8 : -8;
  m.peak_score = score;
  m.peak_pps = peak;
  m.baseline_pps = base;
  return m;
}

Episode probed(bool wan_up, bool lan_up, std::vector<MovedCounter> counters = {}) {
  Episode e;
  e.counters = std::move(counters);
  e.health.wan_probed = e.health.lan_probed = true;
  e.health.wan_up = wan_up;
  e.health.lan_up = lan_up;
  return e;
}

Episode classified(Episode e) {
  e.kind = classify_episode(e);
  e.where = classify_where(e);
  e.summary = summarize_episode(e);
  return e;
}

}  // namespace

TEST_CASE("kind 1: a table at least 90 % full is a measured conntrack_full, before wan_drop") {
  Episode e = with({moved("tcp_conntrack_fwd_established", -9, 20, 500), moved("tcp_conntrack_fwd_new", 7)});
  e.health.conntrack_read = true;
  e.health.fill_entries = 58'983;
  e.health.fill_limit = 65'536;  // 90.0 %
  CHECK(classify_episode(e) == EpisodeKind::conntrack_full);
  e.health.fill_entries = 58'900;  // 89.9 %: the counters decide again
  CHECK(classify_episode(e) == EpisodeKind::wan_drop);
}

TEST_CASE("kind 1: a drop statistic that moved up is a measured conntrack_full") {
  Episode e = with({measured("conntrack_stat_drop", 12, 0)});
  e.health.conntrack_read = e.health.drops_up = true;
  CHECK(classify_episode(e) == EpisodeKind::conntrack_full);
}

TEST_CASE("kind 4: tcp and udp new rising is a guessed conntrack_full only without health counters") {
  Episode e = with({moved("tcp_conntrack_fwd_new", 9), moved("udp_conntrack_fwd_new", 8)});
  CHECK(classify_episode(e) == EpisodeKind::conntrack_full);
  e.health.conntrack_read = true;  // the table was read and was neither full nor dropping
  CHECK(classify_episode(e) == EpisodeKind::udp_storm);
}

TEST_CASE("probe counters alone leave the kind unknown") {
  CHECK(classify_episode(probed(true, false, {measured("probe_wan_jitter_us", 85'000, 4'000)})) ==
        EpisodeKind::unknown);
}

TEST_CASE("kind 2: the WAN probe losing packets while the LAN probe does not is a WAN drop") {
  CHECK(classify_episode(probed(true, false, {measured("probe_wan_loss", 0.4, 0.0)})) == EpisodeKind::wan_drop);
  CHECK(classify_episode(probed(true, false, {measured("probe_wan_isp_loss", 0.4, 0.0)})) == EpisodeKind::wan_drop);
  CHECK(classify_episode(probed(false, true, {measured("probe_lan_nas_loss", 0.4, 0.0)})) == EpisodeKind::unknown);
  // Both sides losing: the router or the link to the LAN, not the WAN.
  CHECK(classify_episode(probed(true, true, {measured("probe_wan_loss", 0.4, 0.0), measured("probe_lan_loss", 0.4, 0.0)})) ==
        EpisodeKind::unknown);
}

TEST_CASE("where 1: router when the table is full, a drop statistic rose, or both sides' probes rose") {
  Episode full;
  full.health.fill_entries = 60'300;
  full.health.fill_limit = 65'536;
  CHECK(classify_where(full) == Where::router);
  Episode drops;
  drops.health.drops_up = true;
  CHECK(classify_where(drops) == Where::router);
  CHECK(classify_where(probed(true, true)) == Where::router);
}

TEST_CASE("where 2: isp when a WAN probe rose while a LAN probe was read and stayed calm") {
  CHECK(classify_where(probed(true, false)) == Where::isp);
  Episode no_lan = probed(true, false);
  no_lan.health.lan_probed = false;  // nothing says the router itself is fine
  CHECK(classify_where(no_lan) == Where::unknown);
}

TEST_CASE("where 3: lan_device when a LAN probe rose while a WAN probe stayed calm") {
  CHECK(classify_where(probed(false, true)) == Where::lan_device);
  Episode no_wan = probed(false, true);
  no_wan.health.wan_probed = false;
  CHECK(classify_where(no_wan) == Where::unknown);
}

TEST_CASE("where 4: lan_device when forwarded new or invalid rose while input and every probe stayed calm") {
  CHECK(classify_where(probed(false, false, {moved("udp_conntrack_fwd_new", 9)})) == Where::lan_device);
  CHECK(classify_where(probed(false, false, {moved("tcp_conntrack_fwd_invalid", 9)})) == Where::lan_device);
  // The router's own input moving too: not one device behind it.
  CHECK(classify_where(probed(false, false, {moved("udp_conntrack_fwd_new", 9), moved("tcp_conntrack_input_new", 6)})) ==
        Where::unknown);
  // Established falling is a WAN outage's signature (every client retries).
  CHECK(classify_where(probed(false, false, {moved("tcp_conntrack_fwd_new", 9),
                                             moved("tcp_conntrack_fwd_established", -9, 20, 500)})) == Where::unknown);
  // Without any probe the counters alone cannot tell a LAN device from a lossy WAN.
  CHECK(classify_where(with({moved("udp_conntrack_fwd_new", 9)})) == Where::unknown);
}

TEST_CASE("where 5: unknown when no rule holds") {
  CHECK(classify_where(with({})) == Where::unknown);
  CHECK(classify_where(probed(false, false)) == Where::unknown);
  CHECK(classify_where(with({moved("tcp_conntrack_input_new", 9)})) == Where::unknown);
}

TEST_CASE("the summary states probe evidence in its units and what stayed calm") {
  const Episode e = classified(probed(true, false, {measured("probe_wan_jitter_us", 85'000, 4'000),
                                                    measured("probe_wan_loss", 0.3, 0.0, 0.8),
                                                    moved("tcp_conntrack_fwd_established", -9, 96, 480)}));
  CHECK(e.where == Where::isp);
  CHECK(e.kind == EpisodeKind::wan_drop);  // forwarded traffic fell: the WAN went away
  CHECK(e.summary ==
        "WAN drop: WAN RTT jitter 85 ms vs 4 ms usual, WAN loss 30 % (usually 0 %), LAN calm; "
        "tcp_conntrack_fwd_established fell 80 % (from 480 to 96 pps).");
  // Probes alone explain it: no kind of traffic moved.
  const Episode probes_only = classified(probed(true, false, {measured("probe_wan_jitter_us", 85'000, 4'000)}));
  CHECK(probes_only.summary == "Probes disturbed: WAN RTT jitter 85 ms vs 4 ms usual, LAN calm.");
}

TEST_CASE("the summary states the table's fill and the drops") {
  Episode e = with({measured("conntrack_stat_drop", 12, 0), measured("conntrack_entries", 60'300, 20'000, 0.7),
                    moved("tcp_conntrack_fwd_new", 7, 95, 20)});
  e.health.conntrack_read = e.health.drops_up = true;
  e.health.fill_entries = 60'300;
  e.health.fill_limit = 65'536;
  e = classified(e);
  CHECK(e.kind == EpisodeKind::conntrack_full);
  CHECK(e.where == Where::router);
  CHECK(e.summary ==
        "Conntrack table filling: conntrack drops 12/s, conntrack table 92 % full (60,300 of 65,536); "
        "tcp_conntrack_fwd_new rose 4.8x (from 20 to 95 pps).");
}

TEST_CASE("measurements read in their own units") {
  CHECK(describe_change(measured("probe_lan_nas_rtt_median_us", 2'400, 310), 0) == "LAN nas RTT 2.4 ms vs 0.31 ms usual");
  CHECK(describe_change(measured("conntrack_stat_early_drop", 3, 0.5), 0) == "conntrack early drops 3/s (usually 0.5/s)");
  CHECK(describe_change(measured("conntrack_stat_insert_failed", 0.2, 0), 0) == "conntrack insert failures 0.2/s");
  CHECK(describe_change(measured("conntrack_entries", 1'234'567, 900), 0) == "conntrack entries 1,234,567 vs 900 usual");
}

TEST_CASE("a LAN device episode says the probes stayed calm") {
  const Episode e = classified(probed(false, false, {moved("udp_conntrack_fwd_new", 9, 256, 5.3)}));
  CHECK(e.where == Where::lan_device);
  CHECK(e.summary == "UDP storm: probes calm; udp_conntrack_fwd_new rose 48x (from 5.3 to 256 pps).");
}

}  // namespace ctmon
