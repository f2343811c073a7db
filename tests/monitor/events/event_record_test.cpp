// The stored record of an episode: `ctmon events --json` (from the record) prints what
// `ctmon replay --json` printed for the live episode, and its evidence reads back.
#include "monitor/events/event_record.h"

#include <catch2/catch.hpp>

#include "core/episode.h"
#include "monitor/events/events_json.h"

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
  const ctmon::store::EventRecord stored = ctmon::events::to_event_record(live, 3, 0);
  CHECK(ctmon::events::event_record_json_line(stored) == ctmon::events::episode_json_line(live));
  const auto j = ctmon::events::event_record_to_json(stored);
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
  CHECK(ctmon::events::event_record_json_line(ctmon::events::to_event_record(live, 3, 0)) ==
        ctmon::events::episode_json_line(live));
}

TEST_CASE("damaged evidence gives an empty counters list, not a crash") {
  ctmon::store::EventRecord r;
  r.evidence_json = "{oops";
  r.detectors = "";
  const auto j = ctmon::events::event_record_to_json(r);
  CHECK(j["counters"] == nlohmann::json::array());
  CHECK(j["detectors"] == nlohmann::json::array());
}

TEST_CASE("the record keeps the detector names comma-separated and no end while open") {
  const ctmon::store::EventRecord open = ctmon::events::to_event_record(episode(true), 3, 42);
  CHECK(open.detectors == "point,multivariate");
  CHECK_FALSE(open.end_wall_ns.has_value());
  CHECK(open.kind == "invalid_burst");
  CHECK(open.updated_wall_ns == 42);
  const ctmon::store::EventRecord closed = ctmon::events::to_event_record(episode(false), 3, 42);
  CHECK(closed.end_wall_ns == episode(false).end_wall_ns);
}

TEST_CASE("evidence is read back from the stored JSON, strongest first") {
  using ctmon::events::parse_evidence;
  const std::string stored =
      R"([{"baseline_pps":0.06,"direction":"up","name":"tcp_conntrack_fwd_invalid","peak_pps":34.0,)"
      R"("peak_score":1.0,"peak_ts":1795135839.0},{"baseline_pps":120.0,"direction":"down",)"
      R"("name":"tcp_conntrack_fwd_established","peak_pps":30.0,"peak_score":0.8,"peak_ts":1795135840.5}])";
  const auto evidence = parse_evidence(stored);
  REQUIRE(evidence.size() == 2);
  CHECK(evidence[0].name == "tcp_conntrack_fwd_invalid");
  CHECK(evidence[0].peak_pps == 34.0);
  CHECK(evidence[0].baseline_pps == 0.06);
  CHECK_FALSE(evidence[0].down);
  CHECK(evidence[0].peak_wall_ns == 1795135839LL * kS);
  CHECK(evidence[1].down);
  CHECK(evidence[1].peak_wall_ns == 1795135840LL * kS + kS / 2);
  CHECK(parse_evidence("not json").empty());
  CHECK(parse_evidence(R"({"name":"x"})").empty());
  CHECK(parse_evidence(R"([{"peak_pps":1}])").empty());
}

TEST_CASE("the evidence written for an episode reads back as its counters") {
  const ctmon::Episode live = episode(false);
  const auto evidence = ctmon::events::parse_evidence(ctmon::events::to_event_record(live, 3, 0).evidence_json);
  REQUIRE(evidence.size() == live.counters.size());
  CHECK(evidence[0].name == live.counters[0].name);
  CHECK(evidence[0].peak_pps == Approx(34.0));
  CHECK(evidence[1].down);
  CHECK(evidence[0].peak_wall_ns == live.counters[0].peak_wall_ns / 1'000'000 * 1'000'000);
}
