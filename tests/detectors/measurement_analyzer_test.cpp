// Probe and conntrack health counters (mean counters, drop statistics) through the whole
// Analyzer at 1 s, 5 s and 30 s sampling: what must alarm does within a few intervals, with the
// right `where`; what is calm never alarms; conntrack traffic with calm probes beside it gives
// the episodes it gives alone.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/measurement.h"
#include "core/time.h"
#include "detectors/analyzer.h"
#include "tests/detectors/scenario.h"

namespace ctmon {
namespace {

constexpr std::int64_t kS = 1'000'000'000;
constexpr std::int64_t kMonday = 1717372800;
constexpr std::int64_t kDayS = 86'400;

class Random {
 public:
  explicit Random(std::uint64_t seed) : seed_(seed) {}
  double uniform() {
    seed_ = seed_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return (static_cast<double>(seed_ >> 11) + 0.5) * 0x1.0p-53;
  }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal() { return std::sqrt(-2 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); }

 private:
  std::uint64_t seed_;
};

// One probe target as the probe input reports it (docs/measurements.md): one probe per second
// (at least three per interval), mean counters of the interval's min/median/max RTT, jitter as
// the mean absolute successive difference across intervals, loss as lost/sent.
class ProbeTarget {
 public:
  ProbeTarget(CounterCatalog& catalog, ProbeSide side) {
    for (const char* metric : {"rtt_min_us", "rtt_median_us", "rtt_max_us", "jitter_us", "loss"})
      ids_.push_back(catalog.intern(probe_counter_name(side, "", metric)));
    totals_.assign(ids_.size(), {0, 0, true});
  }
  double rtt_lo_ms = 10, rtt_hi_ms = 10, loss = 0;  // RTT uniform in [lo, hi]
  double spike_probability = 0, spike_ms = 0;         // a rare slow reply

  void probe_interval(double interval_s, Random& rng, Sample& s) {
    const int sent = std::max(3, static_cast<int>(std::lround(interval_s)));
    std::vector<double> rtts;
    std::uint64_t lost = 0;
    for (int i = 0; i < sent; ++i) {
      if (rng.uniform() < loss) {
        ++lost;
        have_last_ = false;  // a lost probe breaks the jitter chain
        continue;
      }
      double rtt_us = 1000 * rng.uniform(rtt_lo_ms, rtt_hi_ms);
      if (rng.uniform() < spike_probability) rtt_us += 1000 * spike_ms;
      if (have_last_) {
        totals_[3].packets += 1;
        totals_[3].bytes += static_cast<std::uint64_t>(std::fabs(rtt_us - last_us_));
      }
      last_us_ = rtt_us;
      have_last_ = true;
      rtts.push_back(rtt_us);
    }
    if (!rtts.empty()) {
      std::sort(rtts.begin(), rtts.end());
      const double values[3] = {rtts.front(), rtts[rtts.size() / 2], rtts.back()};
      for (int m = 0; m < 3; ++m) {
        totals_[static_cast<std::size_t>(m)].packets += 1;
        totals_[static_cast<std::size_t>(m)].bytes += static_cast<std::uint64_t>(values[m]);
      }
    }
    totals_[4].packets += static_cast<std::uint64_t>(sent);
    totals_[4].bytes += lost;
    for (std::size_t k = 0; k < ids_.size(); ++k) put(s, ids_[k], totals_[k]);
  }

  static void put(Sample& s, CounterId id, const CounterTotals& totals) {
    if (s.counters.size() <= id) s.counters.resize(id + 1);
    s.counters[id] = totals;
  }

 private:
  std::vector<CounterId> ids_;
  std::vector<CounterTotals> totals_;
  bool have_last_ = false;
  double last_us_ = 0;
};

// Two conntrack counters with Poisson-like noise (two: the multivariate score, which needs
// three, is not what these tests are about), a WAN and a LAN probe target, and optionally the
// conntrack table's health counters.
class Router {
 public:
  explicit Router(std::int64_t interval_s, bool health = false) : interval_s_(interval_s) {
    for (const char* n : {"tcp_conntrack_fwd_new", "tcp_conntrack_fwd_established"})
      rate_ids_.push_back(catalog.intern(n));
    rate_totals_.assign(rate_ids_.size(), 1000);
    lan.rtt_lo_ms = 0.03;
    lan.rtt_hi_ms = 0.3;
    wan.rtt_lo_ms = 9;
    wan.rtt_hi_ms = 11;
    if (health) {
      entries_id_ = catalog.intern("conntrack_entries");
      limit_id_ = catalog.intern("conntrack_limit");
      drop_id_ = catalog.intern("conntrack_stat_drop");
      search_id_ = catalog.intern("conntrack_stat_search_restart");
    }
  }
  CounterCatalog catalog;
  ProbeTarget wan{catalog, ProbeSide::wan};
  ProbeTarget lan{catalog, ProbeSide::lan};
  std::vector<double> rate{20, 500};
  double entries = 3000, limit = 65536, drops_per_s = 0;
  std::int64_t t = 0;

