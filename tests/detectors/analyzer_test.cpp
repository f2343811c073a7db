// The Analyzer end to end on small hand-made streams: constant series, step, single spike,
// reset, gap, clock jump, warm-up, state that survives a restart.
#include <catch2/catch.hpp>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "detectors/analyzer.h"

namespace ctmon {
namespace {

constexpr std::int64_t kS = 1'000'000'000;
constexpr std::int64_t kMonday = 1717372800;

// Three counters at steady rates with Poisson-like noise from a fixed-seed generator.
class Stream {
 public:
  Stream() {
    for (const char* n : {"tcp_conntrack_fwd_new", "tcp_conntrack_fwd_established", "tcp_conntrack_fwd_invalid"})
      catalog.intern(n);
    totals.assign(3, 1000);
  }
  CounterCatalog catalog;
  std::vector<double> rate{20, 500, 2};
  std::vector<std::uint64_t> totals;
  std::int64_t t = 0;          // monotonic seconds
  std::int64_t wall_shift = 0; // wall clock error, seconds
  std::int64_t step_s = 1;     // sampling interval
  bool noise = true;

  Sample next() {
    t += step_s;
    Sample s;
    s.mono_ns = t * kS;
    s.wall_ns = (kMonday + t + wall_shift) * kS;
    for (std::size_t c = 0; c < 3; ++c) {
      const double mean = rate[c] * static_cast<double>(step_s);
      const double n = noise ? normal() * std::sqrt(mean) : 0.0;
      totals[c] += static_cast<std::uint64_t>(std::max(0.0, std::round(mean + n)));
      s.counters.push_back({totals[c], 0, true});
    }
    return s;
  }

