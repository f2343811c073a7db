#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "monitor/cli/correlation.h"

using namespace ctmon;
using namespace ctmon::cli;

namespace {
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t s = 1'000'000'000;

IntervalSeries two_columns(std::vector<double> counter, std::vector<double> target) {
  IntervalSeries out;
  out.names = {"udp_conntrack_fwd_new", "probe_wan_jitter_us"};
  out.segment.assign(counter.size(), 0);
  out.columns = {std::move(counter), std::move(target)};
  return out;
}
}  // namespace

TEST_CASE("tied values share the mean of their ranks") {
  CHECK(average_ranks({10, 20, 20, 5}) == std::vector<double>{2, 3.5, 3.5, 1});
  CHECK(average_ranks({7, 7, 7}) == std::vector<double>{2, 2, 2});
}

TEST_CASE("Spearman rho of monotone, reversed, tied and constant data") {
  CHECK(*spearman({1, 2, 3, 4}, {10, 100, 1000, 10000}) == Approx(1.0));
  CHECK(*spearman({1, 2, 3, 4}, {4, 3, 2, 1}) == Approx(-1.0));
  // Ranks x = 1,2.5,2.5,4 and y = 1,2,3,4: rho = 4.5 / sqrt(4.5 * 5) (computed by hand).
  CHECK(*spearman({1, 2, 2, 3}, {1, 2, 3, 4}) == Approx(4.5 / std::sqrt(4.5 * 5.0)));
  CHECK_FALSE(spearman({5, 5, 5}, {1, 2, 3}).has_value());
  CHECK_FALSE(spearman({1}, {1}).has_value());
}

TEST_CASE("a lag pairs the counter with the target that many intervals later") {
  // The target repeats the counter two intervals later; at lag 0 they are unrelated.
  const std::vector<double> counter = {1, 9, 2, 8, 3, 7, 4, 6, 5, 0};
  std::vector<double> target(counter.size(), kNan);
  for (std::size_t t = 2; t < counter.size(); ++t) target[t] = counter[t - 2] * 10;
  const IntervalSeries series = two_columns(counter, target);
  const LaggedCorrelation at2 = lagged_spearman(series, 0, 1, 2);
  CHECK(at2.pairs == 8);
  CHECK(*at2.rho == Approx(1.0));
  const LaggedCorrelation at0 = lagged_spearman(series, 0, 1, 0);
  CHECK(at0.pairs == 8);  // the first two targets are missing
  CHECK(std::abs(*at0.rho) < 0.9);
}

TEST_CASE("a lag never pairs across segments") {
  IntervalSeries series = two_columns({1, 2, 3, 4}, {1, 2, 3, 4});
  series.segment = {0, 0, 1, 1};
  CHECK(lagged_spearman(series, 0, 1, 1).pairs == 2);  // (0,1) and (2,3), not (1,2)
  CHECK(lagged_spearman(series, 0, 1, 2).pairs == 0);
}

TEST_CASE("best predictors rank by |rho| at the best lag and flag small samples") {
  const std::size_t n = 60;
  IntervalSeries series;
  series.names = {"probe_wan_jitter_us", "leads_by_one", "unrelated", "short"};
  series.segment.assign(n, 0);
  series.columns.assign(4, std::vector<double>(n, kNan));
  for (std::size_t t = 0; t < n; ++t) {
    series.columns[1][t] = static_cast<double>((t * 37) % 61);
    series.columns[2][t] = static_cast<double>((t * 13) % 7);
    if (t >= 1) series.columns[0][t] = series.columns[1][t - 1] + 0.5;
    if (t < 10) series.columns[3][t] = static_cast<double>(t);
  }
  const std::vector<Predictor> ranked = best_predictors(series, 0, {1, 2, 3}, 5);
  REQUIRE(ranked.size() == 3);
  CHECK(ranked[0].counter == "leads_by_one");
  CHECK(ranked[0].best.lag == 1);
  CHECK(*ranked[0].best.rho == Approx(1.0));
  CHECK(ranked[0].enough_pairs);
  CHECK(ranked[1].counter == "unrelated");
  CHECK(ranked[2].counter == "short");
  CHECK_FALSE(ranked[2].enough_pairs);
  CHECK(best_predictors(series, 0, {1, 2, 3}, 1).size() == 1);
}