  Sample next() {
    t += interval_s_;
    Sample s;
    s.mono_ns = t * kS;
    s.wall_ns = (kMonday + t) * kS;
    const auto dt = static_cast<double>(interval_s_);
    for (std::size_t c = 0; c < rate_ids_.size(); ++c) {
      const double mean = rate[c] * dt;
      rate_totals_[c] += static_cast<std::uint64_t>(std::max(0.0, std::round(mean + rng_.normal() * std::sqrt(mean))));
      ProbeTarget::put(s, rate_ids_[c], {rate_totals_[c], 0, true});
    }
    wan.probe_interval(dt, rng_, s);
    lan.probe_interval(dt, rng_, s);
    if (entries_id_ != kNone) {
      ++readings_;
      entries_sum_ += static_cast<std::uint64_t>(entries * (1 + 0.02 * rng_.normal()));
      limit_sum_ += static_cast<std::uint64_t>(limit);
      drops_ += static_cast<std::uint64_t>(std::round(drops_per_s * dt));
      searches_ += static_cast<std::uint64_t>(rng_.uniform(0, 40 * dt));  // busy-table noise, ignored
      ProbeTarget::put(s, entries_id_, {readings_, entries_sum_, true});
      ProbeTarget::put(s, limit_id_, {readings_, limit_sum_, true});
      ProbeTarget::put(s, drop_id_, {drops_, 0, true});
      ProbeTarget::put(s, search_id_, {searches_, 0, true});
    }
    return s;
  }

