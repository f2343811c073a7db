// One counter's model: how far a value is from what its time of day and its recent level expect.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>

#include "detectors/counter_model.h"

namespace ctmon {
namespace {

constexpr double kStepS = 10;
constexpr std::uint32_t kQuiet = 0, kBusy = 1;  // two neighbouring quarter hours

// Learns a quarter hour at 400 pps next to one at 1600 pps (the evening's streaming starts in
// the second), so that the first bin's spread includes the step to its neighbour; then returns
// to the first bin and lets its level settle.
CounterModel learned_model() {
  const CounterModelConfig c;
  CounterModel m(c);
  int i = 0;
  auto wobble = [&i](double pps) { return pps * (1.0 + 0.03 * ((i++ % 5) - 2)); };
  for (int k = 0; k < 90; ++k) m.step(wobble(400), kStepS, kQuiet);
  for (int k = 0; k < 90; ++k) m.step(wobble(1600), kStepS, kBusy);
  for (int k = 0; k < 90; ++k) m.step(wobble(400), kStepS, kQuiet);
  return m;
}

}  // namespace

TEST_CASE("a fall's own evidence is measured against the short-term noise, not the bin's spread") {
  CounterModel m = learned_model();
  const CounterModelConfig defaults;
  // The WAN goes away: 85 % of the traffic is gone.
  const CounterStep fall = m.step(60, kStepS, kQuiet);
  CHECK(fall.z > -3);  // the step to the busy neighbour hides it from z
  CHECK(fall.fall_evidence * defaults.point_alarm_sd > 4);
}

TEST_CASE("a value at or above its expectation has no fall evidence") {
  CounterModel m = learned_model();
  CHECK(m.step(1000, kStepS, kQuiet).fall_evidence == 0.0);
  CHECK(m.step(400, kStepS, kQuiet).fall_evidence < 0.5);
}

TEST_CASE("a job's bin that today's traffic skipped does not make the next bin's usual traffic a rise") {
  // A weekday learns a backup at 1600 pps in its 03:15 quarter hour and the night's 100 pps in
  // the next. On the first Saturday no backup runs: its 03:15 borrows the weekday's bin, so the
  // level learns "far below the pattern"; by that quarter hour's end it is Saturday's own bin, so
  // 03:30's spread (borrowed, next to it) no longer shows the backup's step that the level still
  // carries. Judged as a primary counter is (rises only).
  constexpr std::uint32_t kBackup = 13, kAfter = 14, kSaturday = 96;  // bins of 15 minutes
  CounterModelConfig c;
  c.level_memory_samples = 30;  // 5 minutes at 10 s, and the noise 30 minutes, as the network profile's
  c.noise_memory_samples = 180;
  CounterModel m(c);
  int i = 0;
  auto wobble = [&i](double pps) { return pps * (1.0 + 0.03 * ((i++ % 5) - 2)); };
  for (int k = 0; k < 90; ++k) m.step(wobble(1600), kStepS, kBackup);
  for (int k = 0; k < 90; ++k) m.step(wobble(100), kStepS, kAfter);
  for (int k = 0; k < 90; ++k) m.step(wobble(100), kStepS, kSaturday + kBackup, true, false);
  double strongest = 0;
  for (int k = 0; k < 90; ++k)
    strongest = std::max(strongest, m.step(wobble(100), kStepS, kSaturday + kAfter, true, false).evidence);
  CHECK(strongest < 0.5);
}

}  // namespace ctmon
