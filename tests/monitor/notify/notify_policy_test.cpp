#include "monitor/notify/notify_policy.h"

#include <catch2/catch.hpp>

namespace ctmon::notify {
namespace {

constexpr std::int64_t kMin = 60'000'000'000;  // one minute in ns

Episode episode(std::uint64_t id, EpisodeKind kind, double peak, bool open = true) {
  Episode e;
  e.id = id;
  e.kind = kind;
  e.peak_score = peak;
  e.open = open;
  e.start_wall_ns = static_cast<std::int64_t>(id) * kMin;
  return e;
}

Episode closed(Episode e) {
  e.open = false;
  return e;
}

NotifyPolicyConfig config(double min_score, std::int64_t min_gap_ns, bool on_close) {
  NotifyPolicyConfig c;
  c.min_score = min_score;
  c.min_gap_ns = min_gap_ns;
  c.on_close = on_close;
  return c;
}

std::string hhmm(std::int64_t wall_ns) { return std::to_string(wall_ns / kMin) + "m"; }

TEST_CASE("min_score: an episode is told about when its peak first reaches it, once") {
  NotifyPolicy policy(config(0.6, 0, false));
  CHECK_FALSE(policy.on_change(episode(1, EpisodeKind::scan, 0.4), 0));
  const auto told = policy.on_change(episode(1, EpisodeKind::scan, 0.9), 1);
  REQUIRE(told);
  CHECK(told->episode.peak_score == 0.9);
  CHECK(told->state == EpisodeState::kOpen);
  CHECK_FALSE(policy.on_change(episode(1, EpisodeKind::scan, 0.95), 2));  // already told
  CHECK(policy.qualifies(episode(2, EpisodeKind::scan, 0.6)));             // the bound is inclusive
  CHECK_FALSE(policy.qualifies(episode(2, EpisodeKind::scan, 0.59)));
}

TEST_CASE("kinds: only the listed kinds; empty means every kind") {
  NotifyPolicy only({.kinds = parse_kinds("wan_drop, scan")});
  CHECK(only.qualifies(episode(1, EpisodeKind::wan_drop, 0.1)));
  CHECK(only.qualifies(episode(2, EpisodeKind::scan, 0.1)));
  CHECK_FALSE(only.qualifies(episode(3, EpisodeKind::udp_storm, 1.0)));
  CHECK_FALSE(only.on_change(episode(3, EpisodeKind::udp_storm, 1.0), 0));
  NotifyPolicy every(config(0, 0, false));
  CHECK(every.qualifies(episode(3, EpisodeKind::udp_storm, 0.0)));
}

TEST_CASE("parse_kinds trims names and drops repeats") {
  CHECK(parse_kinds(" scan ,wan_drop,scan") == std::vector{EpisodeKind::scan, EpisodeKind::wan_drop});
  CHECK(parse_kinds("").empty());
}

TEST_CASE("min_gap: episodes within the gap are held back and summed up in the next notification") {
  NotifyPolicy policy(config(0, 10 * kMin, false));
  REQUIRE(policy.on_change(episode(1, EpisodeKind::scan, 0.5), 0));
  CHECK(policy.due() == INT64_MAX);  // nothing held back
  CHECK_FALSE(policy.on_change(episode(2, EpisodeKind::wan_drop, 0.7), 1 * kMin));
  CHECK_FALSE(policy.on_change(episode(3, EpisodeKind::udp_storm, 0.6), 2 * kMin));
  CHECK_FALSE(policy.on_change(episode(3, EpisodeKind::udp_storm, 0.8), 3 * kMin));  // grew while held
  CHECK(policy.held() == 2);
  CHECK(policy.due() == 10 * kMin);
  CHECK_FALSE(policy.flush(9 * kMin));  // the gap has not passed

  SECTION("a new episode after the gap carries the summary") {
    const auto d = policy.on_change(episode(4, EpisodeKind::scan, 0.9), 11 * kMin);
    REQUIRE(d);
    CHECK(d->episode.id == 4);
    REQUIRE(d->held_back.size() == 2);
    CHECK(d->held_back[0] == HeldBack{2, EpisodeKind::wan_drop, 0.7, 2 * kMin});
    CHECK(d->held_back[1] == HeldBack{3, EpisodeKind::udp_storm, 0.8, 3 * kMin});
    CHECK(held_back_ids(*d) == "2,3");
    CHECK(held_back_note(*d, hhmm) == "and 2 more episodes since 2m: wan_drop 0.70 at 2m, udp_storm 0.80 at 3m");
    CHECK(policy.held() == 0);
    CHECK(policy.due() == INT64_MAX);
  }
  SECTION("else the newest held-back one is sent when the gap ends, summing up the others") {
    const auto d = policy.flush(10 * kMin);
    REQUIRE(d);
    CHECK(d->episode.id == 3);
    CHECK(d->episode.peak_score == 0.8);
    CHECK(held_back_ids(*d) == "2");
    CHECK(held_back_note(*d, hhmm) == "and 1 more episode since 2m: wan_drop 0.70 at 2m");
    CHECK(policy.held() == 0);
    CHECK_FALSE(policy.flush(30 * kMin));  // nothing left
    // The flushed episode counts as a sent notification: the next one within the gap is held.
    CHECK_FALSE(policy.on_change(episode(5, EpisodeKind::scan, 0.5), 15 * kMin));
    CHECK(policy.held() == 1);
  }
}

TEST_CASE("a summary names at most kMaxNamed and counts the rest") {
  NotifyPolicy policy(config(0, 10 * kMin, false));
  REQUIRE(policy.on_change(episode(1, EpisodeKind::scan, 0.5), 0));
  for (std::uint64_t id = 2; id < 2 + NotifyPolicy::kMaxHeld + 3; ++id)
    CHECK_FALSE(policy.on_change(episode(id, EpisodeKind::scan, 0.5), kMin));
  const auto d = policy.on_change(episode(1000, EpisodeKind::wan_drop, 0.9), 10 * kMin);
  REQUIRE(d);
  CHECK(d->held_back.size() == NotifyPolicy::kMaxHeld);
  CHECK(d->held_back_unnamed == 3);
  const std::string note = held_back_note(*d, hhmm);
  CHECK(note.rfind("and 103 more episodes before: ", 0) == 0);
  CHECK(note.ends_with(", ..."));
}

TEST_CASE("on_close: a close message only for an episode whose open message went out") {
  SECTION("on") {
    NotifyPolicy policy(config(0.5, 0, true));
    REQUIRE(policy.on_change(episode(1, EpisodeKind::scan, 0.7), 0));
    const auto d = policy.on_closed(closed(episode(1, EpisodeKind::scan, 0.7)));
    REQUIRE(d);
    CHECK(d->state == EpisodeState::kClose);
    CHECK_FALSE(d->episode.open);
    CHECK_FALSE(policy.on_closed(closed(episode(1, EpisodeKind::scan, 0.7))));  // once
    CHECK_FALSE(policy.on_change(episode(2, EpisodeKind::scan, 0.3), 1));       // never told
    CHECK_FALSE(policy.on_closed(closed(episode(2, EpisodeKind::scan, 0.3))));
  }
  SECTION("off") {
    NotifyPolicy policy(config(0, 0, false));
    REQUIRE(policy.on_change(episode(1, EpisodeKind::scan, 0.7), 0));
    CHECK_FALSE(policy.on_closed(closed(episode(1, EpisodeKind::scan, 0.7))));
  }
  SECTION("close messages do not count against min_gap, and one summed up gets none") {
    NotifyPolicy policy(config(0, 10 * kMin, true));
    REQUIRE(policy.on_change(episode(1, EpisodeKind::scan, 0.7), 0));
    CHECK_FALSE(policy.on_change(episode(2, EpisodeKind::scan, 0.7), kMin));
    CHECK_FALSE(policy.on_change(episode(3, EpisodeKind::scan, 0.7), kMin));
    CHECK(policy.on_closed(closed(episode(1, EpisodeKind::scan, 0.7))));  // within the gap
    CHECK_FALSE(policy.on_closed(closed(episode(2, EpisodeKind::scan, 0.7))));
    // Episode 3 closed while held back: flushed as its (closed) line, with no close message after.
    CHECK_FALSE(policy.on_closed(closed(episode(3, EpisodeKind::scan, 0.7))));
    const auto d = policy.flush(10 * kMin);
    REQUIRE(d);
    CHECK(d->episode.id == 3);
    CHECK_FALSE(d->episode.open);
    CHECK(held_back_ids(*d) == "2");
  }
}

TEST_CASE("after a restart an open qualifying episode counts as told: only its close is sent") {
  NotifyPolicy policy(config(0.5, 0, true));
  policy.resume(episode(7, EpisodeKind::scan, 0.8));
  CHECK_FALSE(policy.on_change(episode(7, EpisodeKind::scan, 0.9), 0));
  CHECK(policy.on_closed(closed(episode(7, EpisodeKind::scan, 0.9))));
  // One that did not qualify before the restart is told about when it reaches the score.
  policy.resume(episode(8, EpisodeKind::scan, 0.2));
  CHECK(policy.on_change(episode(8, EpisodeKind::scan, 0.6), 1));
  // The rate limit starts afresh: the list of held-back episodes lives in RAM only.
  CHECK(policy.due() == INT64_MAX);
}

}  // namespace
}  // namespace ctmon::notify
