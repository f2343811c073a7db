// The events table: one line per episode that fits the terminal.
#include <cstdlib>
#include <ctime>
#include <string>

#include <catch2/catch.hpp>

#include "monitor/cli/event_table.h"

namespace {

constexpr std::int64_t kS = 1'000'000'000;

struct UtcTime {
  UtcTime() {
    setenv("TZ", "UTC0", 1);
    tzset();
  }
};

ctmon::store::EventRecord burst() {
  ctmon::store::EventRecord r;
  r.id = 7;
  r.start_wall_ns = 1795135800LL * kS;  // 2026-11-20T00:50:00Z
  r.end_wall_ns = r.start_wall_ns + 87 * kS;
  r.peak_score = 0.9998;
  r.kind = "invalid_burst";
  r.where = "lan_device";
  r.summary = "Invalid-packet burst: tcp_conntrack_fwd_invalid rose from about 0 to 34 pps, peak 9 s in.";
  r.evidence_json =
      R"([{"baseline_pps":0.06,"direction":"up","name":"tcp_conntrack_fwd_invalid","peak_pps":34.0,)"
      R"("peak_score":1.0,"peak_ts":1795135839.0},{"baseline_pps":120.0,"direction":"down",)"
      R"("name":"tcp_conntrack_fwd_established","peak_pps":30.0,"peak_score":0.8,"peak_ts":1795135840.5}])";
  r.detectors = "point,cusum";
  return r;
}

}  // namespace

using namespace ctmon::cli;

TEST_CASE("ratios read as a person says them, and only where the usual rate allows one") {
  ctmon::events::Evidence e;
  e.baseline_pps = 0.06;
  e.peak_pps = 34;
  CHECK(format_ratio(e) == "from ~0");  // not "567x": 0.06 pps is a near-zero estimate
  CHECK(format_change(e) == "~0.06 to 34 pps");
  e.baseline_pps = 0.01;
  CHECK(format_change(e) == "~0 to 34 pps");
  e.baseline_pps = 2.0;
  e.peak_pps = 5.0;
  CHECK(format_ratio(e) == "2.5x");
  CHECK(format_change(e) == "2.5x to 5.0 pps");
  e.baseline_pps = 5.3;
  e.peak_pps = 256;
  CHECK(format_ratio(e) == "48x");
  e.down = true;
  e.baseline_pps = 480;
  e.peak_pps = 96;
  CHECK(format_ratio(e) == "-80%");
  CHECK(format_change(e) == "-80% to 96 pps");
}

TEST_CASE("counter names lose the conntrack noise") {
  CHECK(counter_label("tcp_conntrack_fwd_invalid") == "tcp fwd invalid");
  CHECK(counter_label("my_counter") == "my_counter");
}

TEST_CASE("probe and conntrack evidence reads in its unit, with the side it was measured on") {
  ctmon::events::Evidence e;
  e.name = "probe_wan_jitter_us";
  e.baseline_pps = 4'000;
  e.peak_pps = 85'000;
  CHECK(counter_label(e.name) + " " + format_change(e) == "WAN jitter 4.0 ms to 85 ms");
  e.name = "probe_lan_loss";
  e.baseline_pps = 0;
  e.peak_pps = 0.3;
  CHECK(counter_label(e.name) + " " + format_change(e) == "LAN loss 0 % to 30 %");
}

TEST_CASE("an episode line has id, local start, duration, kind, where, score, top counters and summary") {
  UtcTime tz;
  Terminal wide{240, false, true};
  CHECK(event_line(burst(), wide) ==
        "   7  11-20 00:50:00  1m27s  invalid_burst   lan_device   1.00  tcp fwd invalid ~0.06 to 34 pps, tcp fwd "
        "established -75% to 30 pps  Invalid-packet burst: tcp_conntrack_fwd_invalid rose from about 0 to 34 pps, "
        "peak 9 s in.");
  Terminal narrow{80, false, false};
  const std::string line = event_line(burst(), narrow);
  CHECK(line.size() == 80);
  CHECK(line.substr(77) == "...");
}

TEST_CASE("an open episode says so, and colour marks the score only on request") {
  UtcTime tz;
  auto r = burst();
  r.end_wall_ns.reset();
  const std::string plain = event_line(r, Terminal{200, false, true});
  CHECK(plain.find("   open  invalid_burst") != std::string::npos);
  CHECK(plain.find('\x1b') == std::string::npos);
  const std::string coloured = event_line(r, Terminal{200, true, true});
  CHECK(coloured.find("\x1b[1;31m 1.00\x1b[0m") != std::string::npos);
  CHECK(display_width(coloured) == display_width(plain));
}
