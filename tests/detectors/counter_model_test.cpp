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

TEST_CASE("a day far below its pattern is judged with the pattern's spread scaled down with it") {
  // An office is quiet (25 pps) until 10:00 and busy after it, at 400 or 1600 pps on alternate
  // days. One day it stays empty. Two hours on, that day's level has settled far below the
  // pattern, and a scan at ten times its rate stands out, though it is a fraction of a busy
  // day's swing.
  constexpr std::uint32_t kTen = 40, kNoon = 48;  // quarter hours
  CounterModelConfig c;
  c.level_memory_samples = 30;  // 5 minutes at 10 s, the noise 30 minutes: the network profile's
  c.noise_memory_samples = 180;
  CounterModel m(c);
  int i = 0;
  auto wobble = [&i](double pps) { return pps * (1.0 + 0.03 * ((i++ % 5) - 2)); };
  for (int day = 0; day < 4; ++day)
    for (std::uint32_t bin = kTen - 4; bin <= kNoon; ++bin)
      for (int k = 0; k < 90; ++k) m.step(wobble(bin < kTen ? 25 : day % 2 ? 1600 : 400), kStepS, bin);
  for (std::uint32_t bin = kTen - 4; bin < kNoon; ++bin)
    for (int k = 0; k < 90; ++k) m.step(wobble(25), kStepS, bin, true, false);
  for (int k = 0; k < 30; ++k) m.step(wobble(25), kStepS, kNoon, true, false);
  double strongest = 0;  // the scan: 250 pps for five minutes, within the quarter hour
  for (int k = 0; k < 30; ++k) strongest = std::max(strongest, m.step(wobble(250), kStepS, kNoon, true, false).evidence);
  CHECK(strongest >= 1.0);
}

TEST_CASE("a counter of a few packets per sample is judged against Poisson's spread, not the median deviation") {
  // The router's own new connections at about 0.27 pps, sampled every 5 s: 0 to 3 packets a
  // sample. Then a slow scan of it at seven times that for two minutes.
  constexpr double kStep = 5;
  CounterModelConfig c;
  c.level_memory_samples = 60;  // the network profile's at 5 s: 5 minutes, the noise 30
  c.noise_memory_samples = 360;
  c.robust_spread_min_events = GENERATE(0.0, 5.0);
  CounterModel m(c);
  constexpr double kQuietPackets[] = {0, 1, 2, 1, 0, 3, 1, 1, 0, 2, 1, 0, 2, 1, 3, 0};
  constexpr double kScanPackets[] = {11, 9, 12, 8, 10, 9, 11, 10};
  int i = 0;
  for (int k = 0; k < 2000; ++k) m.step(kQuietPackets[i++ % 16] / kStep, kStep, 0, true, false);
  double strongest = 0;
  for (int k = 0; k < 24; ++k)
    strongest = std::max(strongest, m.step(kScanPackets[k % 8] / kStep, kStep, 0, true, false).evidence);
  if (c.robust_spread_min_events > 0) {
    CHECK(strongest >= 1.0);
  } else {
    CHECK(strongest < 1.0);  // what the median deviation alone made of it
  }
}

}  // namespace ctmon
