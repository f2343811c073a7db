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

namespace ctmon {
namespace {

Sample totals_at(std::int64_t mono_s, std::vector<CounterTotals> counters) {
  Sample s;
  s.mono_ns = mono_s * kS;
  s.wall_ns = (1'700'000'000 + mono_s) * kS;
  s.counters = std::move(counters);
  return s;
}

}  // namespace

TEST_CASE("a mean counter yields its value, the sum's delta over the count's delta") {
  RateTracker t({});
  const std::vector<std::uint8_t> mean{0, 1};
  t.update(totals_at(0, {{100, 0, true}, {4, 40'000, true}}), mean);
  const RateFrame& f = t.update(totals_at(2, {{300, 0, true}, {9, 190'000, true}}), mean);
  REQUIRE(f.continuity == StepContinuity::continuous);
  CHECK(f.pps[0] == Approx(100.0));  // the rate counter beside it is unchanged
  CHECK(f.valid[1] == 1);
  CHECK(f.pps[1] == Approx(30'000.0));  // 150,000 us over 5 observations, whatever the step
}

TEST_CASE("a mean counter without observations has no value but keeps its reference") {
  RateTracker t({});
  const std::vector<std::uint8_t> mean{1, 1};
  // 0: RTT median (observations = intervals with a reply); 1: loss (observations = probes sent).
  t.update(totals_at(0, {{10, 100'000, true}, {50, 0, true}}), mean);
  const RateFrame& lost = t.update(totals_at(1, {{10, 100'000, true}, {55, 5, true}}), mean);
  CHECK(lost.valid[0] == 0);
  CHECK(lost.was_reset[0] == 0);  // no value is not a reset: the model keeps its continuity
  CHECK(lost.valid[1] == 1);
  CHECK(lost.pps[1] == Approx(1.0));  // every probe lost
  const RateFrame& back = t.update(totals_at(2, {{11, 112'000, true}, {60, 5, true}}), mean);
  CHECK(back.valid[0] == 1);
  CHECK(back.pps[0] == Approx(12'000.0));
  CHECK(back.pps[1] == Approx(0.0));
}

TEST_CASE("a mean counter whose count or sum goes backwards is a reset") {
  RateTracker t({});
  const std::vector<std::uint8_t> mean{1, 1};
  t.update(totals_at(0, {{10, 100, true}, {10, 100, true}}), mean);
  const RateFrame& f = t.update(totals_at(1, {{2, 120, true}, {11, 50, true}}), mean);
  CHECK(f.was_reset[0] == 1);
  CHECK(f.was_reset[1] == 1);
  CHECK(f.valid[0] == 0);
  CHECK(f.valid[1] == 0);
}

TEST_CASE("a mean counter's value may exceed the plausible packet rate: it is no rate") {
  RateTracker t({});
  const std::vector<std::uint8_t> mean{1};
  t.update(totals_at(0, {{1, 0, true}}), mean);
  const RateFrame& f = t.update(totals_at(1, {{2, 5'000'000'000ULL, true}}), mean);
  CHECK(f.valid[0] == 1);
  CHECK(f.pps[0] == Approx(5e9));
}

}  // namespace ctmon