 private:
  std::uint64_t seed_ = 12345;
  double uniform() {
    seed_ = seed_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return (static_cast<double>(seed_ >> 11) + 0.5) * 0x1.0p-53;
  }
  double normal() { return std::sqrt(-2 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); }
};

struct Run {
  int opened = 0, closed = 0;
  std::int64_t first_open_t = -1;
  double max_score = 0;
  EpisodeKind kind = EpisodeKind::unknown;
};

Run feed(Analyzer& a, Stream& s, int samples) {
  Run r;
  for (int i = 0; i < samples; ++i) {
    const StepResult& res = a.observe(s.next(), s.catalog, 0);
    r.max_score = std::max(r.max_score, res.score);
    if (res.change == EpisodeChange::opened) {
      ++r.opened;
      if (r.first_open_t < 0) r.first_open_t = s.t;
    }
    if (res.change == EpisodeChange::closed) ++r.closed;
    if (res.episode) r.kind = res.episode->kind;
  }
  return r;
}

AnalyzerConfig config() { return AnalyzerConfig::network(1.0); }

}  // namespace

TEST_CASE("a constant series scores zero and never opens an episode") {
  Analyzer a(config());
  Stream s;
  s.noise = false;
  const Run r = feed(a, s, 3600);
  CHECK(r.opened == 0);
  CHECK(r.max_score == 0.0);
}

TEST_CASE("ordinary Poisson noise opens no episode in two hours") {
  Analyzer a(config());
  Stream s;
  const Run r = feed(a, s, 7200);
  CHECK(r.opened == 0);
}

TEST_CASE("a sustained 10x step in new connections opens an episode within two intervals") {
  Analyzer a(config());
  Stream s;
  feed(a, s, 1800);
  s.rate[0] *= 10;
  const std::int64_t step_at = s.t + 1;
  Run r = feed(a, s, 60);
  REQUIRE(r.opened == 1);
  CHECK(r.first_open_t - step_at <= 2);
  s.rate[0] /= 10;
  const Run after = feed(a, s, 300);
  CHECK(after.closed == 1);
  CHECK(after.opened == 0);
}

namespace {

// A clean baseline, then a burst of `burst_pps` extra new connections for 40 s, sampled every
// `interval_s`: the episode must start and end within two intervals of the burst and its peak
// rate must be the injected one within Poisson noise.
void check_burst_evidence(std::int64_t interval_s) {
  Analyzer a(AnalyzerConfig::network(static_cast<double>(interval_s)));
  CounterCatalog catalog;
  for (const char* n : {"udp_conntrack_fwd_new", "tcp_conntrack_fwd_new", "tcp_conntrack_fwd_established"})
    catalog.intern(n);
  const std::vector<double> usual{5, 20, 300};
  std::vector<std::uint64_t> totals(3, 1000);
  std::uint64_t seed = 99;
  auto normal = [&seed] {
    auto uniform = [&seed] {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      return (static_cast<double>(seed >> 11) + 0.5) * 0x1.0p-53;
    };
    return std::sqrt(-2 * std::log(uniform())) * std::cos(6.283185307179586 * uniform());
  };
  std::int64_t t = 0;
  std::optional<Episode> closed;
  auto step = [&](double extra_udp) {
    t += interval_s;
    Sample s;
    s.mono_ns = t * kS;
    s.wall_ns = (kMonday + t) * kS;
    for (std::size_t c = 0; c < 3; ++c) {
      const double mean = (usual[c] + (c == 0 ? extra_udp : 0.0)) * static_cast<double>(interval_s);
      totals[c] += static_cast<std::uint64_t>(std::max(0.0, std::round(mean + normal() * std::sqrt(mean))));
      s.counters.push_back({totals[c], 0, true});
    }
    const StepResult& r = a.observe(s, catalog, 0);
    if (r.change == EpisodeChange::closed) closed = *r.episode;
  };
  const std::int64_t warm = 4 * 3600;
  while (t < warm) step(0);
  const std::int64_t burst_first = t + interval_s;  // first sample that counts burst packets
  constexpr double kBurstPps = 250;
  while (t < warm + 40) step(kBurstPps);
  const std::int64_t burst_last = t;
  while (t < warm + 40 + 600 && !closed) step(0);
  REQUIRE(closed);
  const std::int64_t start_s = closed->start_wall_ns / kS - kMonday;
  const std::int64_t end_s = closed->end_wall_ns / kS - kMonday;
  CHECK(std::abs(start_s - burst_first) <= 2 * interval_s);
  CHECK(std::abs(end_s - burst_last) <= 2 * interval_s);
  REQUIRE_FALSE(closed->counters.empty());
  const MovedCounter& udp = closed->counters.front();
  CHECK(udp.name == "udp_conntrack_fwd_new");
  const double peak = kBurstPps + usual[0];
  // The maximum of 40 s of Poisson rates: within a few sd of one interval above the mean.
  const double sd = std::sqrt(peak / static_cast<double>(interval_s));
  CHECK(udp.peak_pps >= peak - sd);
  CHECK(udp.peak_pps <= peak + 4 * sd);
  CHECK(udp.baseline_pps == Approx(usual[0]).margin(1.5));
  CHECK(closed->kind == EpisodeKind::udp_storm);
  INFO(closed->summary);
  CHECK(closed->summary.find("udp_conntrack_fwd_new rose ") != std::string::npos);
}

}  // namespace

TEST_CASE("a 40 s burst at 1 s sampling: start, end and peak rate are those of the traffic") {
  check_burst_evidence(1);
}

TEST_CASE("a 40 s burst at 5 s sampling: start, end and peak rate are those of the traffic") {
  check_burst_evidence(5);
}

TEST_CASE("a WAN hiccup is classified from the counters that moved") {
  Analyzer a(config());
  Stream s;
  feed(a, s, 1800);
  s.rate = {80, 50, 20};  // established collapses, new and invalid climb
  const Run r = feed(a, s, 30);
  REQUIRE(r.opened == 1);
  CHECK(r.kind == EpisodeKind::wan_drop);
}

TEST_CASE("a single-sample spike opens no episode") {
  Analyzer a(config());
  Stream s;
  feed(a, s, 1800);
  s.rate[0] *= 20;
  Run r = feed(a, s, 1);
  s.rate[0] /= 20;
  const Run after = feed(a, s, 120);
  CHECK(r.opened + after.opened == 0);
}

TEST_CASE("nothing opens during warm-up, however wild") {
  AnalyzerConfig c = config();
  Analyzer a(c);
  Stream s;
  feed(a, s, 100);
  s.rate[0] *= 50;
  const Run r = feed(a, s, static_cast<int>(c.warmup_samples) - 120);
  CHECK(r.opened == 0);
}

TEST_CASE("a counter reset is not a negative rate and raises no alarm") {
  Analyzer a(config());
  Stream s;
  feed(a, s, 1800);
  s.totals = {0, 0, 0};  // rules reloaded
  const Run r = feed(a, s, 300);
  CHECK(r.opened == 0);
}

TEST_CASE("a gap longer than three intervals resumes without alarm") {
  Analyzer a(config());
  Stream s;
  feed(a, s, 1800);
  for (int i = 0; i < 100; ++i) s.next();  // samples lost; counters kept counting
  const Run r = feed(a, s, 300);
  CHECK(r.opened == 0);
}

TEST_CASE("a wall-clock jump creates no spike and no episode") {
  Analyzer a(config());
  Stream s;
  feed(a, s, 1800);
  s.wall_shift = -3LL * 365 * 86400;  // NTP steps the clock (backwards here: the harder case)
  Run r = feed(a, s, 300);
  s.wall_shift = 0;
  const Run back = feed(a, s, 300);
  CHECK(r.opened + back.opened == 0);
}

TEST_CASE("counters outside the detector set cannot raise an alarm") {
  Analyzer a(config());
  Stream s;
  const CounterId odd = s.catalog.intern("quota_something");
  std::uint64_t odd_total = 0;
  for (int i = 0; i < 2400; ++i) {
    Sample smp = s.next();
    odd_total += i > 1800 ? 100000 : 10;
    smp.counters.resize(s.catalog.size());
    smp.counters[odd] = {odd_total, 0, true};
    CHECK(a.observe(smp, s.catalog, 0).change == EpisodeChange::none);
  }
}

TEST_CASE("restored state continues where the saved one was, without a new warm-up") {
  Analyzer a(config());
  Stream s;
  feed(a, s, 2000);
  const std::string state = a.save_state();
  Analyzer b(config());
  REQUIRE(b.restore_state(state).ok);
  CHECK(b.samples_seen() == a.samples_seen());
  // After restore the first sample is only a rate reference; from then on both agree.
  Stream copy = s;
  a.observe(s.next(), s.catalog, 0);
  b.observe(copy.next(), copy.catalog, 0);
  s.rate[0] *= 10;
  copy.rate[0] *= 10;
  int b_opened = 0;
  for (int i = 0; i < 60; ++i) {
    const double sa = a.observe(s.next(), s.catalog, 0).score;
    const StepResult& rb = b.observe(copy.next(), copy.catalog, 0);
    b_opened += rb.change == EpisodeChange::opened;
    // The restored one restarted its rate reference and its CUSUM sums: close, not identical.
    if (i > static_cast<int>(config().resume_samples)) CHECK(rb.score == Approx(sa).margin(0.05));
  }
  CHECK(b_opened == 1);  // a new warm-up would have kept it silent
}

TEST_CASE("restore refuses another version, another shape and corrupt bytes, and changes nothing") {
  Analyzer a(config());
  Stream s;
  feed(a, s, 700);
  const std::string good = a.save_state();
  Analyzer b(config());
  const std::uint64_t before = b.samples_seen();

  SECTION("another format version") {
    std::string bad = good;
    bad[4 + 20] = static_cast<char>(Analyzer::kStateVersion + 1);  // the u32 after the magic string
    const RestoreStatus st = b.restore_state(bad);
    CHECK_FALSE(st.ok);
    CHECK(st.error.find("version") != std::string::npos);
  }
  SECTION("the previous format version, whose episodes have no `where`") {
    std::string old = good;
    old[4 + 20] = static_cast<char>(Analyzer::kStateVersion - 1);
    const RestoreStatus st = b.restore_state(old);
    CHECK_FALSE(st.ok);
    CHECK(st.error == "detector state has format version " + std::to_string(Analyzer::kStateVersion - 1) +
                          ", this ctmon reads version " + std::to_string(Analyzer::kStateVersion));
  }
  SECTION("a configuration with other bins") {
    AnalyzerConfig other = config();
    other.counter.seasonal.bin_width_s = 600;
    Analyzer c(other);
    const RestoreStatus st = c.restore_state(good);
    CHECK_FALSE(st.ok);
    CHECK(st.error.find("configuration") != std::string::npos);
  }
  SECTION("truncated bytes") {
    for (std::size_t cut : {std::size_t{0}, std::size_t{10}, good.size() / 2, good.size() - 1}) {
      CHECK_FALSE(b.restore_state(good.substr(0, cut)).ok);
    }
  }
  SECTION("garbage") { CHECK_FALSE(b.restore_state(std::string(500, '\x7f')).ok); }
  CHECK(b.samples_seen() == before);
}

TEST_CASE("restored state maps counters by name even when ids come in another order") {
  Analyzer a(config());
  Stream s;
  feed(a, s, 2000);
  Analyzer b(config());
  REQUIRE(b.restore_state(a.save_state()).ok);
  // A catalog that interned the same names in reverse order.
  CounterCatalog reversed;
  for (int c = 2; c >= 0; --c) reversed.intern(s.catalog.name(static_cast<CounterId>(c)));
  int opened = 0;
  for (int i = 0; i < 200; ++i) {
    Sample smp = s.next();
    Sample r = smp;
    for (int c = 0; c < 3; ++c) r.counters[static_cast<std::size_t>(2 - c)] = smp.counters[static_cast<std::size_t>(c)];
    opened += b.observe(r, reversed, 0).change == EpisodeChange::opened;
  }
  CHECK(opened == 0);  // wrongly mapped baselines (500 pps expected on a 2 pps counter) would alarm
}

TEST_CASE("gauge profile reports a level shift on the sample it happens, once that day") {
  Analyzer a(AnalyzerConfig::gauge());
  CounterCatalog cat;
  cat.intern("value");
  std::vector<int> opened_at;
  for (int i = 0; i < 1780; ++i) {  // 5-minute steps: the shift, then most of a day
    const double v = (i < 1500 ? 50.0 : 80.0) + std::sin(i * 0.7) * 2.0;
    const std::int64_t ns = (kMonday + i * 300LL) * kS;
    if (a.observe_values(ns, ns, std::span<const double>(&v, 1), cat, 0).change == EpisodeChange::opened)
      opened_at.push_back(i);
  }
  REQUIRE(opened_at.size() == 1);
  CHECK(opened_at[0] == 1500);
}

namespace {

// One gauge series at 5-minute steps from kMonday; next() says whether the value opened an episode.
struct GaugeFeed {
  Analyzer analyzer{AnalyzerConfig::gauge()};
  CounterCatalog catalog;
  int step = 0;
  double score = 0;  // of the last value
  GaugeFeed() { catalog.intern("value"); }
  bool next(double v) {
    const std::int64_t ns = (kMonday + step++ * 300LL) * kS;
    const StepResult& r = analyzer.observe_values(ns, ns, std::span<const double>(&v, 1), catalog, 0);
    score = r.score;
    return r.change == EpisodeChange::opened;
  }
  [[nodiscard]] bool count() const { return analyzer.modelled_as_count(0); }
};

// Whole numbers around `mean` that wander a little, as a count per interval does.
double whole(int i, double mean) { return std::round(mean + std::sqrt(mean) * std::sin(i * 1.3)); }

}  // namespace

TEST_CASE("a gauge of whole non-negative numbers is modelled as a count until a fraction shows") {
  GaugeFeed g;
  for (int i = 0; i < 300; ++i) g.next(whole(i, 400));
  CHECK(g.count());
  g.next(401.5);
  CHECK_FALSE(g.count());
  for (int i = 0; i < 50; ++i) g.next(whole(i, 400));  // whole again: a measurement stays one
  CHECK_FALSE(g.count());
}

TEST_CASE("a gauge whose first value is fractional or negative keeps its configured scale") {
  GaugeFeed fractional, negative;
  fractional.next(20.25);
  negative.next(-3);
  for (int i = 0; i < 50; ++i) fractional.next(whole(i, 20)), negative.next(whole(i, 20));
  CHECK_FALSE(fractional.count());
  CHECK_FALSE(negative.count());
}

TEST_CASE("a series that turns out not to be a count relearns before it alarms") {
  GaugeFeed g;
  for (int i = 0; i < 300; ++i) g.next(whole(i, 400));
  int opened_while_relearning = 0;
  g.next(400.5);  // the switch: the model starts over on the configured scale
  const auto relearn = static_cast<int>(AnalyzerConfig::gauge().warmup_samples);
  for (int i = 1; i < relearn; ++i) opened_while_relearning += g.next(i == 3 ? 4000.5 : whole(i, 400) + 0.5);
  CHECK(opened_while_relearning == 0);  // a fresh model knows nothing of the spread yet
  for (int i = 0; i < 200; ++i) g.next(whole(i, 400) + 0.5);
  CHECK(g.next(4000.5));  // relearned: the same jump alarms
}

TEST_CASE("restored gauge state keeps each series' scale") {
  GaugeFeed a;
  for (int i = 0; i < 300; ++i) a.next(whole(i, 400));
  GaugeFeed b;
  REQUIRE(b.analyzer.restore_state(a.analyzer.save_state()).ok);
  b.step = a.step;
  for (int i = 0; i < 20; ++i) {
    const double v = whole(i, 400) + (i == 10 ? 300 : 0);
    CHECK(b.next(v) == a.next(v));
    CHECK(b.score == Approx(a.score));  // the same model on the same scale, not a fresh one
    CHECK(b.count());
  }
  // A network profile's state is refused by the gauge one: the saved layouts differ.
  Analyzer network(config());
  CHECK_FALSE(b.analyzer.restore_state(network.save_state()).ok);
}

}  // namespace ctmon

