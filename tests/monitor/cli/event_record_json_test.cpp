// `ctmon events --json` (from the stored record) prints what `ctmon replay --json` printed for
// the live episode.
#include <catch2/catch.hpp>

#include "core/episode.h"
#include "monitor/cli/event_record_json.h"
#include "monitor/cli/events_json.h"
#include "monitor/daemon/pipeline.h"

namespace {

constexpr std::int64_t kS = 1'000'000'000;

ctmon::Episode episode(bool open) {
  ctmon::Episode e;
  e.id = 3;
  e.start_wall_ns = 1795135800LL * kS + 123'456'789;
  e.end_wall_ns = e.start_wall_ns + 87'654'321'000LL;
  e.open = open;
  e.peak_score = 0.99979268;
  e.peak_wall_ns = e.start_wall_ns + 39 * kS;
  e.detectors = ctmon::kDetectorPoint | ctmon::kDetectorMultivariate;
  e.kind = ctmon::EpisodeKind::invalid_burst;
  e.summary = "Invalid-packet burst: tcp_conntrack_fwd_invalid rose to 34 pps (usually 0.06 pps).";
  e.counters.push_back({2, "tcp_conntrack_fwd_invalid", 34.0004, 0.0612345, 0.99991, 12.5,
                        e.start_wall_ns + 39 * kS + 7'000'000});
  e.counters.push_back({1, "tcp_conntrack_fwd_established", 30.1, 120.04, 0.8, -4.2,
                        e.start_wall_ns + 41 * kS});
  return e;
}

}  // namespace

TEST_CASE("a stored episode prints the same JSON line as the live one") {
  const bool open = GENERATE(false, true);
  CAPTURE(open);
  const ctmon::Episode live = episode(open);
  const ctmon::store::EventRecord stored = ctmon::to_event_record(live, 3, 0);
  CHECK(ctmon::cli::event_record_json_line(stored) == ctmon::cli::episode_json_line(live));
  const auto j = ctmon::cli::event_record_to_json(stored);
  CHECK(j["end"].is_null() == open);
  CHECK(j["detectors"] == nlohmann::json::array({"point", "multivariate"}));
}

TEST_CASE("scores and rates print like the live episode's, whatever their digits") {
  // Values whose naive rounding shows float noise (0.951 -> 0.9510000000000001).
  const double score = GENERATE(0.951, 0.9510000001, 0.0525, 0.999792682989255, 0.1 + 0.2, 1.0, 0.0);
  CAPTURE(score);
  ctmon::Episode live = episode(false);
  live.peak_score = score;
  live.counters[0].baseline_pps = score;
  CHECK(ctmon::cli::event_record_json_line(ctmon::to_event_record(live, 3, 0)) ==
        ctmon::cli::episode_json_line(live));
}

TEST_CASE("damaged evidence gives an empty counters list, not a crash") {
  ctmon::store::EventRecord r;
  r.evidence_json = "{oops";
  r.detectors = "";
  const auto j = ctmon::cli::event_record_to_json(r);
  CHECK(j["counters"] == nlohmann::json::array());
  CHECK(j["detectors"] == nlohmann::json::array());
}
