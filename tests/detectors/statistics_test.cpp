// Rolling statistics with answers known by hand: EWMA, median/MAD window, CUSUM, seasonal bins,
// variance-stabilising transforms.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "detectors/cusum.h"
#include "detectors/ewma.h"
#include "detectors/robust_window.h"
#include "detectors/seasonal_baseline.h"
#include "detectors/transforms.h"

namespace ctmon {

TEST_CASE("EWMA of a constant series is that constant with zero variance") {
  EwmaMeanVar e(0.1);
  for (int i = 0; i < 100; ++i) e.add(7.0);
  CHECK(e.mean() == Approx(7.0));
  CHECK(e.variance() == Approx(0.0).margin(1e-12));
}

TEST_CASE("EWMA starts as an exact running mean, then forgets at rate alpha") {
  EwmaMeanVar e(0.01);
  e.add(1.0);
  e.add(3.0);
  CHECK(e.mean() == Approx(2.0));
  CHECK(e.variance() == Approx(1.0));  // population variance of {1, 3}
  EwmaMeanVar step(0.5);
  for (int i = 0; i < 10; ++i) step.add(0.0);
  step.add(10.0);  // alpha 0.5 now dominates 1/n
  CHECK(step.mean() == Approx(5.0));
}

TEST_CASE("rolling median and MAD of a known window") {
  RollingMedianMad r(5);
  for (double x : {1.0, 2.0, 3.0, 4.0, 100.0}) r.add(x);
  CHECK(r.median() == 3.0);  // the outlier does not move it
  r.add(5.0);                // window is now 2,3,4,100,5
  CHECK(r.median() == 4.0);
  CHECK(r.size() == 5);
}

TEST_CASE("a single spike does not move the rolling median") {
  RollingMedianMad r(31);
  for (int i = 0; i < 40; ++i) r.add(10.0 + (i % 3));
  const double before = r.median();
  r.add(1e6);
  CHECK(r.median() == before);
}

TEST_CASE("MAD of alternating values matches the hand computation") {
  RollingMedianMad r(9);
  for (int i = 0; i < 9; ++i) r.add(i % 2 == 0 ? 10.0 : 12.0);
  // Median settles at 10 (five 10s, four 12s); deviations are 0 or 2, mostly 0 -> MAD small,
  // and never above the spread of the data.
  CHECK(r.median() == 10.0);
  CHECK(r.mad() <= 2.0);
  CHECK(r.sigma() == Approx(1.4826 * r.mad()));
}

TEST_CASE("sorted window stays sorted through random replacement, matching a brute-force median") {
  SortedWindow w(7);
  std::vector<double> all;
  std::uint64_t seed = 42;
  for (int i = 0; i < 500; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    const double x = static_cast<double>((seed >> 33) % 20);  // many ties on purpose
    w.add(x);
    all.push_back(x);
    std::vector<double> last(all.end() - std::min<std::ptrdiff_t>(7, static_cast<std::ptrdiff_t>(all.size())), all.end());
    std::sort(last.begin(), last.end());
    const std::size_t n = last.size();
    const double expected = n % 2 ? last[n / 2] : 0.5 * (last[n / 2 - 1] + last[n / 2]);
    REQUIRE(w.median() == expected);
  }
}

TEST_CASE("CUSUM stays at zero on a constant series and crosses h after a sustained step") {
  Cusum c({1.0, 10.0, 4.0});
  for (int i = 0; i < 100; ++i) c.add(0.0);
  CHECK(c.evidence() == 0.0);
  int samples = 0;
  while (c.evidence() < 1.0 && samples < 100) {
    c.add(3.0);  // each adds 3 - k = 2
    ++samples;
  }
  CHECK(samples == 5);
  CHECK(c.evidence_up() == Approx(1.0));
}

TEST_CASE("CUSUM clips a single wild sample so it cannot fake a sustained shift") {
  Cusum c({1.0, 10.0, 4.0});
  c.add(1000.0);
  CHECK(c.up() == Approx(3.0));
  CHECK(c.evidence() < 1.0);
  c.reset();
  CHECK(c.up() == 0.0);
}

TEST_CASE("CUSUM detects a sustained fall on its downward side only") {
  Cusum c({1.0, 10.0, 4.0});
  for (int i = 0; i < 10; ++i) c.add(-3.0);
  CHECK(c.down() == Approx(20.0));
  CHECK(c.evidence_up() == 0.0);
  CHECK(c.evidence() == Approx(2.0));
}

TEST_CASE("CUSUM's run tells when a shift began and when it ended") {
  Cusum c({1.5, 12.0, 4.0});
  for (int i = 0; i < 10; ++i) c.add(0.0, 1.0);
  CHECK(c.run_s() == 0.0);
  for (int i = 0; i < 10; ++i) c.add(3.0, 1.0);  // the shift: its first sample began the run
  CHECK(c.run_s(true) == Approx(9.0));
  CHECK(c.since_peak_s(true) == 0.0);
  for (int i = 0; i < 5; ++i) c.add(0.0, 1.0);  // over: the sum drains from its highest
  CHECK(c.up() == Approx(7.5));
  CHECK(c.run_s(true) == Approx(14.0));
  CHECK(c.since_peak_s(true) == Approx(5.0));
  for (int i = 0; i < 5; ++i) c.add(0.0, 1.0);
  CHECK(c.up() == 0.0);
  CHECK(c.run_s(true) == 0.0);  // the run is over
}

TEST_CASE("CUSUM's run times follow the larger side unless asked for rises") {
  Cusum c({1.0, 10.0, 4.0});
  for (int i = 0; i < 4; ++i) c.add(-3.0, 5.0);
  CHECK(c.run_s() == Approx(15.0));
  CHECK(c.run_s(true) == 0.0);
}

TEST_CASE("seasonal bins split the day and weekday from weekend in local time") {
  SeasonalConfig cfg;  // 900 s bins, weekend split
  const std::int64_t monday = 1717372800;  // 2024-06-03 00:00 UTC
  CHECK(SeasonalBaseline::bin_of(cfg, monday) == 0);
  CHECK(SeasonalBaseline::bin_of(cfg, monday + 3 * 3600) == 12);
  CHECK(SeasonalBaseline::bin_of(cfg, monday + 5 * 86400) == 96);  // Saturday 00:00
  CHECK(SeasonalBaseline::bin_of(cfg, monday - 1) == 96 + 95);     // Sunday 23:45
  CHECK(SeasonalBaseline::bin_count(cfg) == 192);
  CHECK(SeasonalBaseline::bin_of(cfg, -1) < 192);  // before 1970 still lands in range
}

TEST_CASE("a seasonal bin is cold until a day of it was seen, then expects what it saw") {
  SeasonalConfig cfg;
  SeasonalBaseline s(cfg);
  for (int i = 0; i < 899; ++i) s.add(12, 5.0, 1.0);
  CHECK_FALSE(s.expect(12).warm);
  s.add(12, 5.0, 1.0);
  const SeasonalExpectation e = s.expect(12);
  CHECK(e.warm);
  CHECK(e.mean == Approx(5.0));
}

TEST_CASE("a nightly job becomes the expectation of its bins within a few days") {
  SeasonalConfig cfg;
  SeasonalBaseline s(cfg);
  auto day = [&](double job_level) {
    for (std::uint32_t bin = 0; bin < 96; ++bin) {
      const double y = bin == 12 ? job_level : 2.0;  // 03:00-03:15
      for (int i = 0; i < 900; ++i) s.add(bin, y, 1.0);
    }
  };
  day(2.0);  // a first day without the job
  day(10.0);
  day(10.0);
  day(10.0);
  const SeasonalExpectation job = s.expect(12);
  CHECK(job.mean > 7.5);  // most of the way to the job's level after three nights
  // The bins beside it report the step as their spread, so a job a few minutes early or late
  // is not a surprise there.
  CHECK(s.expect(11).sd >= job.mean - 2.0 - 1e-9);
  CHECK(s.expect(40).sd == Approx(0.0).margin(1e-9));  // a flat stretch stays tight
}

TEST_CASE("a cold weekend bin falls back to the weekday bin of the same time") {
  SeasonalConfig cfg;
  SeasonalBaseline s(cfg);
  for (int i = 0; i < 900; ++i) s.add(20, 4.0, 1.0);
  const SeasonalExpectation e = s.expect(96 + 20);
  CHECK(e.warm);
  CHECK(e.mean == Approx(4.0));
}

TEST_CASE("a seasonal baseline told not to borrow leaves a cold weekend bin cold") {
  SeasonalConfig cfg;
  cfg.borrow_other_day_type = false;
  SeasonalBaseline s(cfg);
  for (int i = 0; i < 900; ++i) s.add(20, 4.0, 1.0);
  CHECK(s.expect(20).warm);
  CHECK_FALSE(s.expect(96 + 20).warm);
}

TEST_CASE("variance-stabilising transforms invert and floor as documented") {
  CHECK(stabilise(Transform::sqrt, 16.0) == 4.0);
  CHECK(stabilise(Transform::sqrt, -1.0) == 0.0);
  CHECK(unstabilise(Transform::log1p, stabilise(Transform::log1p, 42.0)) == Approx(42.0));
  CHECK(unstabilise(Transform::identity, -3.0) == -3.0);
  CHECK(poisson_floor(Transform::sqrt, 4.0) == Approx(0.25));
  CHECK(poisson_floor(Transform::identity, 1.0) == 0.0);
}

}  // namespace ctmon
