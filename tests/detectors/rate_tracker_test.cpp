#include <catch2/catch.hpp>

#include "detectors/rate_tracker.h"

namespace ctmon {
namespace {

constexpr std::int64_t kS = 1'000'000'000;

Sample at(std::int64_t mono_s, std::vector<std::uint64_t> packets, std::int64_t wall_s = -1) {
  Sample s;
  s.mono_ns = mono_s * kS;
  s.wall_ns = (wall_s < 0 ? 1'700'000'000 + mono_s : wall_s) * kS;
  for (auto p : packets) s.counters.push_back(CounterTotals{p, p * 100, true});
  return s;
}

}  // namespace

TEST_CASE("rates are packet deltas over monotonic seconds") {
  RateTracker t({});
  CHECK(t.update(at(0, {100, 0})).continuity == StepContinuity::first);
  const RateFrame& f = t.update(at(2, {300, 10}));
  REQUIRE(f.continuity == StepContinuity::continuous);
  CHECK(f.valid[0] == 1);
  CHECK(f.pps[0] == Approx(100.0));
  CHECK(f.pps[1] == Approx(5.0));
  CHECK(t.interval_s() == Approx(2.0));
}

TEST_CASE("a counter that goes backwards is a reset, not a negative rate") {
  RateTracker t({});
  t.update(at(0, {1000, 50}));
  const RateFrame& f = t.update(at(1, {7, 60}));
  CHECK(f.valid[0] == 0);
  CHECK(f.was_reset[0] == 1);
  CHECK(f.pps[0] == 0.0);
  CHECK(f.pps[1] == Approx(10.0));
  const RateFrame& g = t.update(at(2, {17, 70}));  // the reset value is the new reference
  CHECK(g.valid[0] == 1);
  CHECK(g.pps[0] == Approx(10.0));
}

TEST_CASE("a step longer than three intervals breaks continuity and yields no rates") {
  RateTracker t({});
  t.update(at(0, {0}));
  t.update(at(1, {10}));
  t.update(at(2, {20}));
  const RateFrame& f = t.update(at(6, {1000}));
  CHECK(f.continuity == StepContinuity::gap);
  CHECK(f.valid[0] == 0);
  const RateFrame& g = t.update(at(7, {1010}));
  CHECK(g.continuity == StepContinuity::continuous);
  CHECK(g.pps[0] == Approx(10.0));
}

TEST_CASE("a step of exactly three intervals is still continuous") {
  RateTracker t({1.0, 3.0});
  t.update(at(0, {0}));
  CHECK(t.update(at(3, {30})).continuity == StepContinuity::continuous);
}

TEST_CASE("a wall-clock jump changes no rate because rates use the monotonic clock") {
  RateTracker t({});
  t.update(at(0, {0}, 1'700'000'000));
  t.update(at(1, {10}, 1'700'000'001));
  const RateFrame& f = t.update(at(2, {20}, 1'600'000'000));  // clock stepped back years
  CHECK(f.continuity == StepContinuity::continuous);
  CHECK(f.pps[0] == Approx(10.0));
}

TEST_CASE("monotonic time that does not advance yields no rates and its reading becomes the reference") {
  RateTracker t({});
  t.update(at(10, {100}));
  t.update(at(11, {110}));
  CHECK(t.update(at(11, {115})).continuity == StepContinuity::time_backwards);  // repeated timestamp
  const RateFrame& f = t.update(at(12, {130}));
  CHECK(f.continuity == StepContinuity::continuous);
  CHECK(f.pps[0] == Approx(15.0));
  CHECK(t.update(at(5, {140})).continuity == StepContinuity::time_backwards);  // clock stepped back
  const RateFrame& g = t.update(at(6, {150}));  // and stays back: rates resume at once
  CHECK(g.continuity == StepContinuity::continuous);
  CHECK(g.pps[0] == Approx(10.0));
}

TEST_CASE("an absent counter has no rate and its return is only a new reference") {
  RateTracker t({});
  t.update(at(0, {0, 0}));
  Sample missing = at(1, {10, 0});
  missing.counters[1].present = false;
  const RateFrame& f = t.update(missing);
  CHECK(f.valid[0] == 1);
  CHECK(f.valid[1] == 0);
  const RateFrame& g = t.update(at(2, {20, 5000}));
  CHECK(g.valid[1] == 0);  // no delta spans the absence
  CHECK(t.update(at(3, {30, 5010})).pps[1] == Approx(10.0));
}

TEST_CASE("a counter that appears later starts with a reference, then has rates") {
  RateTracker t({});
  t.update(at(0, {0}));
  const RateFrame& f = t.update(at(1, {10, 3}));
  REQUIRE(f.valid.size() == 2);
  CHECK(f.valid[1] == 0);
  CHECK(t.update(at(2, {20, 8})).pps[1] == Approx(5.0));
}

TEST_CASE("gauge values pass through whatever the continuity, NaN meaning absent") {
  RateTracker t({});
  const double first[] = {3.5, std::numeric_limits<double>::quiet_NaN()};
  const RateFrame& f = t.update_gauges(0, first, 2);
  CHECK(f.valid[0] == 1);
  CHECK(f.pps[0] == 3.5);
  CHECK(f.valid[1] == 0);
}

TEST_CASE("an infinite gauge value is absent too: it would break the robust window's order") {
  RateTracker t({});
  const double values[] = {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(), 1.0};
  const RateFrame& f = t.update_gauges(0, values, 3);
  CHECK(f.valid[0] == 0);
  CHECK(f.valid[1] == 0);
  CHECK(f.pps[0] == 0.0);
  CHECK(f.valid[2] == 1);
}

TEST_CASE("a jump no link could carry is a reset, not a 9.2e18 pps rate") {
  RateTracker t({});
  t.update(at(0, {1000, 50}));
  t.update(at(1, {1100, 60}));
  const RateFrame& f = t.update(at(2, {1100 + (std::uint64_t{1} << 63), 70}));
  CHECK(f.valid[0] == 0);
  CHECK(f.was_reset[0] == 1);
  CHECK(f.pps[0] == 0.0);
  CHECK(f.valid[1] == 1);
  CHECK(f.pps[1] == Approx(10.0));
  // the jumped total is only a new reference: the next step is a plain rate again
  const RateFrame& g = t.update(at(3, {1200 + (std::uint64_t{1} << 63), 80}));
  CHECK(g.valid[0] == 1);
  CHECK(g.pps[0] == Approx(100.0));
}

TEST_CASE("the plausibility bound is a rate: a big delta over a long step is still real") {
  RateTracker t({10.0, 3.0});
  t.update(at(0, {0}));
  // 5e9 packets in 10 s is 5e8 pps: fast, but under kMaxPlausiblePps
  const RateFrame& f = t.update(at(10, {5'000'000'000}));
  CHECK(f.valid[0] == 1);
  CHECK(f.pps[0] == Approx(5e8));
  // 2e10 more in 10 s is 2e9 pps: over it
  CHECK(t.update(at(20, {25'000'000'000})).was_reset[0] == 1);
  CHECK(kMaxPlausiblePps == 1e9);
}

}  // namespace ctmon