 private:
  static constexpr CounterId kNone = ~CounterId{0};
  std::int64_t interval_s_;
  Random rng_{4242};
  std::vector<CounterId> rate_ids_;
  std::vector<std::uint64_t> rate_totals_;
  CounterId entries_id_ = kNone, limit_id_ = kNone, drop_id_ = kNone, search_id_ = kNone;
  std::uint64_t readings_ = 0, entries_sum_ = 0, limit_sum_ = 0, drops_ = 0, searches_ = 0;
};

struct Seen {
  int opened = 0, closed = 0;
  std::int64_t first_open_t = -1;
  Episode last;
};

Seen feed(Analyzer& a, Router& r, std::int64_t seconds) {
  Seen seen;
  const std::int64_t until = r.t + seconds;
  while (r.t < until) {
    const StepResult& res = a.observe(r.next(), r.catalog, 0);
    if (res.change == EpisodeChange::opened) {
      ++seen.opened;
      if (seen.first_open_t < 0) seen.first_open_t = r.t;
    }
    if (res.change == EpisodeChange::closed) ++seen.closed;
    if (res.episode) seen.last = *res.episode;
  }
  return seen;
}

void check_wan_jitter_episode(std::int64_t interval_s) {
  Analyzer a(AnalyzerConfig::network(static_cast<double>(interval_s)));
  Router r(interval_s);
  REQUIRE(feed(a, r, 3 * 3600).opened == 0);
  r.wan.rtt_lo_ms = 10;
  r.wan.rtt_hi_ms = 150;
  r.wan.loss = 0.3;
  const std::int64_t start = r.t;
  const Seen during = feed(a, r, 300);
  REQUIRE(during.opened == 1);
  CHECK(during.first_open_t - start <= 3 * interval_s);
  CHECK(during.last.where == Where::isp);
  r.wan.rtt_lo_ms = 9;
  r.wan.rtt_hi_ms = 11;
  r.wan.loss = 0;
  const Seen after = feed(a, r, 600);
  const Episode& e = after.last;  // as it closed: the evidence of the whole episode
  CHECK(e.where == Where::isp);
  CHECK(e.health.wan_up);
  CHECK_FALSE(e.health.lan_up);
  INFO(e.summary);
  CHECK(e.summary.find("WAN RTT jitter") != std::string::npos);
  CHECK(e.summary.find("WAN loss") != std::string::npos);
  CHECK(e.summary.find("LAN calm") != std::string::npos);
  CHECK(after.closed == 1);
  CHECK(after.opened == 0);
}

}  // namespace

TEST_CASE("a WAN jitter episode opens within a few intervals and is the ISP's, at 1 s") { check_wan_jitter_episode(1); }
TEST_CASE("a WAN jitter episode opens within a few intervals and is the ISP's, at 5 s") { check_wan_jitter_episode(5); }
TEST_CASE("a WAN jitter episode opens within a few intervals and is the ISP's, at 30 s") { check_wan_jitter_episode(30); }

TEST_CASE("a calm LAN probe with tiny absolute changes never alarms over a day") {
  for (const std::int64_t interval_s : {1, 5, 30}) {
    INFO("interval " << interval_s << " s");
    Analyzer a(AnalyzerConfig::network(static_cast<double>(interval_s)));
    Router r(interval_s);
    r.lan.spike_probability = 0.002;  // the odd reply 1.5 ms late (the router busy for a moment)
    r.lan.spike_ms = 1.5;
    Seen day = feed(a, r, kDayS / 2);
    r.lan.rtt_lo_ms = 0.06;  // the LAN's RTT doubles: 0.05-0.1 ms more, nothing anyone feels
    r.lan.rtt_hi_ms = 0.6;
    const Seen rest = feed(a, r, kDayS / 2);
    CHECK(day.opened + rest.opened == 0);
  }
}

TEST_CASE("every probe lost leaves the RTT without a value and raises loss, at each interval") {
  for (const std::int64_t interval_s : {1, 5, 30}) {
    INFO("interval " << interval_s << " s");
    Analyzer a(AnalyzerConfig::network(static_cast<double>(interval_s)));
    Router r(interval_s);
    REQUIRE(feed(a, r, 3600).opened == 0);
    r.wan.loss = 1.0;
    const Seen lost = feed(a, r, 10 * interval_s);
    REQUIRE(lost.opened == 1);
    CHECK(lost.last.where == Where::isp);
    INFO(lost.last.summary);
    CHECK(lost.last.summary.find("WAN loss 100 %") != std::string::npos);
  }
}

TEST_CASE("sustained conntrack drops with a nearly full table are a measured conntrack_full in the router") {
  for (const std::int64_t interval_s : {1, 5, 30}) {
    INFO("interval " << interval_s << " s");
    Analyzer a(AnalyzerConfig::network(static_cast<double>(interval_s)));
    Router r(interval_s, true);
    REQUIRE(feed(a, r, 3 * 3600).opened == 0);
    r.entries = 60'300;
    r.drops_per_s = 12;
    const std::int64_t start = r.t;
    const Seen full = feed(a, r, 10 * interval_s);
    REQUIRE(full.opened == 1);
    CHECK(full.first_open_t - start <= 3 * interval_s);
    CHECK(full.last.kind == EpisodeKind::conntrack_full);
    CHECK(full.last.where == Where::router);
    INFO(full.last.summary);
    CHECK(full.last.summary.find("conntrack drops 12/s") != std::string::npos);
    CHECK(full.last.summary.find("% full (") != std::string::npos);
  }
}

TEST_CASE("a day of ordinary conntrack traffic with calm probes beside it gives the episodes it gives alone") {
  for (const double interval_s : {1.0, 30.0}) {
    INFO("interval " << interval_s << " s");
    testing::ScenarioConfig sc;
    sc.interval_s = interval_s;
    sc.days = 2;
    testing::ScenarioGenerator gen(sc);
    CounterCatalog with_probes = gen.catalog();
    ProbeTarget wan(with_probes, ProbeSide::wan), lan(with_probes, ProbeSide::lan);
    wan.rtt_lo_ms = 8;
    wan.rtt_hi_ms = 14;
    wan.loss = 0.005;
    wan.spike_probability = 0.01;
    wan.spike_ms = 30;
    lan.rtt_lo_ms = 0.03;
    lan.rtt_hi_ms = 0.4;
    Random rng(7);
    Analyzer alone(AnalyzerConfig::network(interval_s)), probed(AnalyzerConfig::network(interval_s));
    std::vector<std::int64_t> starts_alone, starts_probed;
    int isp_or_router = 0;
    for (Sample s; gen.next(s);) {
      const StepResult& a = alone.observe(s, gen.catalog(), 0);
      if (a.change == EpisodeChange::opened) starts_alone.push_back(a.episode->start_wall_ns);
      wan.probe_interval(interval_s, rng, s);
      lan.probe_interval(interval_s, rng, s);
      const StepResult& p = probed.observe(s, with_probes, 0);
      if (p.change == EpisodeChange::opened) {
        starts_probed.push_back(p.episode->start_wall_ns);
        if (p.episode->where == Where::isp || p.episode->where == Where::router) ++isp_or_router;
      }
    }
    CHECK(starts_alone.size() > 0);  // the scenario's injections: there is something to compare
    // A calm WAN still has the odd interval where most of its few probes came late (two of three
    // at 1 s: about 50 intervals in two days). Alone it opens nothing; one just before a counter
    // rise opens that episode sooner, with the WAN's RTT as its first evidence and so placed at
    // the ISP. So: the same episodes, each starting within a minute of its twin, and such a
    // coincidence at most once.
    REQUIRE(starts_probed.size() == starts_alone.size());
    for (std::size_t i = 0; i < starts_alone.size(); ++i)
      CHECK(std::llabs(starts_probed[i] - starts_alone[i]) <= 60 * kNsPerS);
    CHECK(isp_or_router <= 1);
  }
}

TEST_CASE("detector state with probe slots and an episode's where survives save and restore") {
  Analyzer a(AnalyzerConfig::network(5));
  Router r(5, true);
  feed(a, r, 3 * 3600);
  r.wan.rtt_lo_ms = 10;
  r.wan.rtt_hi_ms = 150;
  REQUIRE(feed(a, r, 60).opened == 1);
  const std::string saved = a.save_state();
  Analyzer b(AnalyzerConfig::network(5));
  REQUIRE(b.restore_state(saved).ok);
  REQUIRE(b.open_episode() != nullptr);
  CHECK(*b.open_episode() == *a.open_episode());
  CHECK(b.open_episode()->where == Where::isp);
  CHECK(b.save_state() == saved);
}

}  // namespace ctmon
