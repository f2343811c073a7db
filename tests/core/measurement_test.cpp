#include "core/measurement.h"

#include <catch2/catch.hpp>

using namespace ctmon;

TEST_CASE("probe counter names round-trip through their parts") {
  for (const ProbeSide side : {ProbeSide::wan, ProbeSide::lan})
    for (const char* target : {"", "google", "nas2"})
      for (const char* metric : {"rtt_min_us", "rtt_median_us", "rtt_max_us", "jitter_us", "loss"}) {
        const std::string name = probe_counter_name(side, target, metric);
        const auto parsed = parse_probe_counter_name(name);
        REQUIRE(parsed);
        CHECK(parsed->side == side);
        CHECK(parsed->target == target);
        CHECK(parsed->metric == metric);
      }
  CHECK(probe_counter_name(ProbeSide::wan, "", "jitter_us") == "probe_wan_jitter_us");
  CHECK(probe_counter_name(ProbeSide::lan, "nas", "loss") == "probe_lan_nas_loss");
}

TEST_CASE("names outside the probe scheme are not probes") {
  for (const char* name : {"probe_wan", "probe_dmz_loss", "probe_wan_gloss", "probe_wan_Big_loss",
                           "probe_wan_a_b_loss", "probe_wan_sixteencharsxxxx_loss", "xprobe_wan_loss",
                           "tcp_conntrack_fwd_new", "probe__loss", "probe_wan__loss"})
    CHECK_FALSE(parse_probe_counter_name(name));
}

TEST_CASE("the name says whether a counter is a rate or a mean, and its unit") {
  CHECK(counter_meaning("tcp_conntrack_fwd_new") == CounterMeaning::rate);
  CHECK(counter_meaning("conntrack_stat_drop") == CounterMeaning::rate);
  CHECK(counter_meaning("conntrack_entries") == CounterMeaning::mean);
  CHECK(counter_meaning("conntrack_limit") == CounterMeaning::mean);
  CHECK(counter_meaning("probe_wan_rtt_median_us") == CounterMeaning::mean);
  CHECK(measure_unit("probe_lan_jitter_us") == MeasureUnit::microseconds);
  CHECK(measure_unit("probe_wan_google_loss") == MeasureUnit::fraction);
  CHECK(measure_unit("conntrack_entries") == MeasureUnit::entries);
  CHECK(measure_unit("udp_conntrack_fwd_new") == MeasureUnit::packets_per_s);
}

TEST_CASE("target names are short lowercase words") {
  CHECK(valid_probe_target_name("google"));
  CHECK(valid_probe_target_name("nas2"));
  CHECK_FALSE(valid_probe_target_name(""));
  CHECK_FALSE(valid_probe_target_name("Google"));
  CHECK_FALSE(valid_probe_target_name("my_nas"));
  CHECK_FALSE(valid_probe_target_name("a;rm -rf"));
  CHECK_FALSE(valid_probe_target_name("abcdefghijklmnop"));
}

TEST_CASE("measurements have one label and one format everywhere") {
  CHECK(measurement_label("probe_wan_jitter_us") == "WAN jitter");
  CHECK(measurement_label("probe_lan_nas_rtt_median_us") == "LAN nas RTT");
  CHECK(measurement_label("probe_wan_google_loss") == "WAN google loss");
  CHECK(measurement_label("conntrack_entries") == "conntrack entries");
  CHECK(measurement_label("conntrack_stat_early_drop") == "conntrack early drop");
  CHECK_FALSE(measurement_label("tcp_conntrack_fwd_new"));
  CHECK(format_measurement(MeasureUnit::microseconds, 85'000) == "85 ms");
  CHECK(format_measurement(MeasureUnit::microseconds, 4'200) == "4.2 ms");
  CHECK(format_measurement(MeasureUnit::microseconds, 350) == "0.35 ms");
  CHECK(format_measurement(MeasureUnit::fraction, 0.3) == "30 %");
  CHECK(format_measurement(MeasureUnit::fraction, 0.025) == "2.5 %");
  CHECK(format_measurement(MeasureUnit::fraction, 0) == "0 %");
  CHECK(format_measurement(MeasureUnit::entries, 60300) == "60300 entries");
  CHECK(format_measurement(MeasureUnit::packets_per_s, 12) == "12/s");
}
