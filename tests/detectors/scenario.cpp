#include "tests/detectors/scenario.h"

#include "core/episode.h"
#include "core/time.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <string>

namespace ctmon::testing {
namespace {


struct CounterSpec {
  const char* name;
  double level_pps;  // at the evening peak
};
// Levels of a busy home: forwarded traffic dominates, the router's own traffic is small.
constexpr CounterSpec kCounters[] = {
    {"tcp_conntrack_fwd_new", 15},       {"tcp_conntrack_fwd_established", 800},
    {"tcp_conntrack_fwd_invalid", 2},    {"tcp_conntrack_input_new", 1},
    {"tcp_conntrack_input_established", 20}, {"tcp_conntrack_input_invalid", 0.5},
    {"tcp_conntrack_output_new", 1},     {"tcp_conntrack_output_established", 20},
    {"tcp_conntrack_output_invalid", 0.2}, {"udp_conntrack_fwd_new", 8},
    {"udp_conntrack_fwd_established", 300}, {"udp_conntrack_fwd_invalid", 0.3},
    {"udp_conntrack_input_new", 2},      {"udp_conntrack_input_established", 10},
    {"udp_conntrack_input_invalid", 0.1}, {"udp_conntrack_output_new", 2},
    {"udp_conntrack_output_established", 10}, {"udp_conntrack_output_invalid", 0.1},
};
enum : CounterId {
  kTcpFwdNew, kTcpFwdEst, kTcpFwdInv, kTcpInNew, kTcpInEst, kTcpInInv, kTcpOutNew, kTcpOutEst, kTcpOutInv,
  kUdpFwdNew, kUdpFwdEst, kUdpFwdInv, kUdpInNew, kUdpInEst, kUdpInInv, kUdpOutNew, kUdpOutEst, kUdpOutInv,
};

// How an injected episode of intensity m changes the counters: "up" adds (m - 1) times the
// larger of the base rate and a floor (a 3x burst of a counter that is nearly 0 must still be a
// burst someone could see), "down" divides by m.
struct Effect {
  CounterId id;
  bool up;
  double floor_pps;
};
std::vector<Effect> effects_of(EpisodeKind kind) {
  switch (kind) {
    case EpisodeKind::wan_drop:
      return {{kTcpFwdEst, false, 0}, {kUdpFwdEst, false, 0}, {kTcpFwdNew, true, 5}, {kTcpFwdInv, true, 2}};
    case EpisodeKind::invalid_burst: return {{kTcpFwdInv, true, 2}, {kTcpInInv, true, 2}};
    case EpisodeKind::scan: return {{kTcpInNew, true, 5}, {kTcpInInv, true, 1}};
    case EpisodeKind::udp_storm: return {{kUdpFwdNew, true, 5}, {kUdpFwdEst, true, 0}};
    case EpisodeKind::conntrack_full: return {{kTcpFwdNew, true, 5}, {kUdpFwdNew, true, 5}, {kUdpFwdInv, true, 2}};
    case EpisodeKind::unknown: break;
  }
  return {};
}

}  // namespace

std::uint64_t ScenarioGenerator::Rng::next_u64() {  // splitmix64
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double ScenarioGenerator::Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double ScenarioGenerator::Rng::normal() {  // Box-Muller, one of the pair
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::uint64_t ScenarioGenerator::Rng::poisson(double mean) {
  if (mean <= 0) return 0;
  if (mean > 30) {  // normal approximation: exact enough for counts this large
    const double x = std::round(mean + std::sqrt(mean) * normal());
    return x < 0 ? 0 : static_cast<std::uint64_t>(x);
  }
  const double limit = std::exp(-mean);  // Knuth
  std::uint64_t k = 0;
  double p = uniform();
  while (p > limit) {
    ++k;
    p *= uniform();
  }
  return k;
}

ScenarioGenerator::ScenarioGenerator(const ScenarioConfig& config) : config_(config), rng_{config.seed} {
  for (const auto& spec : kCounters) {
    catalog_.intern(spec.name);
    level_pps_.push_back(spec.level_pps);
  }
  totals_.assign(level_pps_.size(), 0);
  for (auto& t : totals_) t = rng_.next_u64() % 1'000'000;  // counters were running before
  steps_total_ = static_cast<std::int64_t>(config_.days * kSecondsPerDay / config_.interval_s);
  plan();
}

double ScenarioGenerator::base_rate(CounterId c, double true_s) const {
  const double local_s = true_s + static_cast<double>(config_.local_offset_s);
  const double day = std::floor(local_s / kSecondsPerDay);
  const double hour = (local_s - day * kSecondsPerDay) / 3600.0;
  const auto weekday = (static_cast<std::int64_t>(day) + 3) % 7;  // 1970-01-01 was a Thursday
  const bool weekend = weekday >= 5;
  auto bump = [hour](double centre, double width) {
    double d = std::fabs(hour - centre);
    d = std::min(d, 24.0 - d);
    return std::exp(-(d / width) * (d / width));
  };
  const double shape = 0.25 + 0.75 * bump(20.5, 3.5) + (weekend ? 0.5 : 0.2) * bump(13.0, 3.0);
  return level_pps_[c] * shape;
}

void ScenarioGenerator::plan() {
  const double total_s = config_.days * kSecondsPerDay;
  const std::int64_t t0 = config_.start_wall_s;
  auto ns = [](double s) { return static_cast<std::int64_t>(s * kNsPerS); };
  auto day_of = [](double s) { return static_cast<int>(s / kSecondsPerDay); };
  // Busy stretches (mono seconds) an injected episode must keep clear of, so labels stay clean.
  std::vector<std::pair<double, double>> busy;
  constexpr double kClearanceS = 900;

  if (config_.nightly_job) {
    for (int d = 0; d < config_.days; ++d) {
      // 03:00 local on day d, in seconds since the scenario started.
      const double midnight = d * kSecondsPerDay - std::fmod(static_cast<double>(t0 + config_.local_offset_s), kSecondsPerDay);
      const double start = midnight + 3 * 3600 + 120 * rng_.uniform();
      const double end = start + 1200 + 1200 * rng_.uniform();
      if (start < 0 || end > total_s) continue;
      markers_.push_back({MarkerKind::nightly_job, d, ns(start), ns(end)});
      bumps_.push_back({ns(start), ns(end), {{kTcpFwdNew, 4.0}, {kTcpFwdEst, 2.5}}});
      busy.emplace_back(start, end);
    }
  }
  auto random_times = [&](double per_day, double from_s) {
    std::vector<double> out;
    const int n = static_cast<int>(std::round(per_day * config_.days));
    for (int i = 0; i < n; ++i) out.push_back(from_s + (total_s - from_s - 3600) * rng_.uniform());
    std::sort(out.begin(), out.end());
    return out;
  };
  for (double t : random_times(config_.resets_per_day, 3600)) {
    markers_.push_back({MarkerKind::reset, day_of(t), ns(t), ns(t)});
    busy.emplace_back(t, t);
  }
  for (double t : random_times(config_.gaps_per_day, 3600)) {
    const double len = config_.interval_s * (5 + 55 * rng_.uniform());
    markers_.push_back({MarkerKind::gap, day_of(t), ns(t), ns(t + len)});
    busy.emplace_back(t, t + len);
  }
  for (double t : random_times(config_.clock_jumps_per_day, 3600)) {
    const double len = 120 + 480 * rng_.uniform();  // the clock is wrong this long, then NTP fixes it
    markers_.push_back({MarkerKind::clock_jump, day_of(t), ns(t), ns(t + len)});
    busy.emplace_back(t, t + len);
  }
  for (double t : random_times(config_.short_bursts_per_day, 0)) {
    // A page load or a DNS flurry: a one-interval spike of up to 4x, or a milder one of 2-3.
    const bool longer = rng_.uniform() < 0.3;
    const double len = config_.interval_s * (longer ? 2 + std::floor(2 * rng_.uniform()) : 1);
    const double factor = longer ? 1.5 + 0.5 * rng_.uniform() : 2.0 + 2.0 * rng_.uniform();
    const CounterId c = rng_.uniform() < 0.5 ? kTcpFwdNew : kUdpFwdNew;
    bumps_.push_back({ns(t), ns(t + len), {{c, factor}}});
  }
  for (double t : random_times(config_.downloads_per_day, 0)) {
    const double len = 600 + 1200 * rng_.uniform();
    bumps_.push_back({ns(t), ns(t + len), {{kTcpFwdEst, 1.3 + 0.7 * rng_.uniform()}}});
  }

  const double from = config_.first_episode_day * kSecondsPerDay;
  const int wanted = static_cast<int>(std::round(config_.episodes_per_day * (config_.days - config_.first_episode_day)));
  constexpr EpisodeKind kKinds[] = {EpisodeKind::wan_drop, EpisodeKind::invalid_burst, EpisodeKind::scan,
                                    EpisodeKind::udp_storm, EpisodeKind::conntrack_full};
  for (int tries = 0; static_cast<int>(episodes_.size()) < wanted && tries < wanted * 50; ++tries) {
    const double start = std::floor((from + (total_s - from - 600) * rng_.uniform()) / config_.interval_s) * config_.interval_s;
    const double end = start + 20 + 280 * rng_.uniform();
    const bool clash = std::any_of(busy.begin(), busy.end(), [&](const auto& b) {
      return start < b.second + kClearanceS && end > b.first - kClearanceS;
    });
    if (clash) continue;
    const double intensity = config_.min_intensity * std::pow(config_.max_intensity / config_.min_intensity, rng_.uniform());
    const EpisodeKind kind = kKinds[episodes_.size() % 5];
    episodes_.push_back({kind, intensity, ns(start), ns(end)});
    busy.emplace_back(start, end);
  }
  std::sort(episodes_.begin(), episodes_.end(), [](const auto& a, const auto& b) { return a.start_mono_ns < b.start_mono_ns; });
  std::sort(bumps_.begin(), bumps_.end(), [](const Bump& a, const Bump& b) { return a.start_ns < b.start_ns; });
}

bool ScenarioGenerator::next(Sample& out) {
  constexpr double kSlowTauS = 600, kSlowSd = 0.2;  // shared load wandering over minutes
  constexpr double kFastTauS = 5, kFastSd = 0.05;   // shared jitter
  constexpr double kOwnSd = 0.1;                    // per-counter over-dispersion
  const double dt = config_.interval_s;
  const double a_slow = std::exp(-dt / kSlowTauS), a_fast = std::exp(-dt / kFastTauS);
  const std::size_t n = level_pps_.size();
  std::vector<double> rate(n);

  while (step_ < steps_total_) {
    const std::int64_t mono_ns = static_cast<std::int64_t>(static_cast<double>(step_) * dt * kNsPerS);
    const double true_s = static_cast<double>(config_.start_wall_s) + static_cast<double>(step_) * dt;
    ++step_;
    shared_slow_ = a_slow * shared_slow_ + std::sqrt(1 - a_slow * a_slow) * kSlowSd * rng_.normal();
    shared_fast_ = a_fast * shared_fast_ + std::sqrt(1 - a_fast * a_fast) * kFastSd * rng_.normal();
    // Traffic during the interval that ends now, sampled at its midpoint.
    const std::int64_t mid_ns = mono_ns - static_cast<std::int64_t>(dt * kNsPerS / 2);
    for (std::size_t c = 0; c < n; ++c) {
      rate[c] = base_rate(static_cast<CounterId>(c), true_s - dt / 2) *
                std::exp(shared_slow_ + shared_fast_ + kOwnSd * rng_.normal());
    }
    for (const Bump& b : bumps_) {
      if (b.start_ns > mid_ns) break;
      if (mid_ns >= b.end_ns) continue;
      for (const auto& [c, f] : b.factor) rate[c] *= f;
    }
    for (const InjectedEpisode& e : episodes_) {
      if (e.start_mono_ns > mid_ns) break;
      if (mid_ns >= e.end_mono_ns) continue;
      for (const Effect& fx : effects_of(e.kind)) {
        const double base = base_rate(fx.id, true_s - dt / 2);
        rate[fx.id] = fx.up ? rate[fx.id] + (e.intensity - 1) * std::max(base, fx.floor_pps) : rate[fx.id] / e.intensity;
      }
    }
    for (std::size_t c = 0; c < n; ++c) totals_[c] += rng_.poisson(rate[c] * dt);

    bool skip = false;
    std::int64_t wall_error_s = 0;
    for (const Marker& m : markers_) {
      if (m.kind == MarkerKind::reset && mono_ns >= m.start_ns && mono_ns - m.start_ns < static_cast<std::int64_t>(dt * kNsPerS)) {
        for (auto& t : totals_) t = rng_.next_u64() % 50;  // reloaded rules count from ~0
      }
      if (m.kind == MarkerKind::gap && mono_ns >= m.start_ns && mono_ns < m.end_ns) skip = true;
      // A router that booted without RTC: its clock is years behind until NTP steps it.
      if (m.kind == MarkerKind::clock_jump && mono_ns >= m.start_ns && mono_ns < m.end_ns) wall_error_s = -3 * 365 * 86400 - 7777;
    }
    if (skip) continue;

    out.mono_ns = mono_ns;
    out.wall_ns = (static_cast<std::int64_t>(true_s) + wall_error_s) * kNsPerS +
                  static_cast<std::int64_t>(std::fmod(true_s, 1.0) * kNsPerS);
    out.counters.resize(n);
    for (std::size_t c = 0; c < n; ++c) out.counters[c] = CounterTotals{totals_[c], totals_[c] * 700, true};
    return true;
  }
  return false;
}

ScenarioReport run_scenario(const ScenarioConfig& scenario, const AnalyzerConfig& config) {
  ScenarioGenerator gen(scenario);
  Analyzer analyzer(config);
  struct Detected {
    std::int64_t open_ns, close_ns;
    EpisodeKind kind;
    std::string summary;
    std::uint8_t detectors;
  };
  std::vector<Detected> detected;
  Sample s;
  std::int64_t last_ns = 0;
  while (gen.next(s)) {
    last_ns = s.mono_ns;
    const StepResult& r = analyzer.observe(s, gen.catalog(), scenario.local_offset_s);
    if (r.change == EpisodeChange::opened) detected.push_back({s.mono_ns, -1, r.episode->kind, {}, 0});
    if (r.change != EpisodeChange::none && !detected.empty()) {
      detected.back().kind = r.episode->kind;
      detected.back().summary = r.episode->summary;
      detected.back().detectors = r.episode->detectors;
    }
    if (r.change == EpisodeChange::closed && !detected.empty()) detected.back().close_ns = s.mono_ns;
  }
  for (auto& d : detected)
    if (d.close_ns < 0) d.close_ns = last_ns;

  const std::int64_t slack_ns = 120 * kNsPerS;
  const auto interval_ns = static_cast<std::int64_t>(scenario.interval_s * kNsPerS);
  ScenarioReport rep;
  rep.evaluated_days = scenario.days - scenario.first_episode_day;
  std::vector<bool> used(detected.size(), false);
  for (const InjectedEpisode& e : gen.episodes()) {
    ++rep.injected;
    const bool big = e.intensity >= 3.0;
    rep.injected_3x += big;
    bool found = false;
    for (std::size_t i = 0; i < detected.size(); ++i) {
      const Detected& d = detected[i];
      if (d.close_ns < e.start_mono_ns || d.open_ns > e.end_mono_ns + slack_ns) continue;
      used[i] = true;  // every reported piece of an injected episode is a true one
      if (found) continue;
      found = true;
      ++rep.detected_all;
      if (big) {
        ++rep.detected_3x;
        // The first sample that can show the episode is the one closing the interval it began in.
        const std::int64_t first_visible = (e.start_mono_ns / interval_ns + 1) * interval_ns;
        rep.delays.push_back(static_cast<double>(std::max<std::int64_t>(0, d.open_ns - first_visible)) / interval_ns);
        rep.kind_correct_3x += d.kind == e.kind;
      }
    }
  }
  const auto first_counted_ns = static_cast<std::int64_t>(scenario.first_episode_day * kSecondsPerDay * kNsPerS);
  for (std::size_t i = 0; i < detected.size(); ++i) {
    const Detected& d = detected[i];
    bool at_job_early = false, at_job_late = false, at_disturbance = false;
    for (const Marker& m : gen.markers()) {
      const bool overlaps = d.open_ns >= m.start_ns - slack_ns && d.open_ns <= m.end_ns + slack_ns;
      const bool soon_after = d.open_ns >= m.start_ns && d.open_ns <= m.end_ns + 300 * kNsPerS;
      if (m.kind == MarkerKind::nightly_job && overlaps) (m.day >= 3 ? at_job_late : at_job_early) = true;
      if (m.kind != MarkerKind::nightly_job && soon_after) at_disturbance = true;
    }
    rep.nightly_alarms_after_day3 += at_job_late;
    rep.alarms_at_disturbances += at_disturbance;
    if (d.open_ns < first_counted_ns || (at_job_early && !used[i])) continue;
    ++rep.episodes_reported;
    if (used[i]) {
      ++rep.true_episodes;
    } else {
      ++rep.false_episodes;
      const std::int64_t t = d.open_ns / kNsPerS;
      char when[96];
      std::snprintf(when, sizeof when, "day %lld %02lld:%02lld:%02lld dur %llds [%s%s%s%s] ", static_cast<long long>(t / 86400),
                    static_cast<long long>(t % 86400 / 3600), static_cast<long long>(t % 3600 / 60),
                    static_cast<long long>(t % 60), static_cast<long long>((d.close_ns - d.open_ns) / kNsPerS),
                    d.detectors & kDetectorPoint ? "point " : "", d.detectors & kDetectorCusum ? "cusum " : "",
                    d.detectors & kDetectorMultivariate ? "mv " : "", d.detectors & kDetectorSeasonal ? "seasonal" : "");
      rep.false_descriptions.push_back(when + d.summary);
    }
  }
  if (!rep.delays.empty()) {
    std::vector<double> d = rep.delays;
    std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
    rep.median_delay_intervals = d[d.size() / 2];
  }
  return rep;
}

}  // namespace ctmon::testing