TEST_CASE("intervals: rates, mean counters, resets and gaps") {
  CounterCatalog catalog;
  const CounterId rate = catalog.intern("udp_conntrack_fwd_new");
  const CounterId jitter = catalog.intern("probe_wan_jitter_us");
  const CounterId ignored = catalog.intern("probe_wan_rtt_max_us");
  auto sample = [&](std::int64_t t_s, std::uint64_t packets, std::uint64_t observations, std::uint64_t sum_us) {
    Sample out;
    out.mono_ns = t_s * s;
    out.wall_ns = 1'700'000'000 * s + t_s * s;
    out.counters.resize(catalog.size());
    out.counters[rate] = {packets, packets * 100, true};
    out.counters[jitter] = {observations, sum_us, true};
    out.counters[ignored] = {observations, sum_us * 3, true};
    return out;
  };
  IntervalSeriesBuilder builder([](const std::string& n) { return n != "probe_wan_rtt_max_us"; }, 100);
  CHECK(builder.add(catalog, sample(0, 100, 5, 1000)));
  CHECK(builder.add(catalog, sample(2, 120, 10, 3000)));    // 10/s; jitter 2000/5 = 400 us
  CHECK(builder.add(catalog, sample(4, 120, 10, 3000)));    // 0/s; no observations: no jitter
  CHECK(builder.add(catalog, sample(6, 10, 15, 3500)));     // counter reset: no rate; jitter 100
  CHECK(builder.add(catalog, sample(20, 30, 20, 4000)));    // 14 s > 3 x 2 s: a gap, new segment
  CHECK(builder.add(catalog, sample(22, 50, 25, 5000)));    // 10/s; jitter 200
  const IntervalSeries& series = builder.series();
  REQUIRE(series.names == std::vector<std::string>{"udp_conntrack_fwd_new", "probe_wan_jitter_us"});
  REQUIRE(series.rows() == 4);
  const auto& r = series.columns[0];
  const auto& j = series.columns[1];
  CHECK(r[0] == Approx(10));
  CHECK(j[0] == Approx(400));
  CHECK(r[1] == Approx(0));
  CHECK(std::isnan(j[1]));
  CHECK(std::isnan(r[2]));
  CHECK(j[2] == Approx(100));
  CHECK(r[3] == Approx(10));
  CHECK(j[3] == Approx(200));
  CHECK(series.segment == std::vector<std::uint32_t>{0, 0, 0, 1});
}

TEST_CASE("samples stored without bytes give mean counters no value") {
  CounterCatalog catalog;
  catalog.intern("probe_lan_jitter_us");
  IntervalSeriesBuilder builder([](const std::string&) { return true; }, 10);
  CHECK(builder.add(catalog, Sample{0, 0, {{1, 100, true}}}));
  CHECK(builder.add(catalog, Sample{s, s, {{2, 0, true}}}, false));
  CHECK(builder.add(catalog, Sample{2 * s, 2 * s, {{3, 500, true}}}));
  CHECK(builder.add(catalog, Sample{3 * s, 3 * s, {{4, 800, true}}}));
  const IntervalSeries& series = builder.series();
  REQUIRE(series.rows() == 3);
  CHECK(std::isnan(series.columns[0][0]));
  CHECK(std::isnan(series.columns[0][1]));  // its start had no bytes
  CHECK(series.columns[0][2] == Approx(300));
}

TEST_CASE("the builder stops at its row limit") {
  CounterCatalog catalog;
  catalog.intern("tcp_conntrack_fwd_new");
  IntervalSeriesBuilder builder([](const std::string&) { return true; }, 2);
  for (int t = 0; t < 3; ++t) {
    Sample sample{t * s, t * s, {{static_cast<std::uint64_t>(t), 0, true}}};
    CHECK(builder.add(catalog, sample));
  }
  Sample fourth{3 * s, 3 * s, {{3, 0, true}}};
  CHECK_FALSE(builder.add(catalog, fourth));
}

TEST_CASE("episodes split by what moved, with who peaked first and the lag") {
  std::vector<EpisodeInput> episodes = {
      {{{"tcp_conntrack_fwd_new", 10 * s}}, "unknown"},
      {{{"probe_wan_jitter_us", 5 * s}, {"probe_wan_loss", 4 * s}}, "isp"},
      // Both: the earliest probe peak (2 s) is 6 s before the earliest counter peak (8 s).
      {{{"udp_conntrack_fwd_new", 9 * s}, {"probe_lan_jitter_us", 2 * s}, {"conntrack_stat_drop", 8 * s}}, "router"},
      {{{"probe_wan_jitter_us", 20 * s}, {"udp_conntrack_fwd_new", 18 * s}}, "lan_device"},
      {{{"probe_wan_jitter_us", 30 * s}, {"udp_conntrack_fwd_new", 30 * s}}, "isp"},
      {{}, ""},
  };
  const EpisodeSplit split = split_episodes(episodes);
  CHECK(split.total == 6);
  CHECK(split.counters_only == 1);
  CHECK(split.probes_only == 1);
  CHECK(split.both == 3);
  CHECK(split.probes_first == 1);
  CHECK(split.counters_first == 1);
  CHECK(split.together == 1);
  CHECK(split.lags_s == std::vector<double>{0, 2, 6});
  CHECK(*split.median_lag_s() == Approx(2));
  CHECK(split.where == std::map<std::string, std::size_t>{{"isp", 2}, {"lan_device", 1}, {"router", 1},
                                                           {"unknown", 2}});
  CHECK(episode_timing({{"conntrack_entries", 1}}).moved == Moved::counters_only);
}