namespace ctmon {

TEST_CASE("forwarded traffic that falls by more than half opens a WAN drop while it lasts") {
  Analyzer a(config());
  Stream s;
  feed(a, s, 1800);
  const std::int64_t fall_t = s.t + 1;
  s.rate[1] *= 0.3;  // the WAN went away: 70 % of forwarded established traffic is gone
  const Run r = feed(a, s, 30);
  REQUIRE(r.opened == 1);
  CHECK(r.first_open_t - fall_t <= 30);
  CHECK(r.kind == EpisodeKind::wan_drop);
}

TEST_CASE("at 1 s a two-second dip of forwarded traffic is no outage, a lasting fall opens within seconds") {
  // Falls are judged on the rate over three samples: two short samples of a quiet counter halve
  // by chance, a WAN that is gone stays gone.
  Analyzer a(config());
  REQUIRE(a.config().fall_window_samples == 3);
  Stream s;
  feed(a, s, 1800);
  s.rate[1] *= 0.3;
  const Run dip = feed(a, s, 2);
  s.rate[1] /= 0.3;
  const Run after_dip = feed(a, s, 120);
  CHECK(dip.opened + after_dip.opened == 0);

  const std::int64_t fall_t = s.t + 1;
  s.rate[1] *= 0.3;
  const Run outage = feed(a, s, 30);
  REQUIRE(outage.opened == 1);
  CHECK(outage.first_open_t - fall_t <= 4);
  CHECK(outage.kind == EpisodeKind::wan_drop);
}

TEST_CASE("a dip on a decline the expectation lags is measured from what flowed just before") {
  // Traffic slides from 500 to 300 pps in ten minutes (the level follows over minutes), then
  // dips to 190 pps for 10 s: 40 % below what flowed just before, but over half below the
  // lagging expectation. An outage is the WAN going away, not a dip on a decline.
  auto run = [](double before_fall_memory_s) {
    AnalyzerConfig c = config();
    c.before_fall_memory_s = before_fall_memory_s;
    Analyzer a(c);
    Stream s;
    feed(a, s, 1800);
    int opened = 0;
    for (int i = 1; i <= 600; ++i) {
      s.rate[1] = 500 - 200.0 * i / 600;
      opened += feed(a, s, 1).opened;
    }
    s.rate[1] = 190;
    opened += feed(a, s, 10).opened;
    s.rate[1] = 300;
    return opened + feed(a, s, 60).opened;
  };
  CHECK(run(120) == 0);
  CHECK(run(1e12) == 1);  // with "before" frozen at its first value, the expectation alone judges
}

namespace {

// Feeds `s` up to 14:00 of `day`, then new connections 6x for `minutes`, then ten minutes as
// before; returns the episodes opened from 14:00 on.
int rise_at_two_pm(Analyzer& a, Stream& s, int day, int minutes) {
  feed(a, s, static_cast<int>((day * 86400 + 14 * 3600 - s.t) / s.step_s));
  s.rate[0] *= 6;
  const Run rise = feed(a, s, static_cast<int>(minutes * 60 / s.step_s));
  s.rate[0] /= 6;
  return rise.opened + feed(a, s, static_cast<int>(600 / s.step_s)).opened;
}

}  // namespace

TEST_CASE("a burst of minutes at the same hour on two days is no pattern; a job of half an hour is") {
  // Sampled every 5 s; day 0 is ordinary (the time-of-day baseline learns it), then at 14:00 on
  // days 1, 2 and 3 new connections rise 6x for `minutes`. Returns the episodes opened on day 3.
  auto day3_opened = [](int minutes, double pattern_min_s) {
    AnalyzerConfig c = AnalyzerConfig::network(5);
    c.recurrence_pattern_min_s = pattern_min_s;
    Analyzer a(c);
    Stream s;
    s.step_s = 5;
    int opened = 0;
    for (int day = 1; day <= 3; ++day) opened = rise_at_two_pm(a, s, day, minutes);
    return opened;
  };
  CHECK(day3_opened(3, 300) == 1);
  CHECK(day3_opened(3, 0) == 0);  // every rise a vote: two bursts hide the third
  CHECK(day3_opened(30, 300) == 0);
}

TEST_CASE("an anomaly on the first day does not hide the same one at the same hour the next day") {
  // New connections rise 6x for four minutes at 14:00 on day 0, while every quarter hour is
  // still cold, and again on day 1. Learned raw, the first would have been the expectation of
  // its quarter hour on day 1.
  for (const std::int64_t step_s : {5, 30}) {
    INFO("sampled every " << step_s << " s");
    Analyzer a(AnalyzerConfig::network(static_cast<double>(step_s)));
    Stream s;
    s.step_s = step_s;
    rise_at_two_pm(a, s, 0, 4);
    CHECK(rise_at_two_pm(a, s, 1, 4) == 1);
  }
}

TEST_CASE("a nightly job stays familiar while the wall clock is stepped years into the past") {
  // A job of half an hour at 14:00 on days 1-3 is familiar from day 3 on. On day 4 a bad time
  // source steps the wall clock three years and two hours back, from ten minutes before the job
  // until after it. The monotonic clock still knows it is 14:00.
  auto day4_opened = [](std::int64_t wall_shift_s, bool recurrence = true) {
    AnalyzerConfig c = AnalyzerConfig::network(5);
    c.use_recurrence = recurrence;
    Analyzer a(c);
    Stream s;
    s.step_s = 5;
    for (int day = 1; day <= 3; ++day) rise_at_two_pm(a, s, day, 30);
    feed(a, s, static_cast<int>((4 * 86400 + 14 * 3600 - 600 - s.t) / s.step_s));
    s.wall_shift = wall_shift_s;
    return rise_at_two_pm(a, s, 4, 30);
  };
  constexpr std::int64_t kYearsBehind = -3 * 365 * 86400 - 7777;
  CHECK(day4_opened(0) == 0);
  CHECK(day4_opened(kYearsBehind) == 0);
  // The time-of-day baseline, at the hour the wrong clock reads, has not seen the job.
  CHECK(day4_opened(kYearsBehind, false) == 1);
}

TEST_CASE("an outage in a quarter hour next to a busier one opens while it lasts") {
  // Every evening the household streams from 18:30 to 18:45 (forwarded established 1600 pps,
  // 400 otherwise), so the quarter hour from 18:45 sits next to a step of 4x. Like a nightly
  // job, the evening is learned within three days: the stream's end reads as a fall on days 1
  // and 2, no more from day 3 on. On day 4 the WAN goes away at 18:50 for ten minutes. The fall
  // is judged against the short-term noise, not against that step.
  Analyzer a(AnalyzerConfig::network(30));
  Stream s;
  s.step_s = 30;
  auto evening = [&s] {
    const std::int64_t of_day = (s.t + s.step_s) % 86400;
    s.rate[1] = of_day > 18 * 3600 + 1800 && of_day <= 18 * 3600 + 2700 ? 1600 : 400;
  };
  int learned_evenings_opened = 0;
  while (s.t + s.step_s <= 4 * 86400 + 18 * 3600 + 3000) {
    evening();
    const int opened = feed(a, s, 1).opened;
    if (s.t >= 3 * 86400) learned_evenings_opened += opened;
  }
  const std::int64_t fall_t = s.t + s.step_s;
  s.rate[1] = 60;
  const Run outage = feed(a, s, 20);
  CHECK(learned_evenings_opened == 0);
  REQUIRE(outage.opened == 1);
  CHECK(outage.first_open_t - fall_t <= 60);
  CHECK(outage.kind == EpisodeKind::wan_drop);
}

TEST_CASE("forwarded traffic that falls by less than half is not an outage") {
  Analyzer a(config());
  Stream s;
  feed(a, s, 1800);
  s.rate[1] *= 0.65;  // a download ended: far beyond noise, but most traffic still flows
  const Run r = feed(a, s, 300);
  CHECK(r.opened == 0);
}

TEST_CASE("at 30 s sampling one sample opens an episode when a second counter agrees, never alone") {
  // 1.5x new connections is about 11 sd on one 30 s sample: beyond noise, but below the 18 sd
  // that open alone. Invalid packets rising with them corroborate it.
  auto run = [](bool corroborated) {
    Analyzer a(AnalyzerConfig::network(30));
    Stream s;
    s.step_s = 30;
    feed(a, s, 200);
    s.rate[0] *= 1.5;
    if (corroborated) s.rate[2] *= 2.5;
    Run r = feed(a, s, 1);
    s.rate = {20, 500, 2};
    const Run after = feed(a, s, 20);
    r.opened += after.opened;
    return r;
  };
  const Run alone = run(false);
  CHECK(alone.max_score >= 0.5);
  CHECK(alone.opened == 0);
  CHECK(run(true).opened == 1);
}

}  // namespace ctmon
