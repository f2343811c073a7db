// The events-contract JSON for a live episode (docs/events.md).
#include "monitor/events/events_json.h"

#include <catch2/catch.hpp>

#include "core/episode.h"

namespace ctmon::events {

TEST_CASE("a closed episode prints every field of the events contract") {
  Episode e;
  e.id = 7;
  e.start_wall_ns = 1717372800LL * 1'000'000'000;
  e.end_wall_ns = e.start_wall_ns + 90'500'000'000LL;
  e.open = false;
  e.peak_score = 0.98765;
  e.kind = EpisodeKind::wan_drop;
  e.summary = "WAN drop: x.";
  e.detectors = kDetectorPoint | kDetectorMultivariate;
  MovedCounter m;
  m.name = "tcp_conntrack_fwd_established";
  m.peak_pps = 12.25;
  m.baseline_pps = 480;
  m.peak_score = 0.9;
  m.peak_z = -8;
  m.peak_wall_ns = e.start_wall_ns + 5'000'000'000LL;
  e.counters.push_back(m);
  const nlohmann::json j = episode_to_json(e);
  CHECK(j["id"] == 7);
  CHECK(j["start"] == "2024-06-03T00:00:00Z");
  CHECK(j["end"] == "2024-06-03T00:01:30Z");
  CHECK(j["start_ts"] == 1717372800.0);
  CHECK(j["end_ts"] == 1717372890.5);
  CHECK(j["score"] == Approx(0.988));
  CHECK(j["kind"] == "wan_drop");
  CHECK(j["summary"] == "WAN drop: x.");
  REQUIRE(j["counters"].size() == 1);
  CHECK(j["counters"][0]["name"] == "tcp_conntrack_fwd_established");
  CHECK(j["counters"][0]["peak_pps"] == 12.25);
  CHECK(j["counters"][0]["baseline_pps"] == 480.0);
  CHECK(j["counters"][0]["direction"] == "down");
  CHECK(j["detectors"] == nlohmann::json::array({"point", "multivariate"}));
  CHECK(episode_json_line(e).find('\n') == std::string::npos);
}

TEST_CASE("an open episode has end and end_ts null") {
  Episode e;
  e.open = true;
  const nlohmann::json j = episode_to_json(e);
  CHECK(j["end"].is_null());
  CHECK(j["end_ts"].is_null());
}

}  // namespace ctmon::events
