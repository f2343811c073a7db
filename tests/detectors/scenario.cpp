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
// Shapes of the day and week per household: shape(hour) = night + evening_w * bump(evening) +
// (weekday_w or weekend_w) * bump(day), times the peak levels above scaled per counter group.
struct ProfileSpec {
  double scale_fwd_tcp, scale_fwd_udp, scale_local;
  double night, evening_w, evening_c, evening_width, day_c, day_width, weekday_w, weekend_w;
};
constexpr ProfileSpec kProfiles[] = {
    /* classic      */ {1.0, 1.0, 1.0, 0.25, 0.75, 20.5, 3.5, 13.0, 3.0, 0.2, 0.5},
    /* single       */ {0.25, 0.3, 0.6, 0.12, 0.88, 21.5, 2.5, 14.0, 3.0, 0.05, 0.45},
    /* family       */ {1.6, 1.8, 1.2, 0.15, 0.85, 19.5, 3.0, 15.5, 3.5, 0.45, 0.8},
    /* home_office  */ {0.9, 0.7, 1.0, 0.15, 0.5, 21.0, 2.5, 12.5, 3.5, 0.85, 0.25},
    /* small_office */ {3.0, 2.0, 2.0, 0.05, 0.1, 20.0, 2.0, 13.0, 4.0, 0.95, 0.05},
};
double profile_scale(const ProfileSpec& p, CounterId c) {
  const bool fwd = c == kTcpFwdNew || c == kTcpFwdEst || c == kTcpFwdInv || c == kUdpFwdNew || c == kUdpFwdEst ||
                   c == kUdpFwdInv;
  if (!fwd) return p.scale_local;
  return c <= kTcpOutInv ? p.scale_fwd_tcp : p.scale_fwd_udp;
}

EpisodeKind expected_kind(Injection i) {
  switch (i) {
    case Injection::wan_drop: case Injection::wan_outage: case Injection::wan_loss: return EpisodeKind::wan_drop;
    case Injection::invalid_burst: case Injection::slow_invalid_burst: return EpisodeKind::invalid_burst;
    case Injection::scan: case Injection::slow_scan: return EpisodeKind::scan;
    case Injection::udp_storm: case Injection::short_udp_storm: return EpisodeKind::udp_storm;
    case Injection::conntrack_full: return EpisodeKind::conntrack_full;
  }
  return EpisodeKind::unknown;
}

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

std::uint64_t splitmix(std::uint64_t& state) {  // splitmix64
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

const char* to_string(Profile p) {
  switch (p) {
    case Profile::classic: return "classic";
    case Profile::single: return "single";
    case Profile::family: return "family";
    case Profile::home_office: return "home_office";
    case Profile::small_office: return "small_office";
  }
  return "?";
}

const char* to_string(Injection i) {
  switch (i) {
    case Injection::wan_drop: return "wan_drop";
    case Injection::invalid_burst: return "invalid_burst";
    case Injection::scan: return "scan";
    case Injection::udp_storm: return "udp_storm";
    case Injection::conntrack_full: return "conntrack_full";
    case Injection::wan_outage: return "wan_outage";
    case Injection::wan_loss: return "wan_loss";
    case Injection::slow_scan: return "slow_scan";
    case Injection::slow_invalid_burst: return "slow_invalid_burst";
    case Injection::short_udp_storm: return "short_udp_storm";
  }
  return "?";
}

ScenarioConfig suite(std::uint64_t seed, double interval_s, int days) {
  std::uint64_t state = seed ^ 0x5EED5EED0000ULL;
  auto uniform = [&state] { return static_cast<double>(splitmix(state) >> 11) * 0x1.0p-53; };
  ScenarioConfig c;
  c.seed = seed;
  c.interval_s = interval_s;
  c.days = days;
  constexpr Profile kDrawn[] = {Profile::single, Profile::family, Profile::home_office, Profile::small_office};
  c.profile = kDrawn[splitmix(state) % 4];
  constexpr std::int64_t kOffsets[] = {0, 3600, 7200, -5 * 3600};
  c.local_offset_s = kOffsets[splitmix(state) % 4];
  c.nightly_start_jitter_s = 1200 + 2400 * uniform();  // the backup starts within 20..60 min
  c.nightly_skip_probability = 0.3 * uniform();
  c.second_nightly_job = uniform() < 0.5;
  c.episodes_per_day = 5;  // one of each classic kind per day, even on the one scored day at 1 s
  c.outages_per_day = 1;
  c.losses_per_day = 1;
  c.slow_attacks_per_day = 1;
  c.short_storms_per_day = 1;
  c.same_hour_repeats = std::max(1, days / 4);
  return c;
}

std::uint64_t ScenarioGenerator::Rng::next_u64() { return splitmix(state); }

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

ScenarioGenerator::ScenarioGenerator(const ScenarioConfig& config)
    : config_(config), rng_{config.seed}, extra_{config.seed ^ 0xA5A5F00DULL} {
  const ProfileSpec& profile = kProfiles[static_cast<int>(config_.profile)];
  for (const auto& spec : kCounters) {
    const CounterId id = catalog_.intern(spec.name);
    level_pps_.push_back(spec.level_pps * profile_scale(profile, id));
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
  const ProfileSpec& p = kProfiles[static_cast<int>(config_.profile)];
  const double shape = p.night + p.evening_w * bump(p.evening_c, p.evening_width) +
                       (weekend ? p.weekend_w : p.weekday_w) * bump(p.day_c, p.day_width);
  return level_pps_[c] * shape;
}

double ScenarioGenerator::midnight_s(int day) const {
  return day * kSecondsPerDay -
         std::fmod(static_cast<double>(config_.start_wall_s + config_.local_offset_s), kSecondsPerDay);
}

void ScenarioGenerator::plan() {
  const double total_s = config_.days * kSecondsPerDay;
  auto ns = [](double s) { return static_cast<std::int64_t>(s * kNsPerS); };
  auto day_of = [](double s) { return static_cast<int>(s / kSecondsPerDay); };
  // Busy stretches (mono seconds) an injected episode must keep clear of, so labels stay clean.
  std::vector<std::pair<double, double>> busy;
  constexpr double kClearanceS = 900;

  if (config_.nightly_job) {
    for (int d = 0; d < config_.days; ++d) {
      // 03:00 local on day d, in seconds since the scenario started.
      const double start = midnight_s(d) + 3 * 3600 + config_.nightly_start_jitter_s * rng_.uniform();
      const double end = start + 1200 + 1200 * rng_.uniform();
      if (start < 0 || end > total_s) continue;
      if (config_.nightly_skip_probability > 0 && extra_.uniform() < config_.nightly_skip_probability) continue;
      markers_.push_back({MarkerKind::nightly_job, d, ns(start), ns(end)});
      bumps_.push_back({ns(start), ns(end), {{kTcpFwdNew, 4.0}, {kTcpFwdEst, 2.5}}});
      busy.emplace_back(start, end);
    }
  }
  if (config_.second_nightly_job) {
    for (int d = 0; d < config_.days; ++d) {
      // A cloud photo sync: UDP-heavy, around 01:30, on about 60 % of the nights.
      const double start = midnight_s(d) + 1.5 * 3600 + config_.nightly_start_jitter_s * extra_.uniform();
      const double end = start + 600 + 1200 * extra_.uniform();
      const bool runs = extra_.uniform() < 0.6;
      if (!runs || start < 0 || end > total_s) continue;
      markers_.push_back({MarkerKind::nightly_job, d, ns(start), ns(end), true});
      bumps_.push_back({ns(start), ns(end), {{kUdpFwdNew, 3.0}, {kUdpFwdEst, 2.0}}});
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
    episodes_.push_back({kind, intensity, ns(start), ns(end), static_cast<Injection>(episodes_.size() % 5)});
    busy.emplace_back(start, end);
  }
  plan_extra(busy);
  std::sort(episodes_.begin(), episodes_.end(), [](const auto& a, const auto& b) { return a.start_mono_ns < b.start_mono_ns; });
  std::sort(bumps_.begin(), bumps_.end(), [](const Bump& a, const Bump& b) { return a.start_ns < b.start_ns; });
}

void ScenarioGenerator::plan_extra(std::vector<std::pair<double, double>>& busy) {
  const double total_s = config_.days * kSecondsPerDay;
  const double from = config_.first_episode_day * kSecondsPerDay;
  const double eval_days = config_.days - config_.first_episode_day;
  auto ns = [](double s) { return static_cast<std::int64_t>(s * kNsPerS); };
  constexpr double kClearanceS = 900;
  auto clear = [&](double start, double end) {
    return std::none_of(busy.begin(), busy.end(), [&](const auto& b) {
      return start < b.second + kClearanceS && end > b.first - kClearanceS;
    });
  };
  auto aligned = [&](double s) { return std::floor(s / config_.interval_s) * config_.interval_s; };
  auto log_uniform = [&](double lo, double hi) { return lo * std::pow(hi / lo, extra_.uniform()); };
  // Places `per_day` injections a day; `make` draws one starting at `start` (its end and labels).
  auto place = [&](double per_day, auto make) {
    const int wanted = static_cast<int>(std::round(per_day * eval_days));
    for (int placed = 0, tries = 0; placed < wanted && tries < wanted * 50; ++tries) {
      const double start = aligned(from + (total_s - from - 1800) * extra_.uniform());
      InjectedEpisode e = make(start, placed);
      if (!clear(start, static_cast<double>(e.end_mono_ns) / kNsPerS)) continue;
      busy.emplace_back(start, static_cast<double>(e.end_mono_ns) / kNsPerS);
      episodes_.push_back(e);
      ++placed;
    }
  };
  place(config_.outages_per_day, [&](double start, int) {
    InjectedEpisode e;
    e.injection = Injection::wan_outage;
    e.outage_share = 0.55 + 0.38 * extra_.uniform();
    e.intensity = 1 / (1 - e.outage_share);
    e.start_mono_ns = ns(start);
    e.fall_end_mono_ns = ns(start + 120 + 480 * extra_.uniform());
    e.end_mono_ns = e.fall_end_mono_ns + ns(20 + 40 * extra_.uniform());  // reconnect storm
    return e;
  });
  place(config_.losses_per_day, [&](double start, int) {
    InjectedEpisode e;
    e.injection = Injection::wan_loss;
    e.intensity = 1.3 + 0.3 * extra_.uniform();
    e.start_mono_ns = ns(start);
    e.end_mono_ns = ns(start + 30 + 30 * extra_.uniform());
    return e;
  });
  place(config_.slow_attacks_per_day, [&](double start, int i) {
    InjectedEpisode e;
    e.injection = (i + config_.seed) % 2 ? Injection::slow_invalid_burst : Injection::slow_scan;
    e.intensity = 5 + 5 * extra_.uniform();
    e.start_mono_ns = ns(start);
    e.end_mono_ns = ns(start + 360 + 60 * extra_.uniform());
    return e;
  });
  place(config_.short_storms_per_day, [&](double start, int) {
    InjectedEpisode e;
    e.injection = Injection::short_udp_storm;
    e.intensity = log_uniform(3, 20);
    e.start_mono_ns = ns(start);
    e.end_mono_ns = ns(start + 15 + 40 * extra_.uniform());
    return e;
  });
  // Same-hour pairs: the first may fall on the learning day (what was learned yesterday must not
  // hide today's), the second exactly one day later, so at the same local time.
  const int first_day = std::max(0, config_.first_episode_day - 1);
  const int days_for_first = config_.days - 1 - first_day;
  for (int pair = 0, tries = 0; pair < config_.same_hour_repeats && days_for_first > 0 && tries < 200; ++tries) {
    const int day = first_day + static_cast<int>(extra_.next_u64() % static_cast<std::uint64_t>(days_for_first));
    const double start = aligned(day * kSecondsPerDay + 7200 + (kSecondsPerDay - 10800) * extra_.uniform());
    const double len = 60 + 240 * extra_.uniform();
    const double next_start = start + kSecondsPerDay;
    if (!clear(start, start + len) || !clear(next_start, next_start + len) || next_start + len > total_s) continue;
    InjectedEpisode e;
    e.injection = static_cast<Injection>(pair % 5);
    e.intensity = log_uniform(3, 20);
    e.repeat_pair = pair;
    for (int k = 0; k < 2; ++k) {
      const double s = start + k * kSecondsPerDay;
      e.start_mono_ns = ns(s);
      e.end_mono_ns = ns(s + len);
      e.repeat_index = k;
      episodes_.push_back(e);
      busy.emplace_back(s, s + len);
    }
    ++pair;
  }
  for (InjectedEpisode& e : episodes_) e.kind = expected_kind(e.injection);
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
    // Traffic during the interval that ends now: the household's rates at its midpoint, and each
    // bump or injection weighted by the share of the interval it covers, as a cumulative counter
    // sees it (a 20 s storm in a 30 s interval is two thirds of that interval's rate; were it
    // all or nothing, at 30 s a third of such storms would fall between two midpoints and leave
    // no trace at all).
    const auto interval_ns = static_cast<std::int64_t>(dt * kNsPerS);
    const std::int64_t from_ns = mono_ns - interval_ns;
    auto share = [&](std::int64_t start_ns, std::int64_t end_ns) {
      const std::int64_t covered = std::min(end_ns, mono_ns) - std::max(start_ns, from_ns);
      return covered > 0 ? static_cast<double>(covered) / static_cast<double>(interval_ns) : 0.0;
    };
    for (std::size_t c = 0; c < n; ++c) {
      rate[c] = base_rate(static_cast<CounterId>(c), true_s - dt / 2) *
                std::exp(shared_slow_ + shared_fast_ + kOwnSd * rng_.normal());
    }
    for (const Bump& b : bumps_) {
      if (b.start_ns >= mono_ns) break;
      const double w = share(b.start_ns, b.end_ns);
      if (w == 0) continue;
      for (const auto& [c, f] : b.factor) rate[c] *= 1 + (f - 1) * w;
    }
    for (const InjectedEpisode& e : episodes_) {
      if (e.start_mono_ns >= mono_ns) break;
      const double w = share(e.start_mono_ns, e.end_mono_ns);
      if (w == 0) continue;
      auto add = [&](CounterId c, double factor, double floor_pps, double weight) {
        rate[c] += (factor - 1) * std::max(base_rate(c, true_s - dt / 2), floor_pps) * weight;
      };
      switch (e.injection) {
        case Injection::wan_outage: {
          const double fallen = share(e.start_mono_ns, e.fall_end_mono_ns);
          rate[kTcpFwdEst] *= 1 - e.outage_share * fallen;
          rate[kUdpFwdEst] *= 1 - e.outage_share * fallen;
          // Then every device reconnects at once.
          const double reconnecting = share(e.fall_end_mono_ns, e.end_mono_ns);
          add(kTcpFwdNew, 1 + 4 * e.outage_share, 5, reconnecting);
          add(kUdpFwdNew, 1 + 4 * e.outage_share, 5, reconnecting);
          break;
        }
        case Injection::wan_loss:  // retransmitted handshakes and retries: more new, same established
          rate[kTcpFwdNew] *= 1 + (e.intensity - 1) * w;
          rate[kUdpFwdNew] *= 1 + (e.intensity - 1) * w;
          break;
        case Injection::slow_scan:
          add(kTcpInNew, e.intensity, 0.5, w);
          add(kTcpInInv, e.intensity, 0.2, w);
          break;
        case Injection::slow_invalid_burst:
          add(kTcpFwdInv, e.intensity, 0.5, w);
          add(kTcpInInv, e.intensity, 0.5, w);
          break;
        default:
          for (const Effect& fx : effects_of(e.kind)) {
            if (fx.up)
              add(fx.id, e.intensity, fx.floor_pps, w);
            else
              rate[fx.id] *= 1 - w + w / e.intensity;
          }
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

ScenarioReport& ScenarioReport::operator+=(const ScenarioReport& o) {
  injected += o.injected;
  injected_3x += o.injected_3x;
  detected_3x += o.detected_3x;
  detected_all += o.detected_all;
  episodes_reported += o.episodes_reported;
  true_episodes += o.true_episodes;
  false_episodes += o.false_episodes;
  nightly_alarms_after_day3 += o.nightly_alarms_after_day3;
  alarms_at_disturbances += o.alarms_at_disturbances;
  kind_correct_3x += o.kind_correct_3x;
  evaluated_days += o.evaluated_days;
  delays.insert(delays.end(), o.delays.begin(), o.delays.end());
  false_descriptions.insert(false_descriptions.end(), o.false_descriptions.begin(), o.false_descriptions.end());
  missed_descriptions.insert(missed_descriptions.end(), o.missed_descriptions.begin(), o.missed_descriptions.end());
  short_descriptions.insert(short_descriptions.end(), o.short_descriptions.begin(), o.short_descriptions.end());
  wrong_kind_descriptions.insert(wrong_kind_descriptions.end(), o.wrong_kind_descriptions.begin(),
                                 o.wrong_kind_descriptions.end());
  for (int k = 0; k < kInjectionKinds; ++k) {
    by_injection[k].injected += o.by_injection[k].injected;
    by_injection[k].found += o.by_injection[k].found;
    by_injection[k].kind_right += o.by_injection[k].kind_right;
  }
  for (int k = 0; k < 6; ++k) {
    by_expected[k].injected += o.by_expected[k].injected;
    by_expected[k].found += o.by_expected[k].found;
    by_expected[k].kind_right += o.by_expected[k].kind_right;
  }
  outage_open_delay_s.insert(outage_open_delay_s.end(), o.outage_open_delay_s.begin(), o.outage_open_delay_s.end());
  if (nightly_alarms_by_night.size() < o.nightly_alarms_by_night.size())
    nightly_alarms_by_night.resize(o.nightly_alarms_by_night.size(), 0);
  for (std::size_t n = 0; n < o.nightly_alarms_by_night.size(); ++n) nightly_alarms_by_night[n] += o.nightly_alarms_by_night[n];
  irregular_job_alarms_after_night3 += o.irregular_job_alarms_after_night3;
  nightly_alarms_after_run3 += o.nightly_alarms_after_run3;
  repeats += o.repeats;
  repeats_found += o.repeats_found;
  short_faults += o.short_faults;
  short_length_error_intervals.insert(short_length_error_intervals.end(), o.short_length_error_intervals.begin(),
                                      o.short_length_error_intervals.end());
  if (!delays.empty()) {
    std::vector<double> d = delays;
    std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
    median_delay_intervals = d[d.size() / 2];
  }
  return *this;
}

ScenarioReport run_scenario(const ScenarioConfig& scenario, const AnalyzerConfig& config) {
  ScenarioGenerator gen(scenario);
  Analyzer analyzer(config);
  struct Detected {
    std::int64_t open_ns, close_ns;
    EpisodeKind kind;
    std::string summary;
    std::uint8_t detectors;
    std::int64_t length_ns;  ///< last active sample - first sample, once closed; -1 while open
  };
  std::vector<Detected> detected;
  Sample s;
  std::int64_t last_ns = 0;
  while (gen.next(s)) {
    last_ns = s.mono_ns;
    const StepResult& r = analyzer.observe(s, gen.catalog(), scenario.local_offset_s);
    if (r.change == EpisodeChange::opened) detected.push_back({s.mono_ns, -1, r.episode->kind, {}, 0, -1});
    if (r.change != EpisodeChange::none && !detected.empty()) {
      detected.back().kind = r.episode->kind;
      detected.back().summary = r.episode->summary;
      detected.back().detectors = r.episode->detectors;
    }
    if (r.change == EpisodeChange::closed && !detected.empty()) {
      detected.back().close_ns = s.mono_ns;
      detected.back().length_ns = r.episode->end_wall_ns - r.episode->start_wall_ns;
    }
  }
  for (auto& d : detected)
    if (d.close_ns < 0) d.close_ns = last_ns;

  const std::int64_t slack_ns = 120 * kNsPerS;
  const auto interval_ns = static_cast<std::int64_t>(scenario.interval_s * kNsPerS);
  const auto first_counted_ns = static_cast<std::int64_t>(scenario.first_episode_day * kSecondsPerDay * kNsPerS);
  ScenarioReport rep;
  rep.evaluated_days = scenario.days - scenario.first_episode_day;
  std::vector<bool> used(detected.size(), false);
  for (const InjectedEpisode& e : gen.episodes()) {
    const Detected* match = nullptr;
    for (std::size_t i = 0; i < detected.size(); ++i) {
      const Detected& d = detected[i];
      if (d.close_ns < e.start_mono_ns || d.open_ns > e.end_mono_ns + slack_ns) continue;
      used[i] = true;  // every reported piece of an injected episode is a true one
      if (!match) match = &d;
    }
    if (e.start_mono_ns < first_counted_ns) continue;  // the first of a same-hour pair, on the learning day
    const bool found = match != nullptr;
    auto describe = [&] {
      const std::int64_t t = e.start_mono_ns / kNsPerS;
      char b[128];
      std::snprintf(b, sizeof b, "day %lld %02lld:%02lld:%02lld %s %.1fx %llds", static_cast<long long>(t / 86400),
                    static_cast<long long>(t % 86400 / 3600), static_cast<long long>(t % 3600 / 60),
                    static_cast<long long>(t % 60), to_string(e.injection), e.intensity,
                    static_cast<long long>((e.end_mono_ns - e.start_mono_ns) / kNsPerS));
      return std::string(b) + (e.repeat_index == 1 ? " (same hour as the day before)" : "");
    };
    if (!found) rep.missed_descriptions.push_back(describe());
    const bool kind_right = found && match->kind == e.kind;
    if (found && !kind_right) rep.wrong_kind_descriptions.push_back(describe() + ": " + match->summary);
    KindFigures& by_inj = rep.by_injection[static_cast<int>(e.injection)];
    ++by_inj.injected;
    by_inj.found += found;
    by_inj.kind_right += kind_right;
    KindFigures& by_exp = rep.by_expected[static_cast<int>(e.kind)];
    ++by_exp.injected;
    by_exp.found += found;
    by_exp.kind_right += kind_right;
    if (e.repeat_index == 1) {
      ++rep.repeats;
      rep.repeats_found += found;
    }
    if (found && e.injection == Injection::wan_outage) {
      const double delay_s = static_cast<double>(match->open_ns - e.start_mono_ns) / kNsPerS;
      rep.outage_open_delay_s.push_back(delay_s);
      if (delay_s > 30)
        rep.late_outage_descriptions.push_back(describe() + ": opened " + std::to_string(static_cast<int>(delay_s)) +
                                               " s after the fall: " + match->summary);
    }
    const std::int64_t fault_ns = e.end_mono_ns - e.start_mono_ns;
    if (fault_ns <= 60 * kNsPerS) {
      ++rep.short_faults;
      if (found && match->length_ns >= 0) {
        // An episode of n samples spans (n - 1) intervals; the fault covers fault / interval.
        const double episode_intervals = static_cast<double>(match->length_ns + interval_ns) / static_cast<double>(interval_ns);
        const double fault_intervals = static_cast<double>(fault_ns) / static_cast<double>(interval_ns);
        rep.short_length_error_intervals.push_back(std::fabs(episode_intervals - fault_intervals));
        char b[96];
        std::snprintf(b, sizeof b, ": episode opened %+.0f s after it, %.0f s long",
                      static_cast<double>(match->open_ns - e.start_mono_ns) / kNsPerS,
                      static_cast<double>(match->length_ns) / kNsPerS);
        rep.short_descriptions.push_back(describe() + b);
      }
    }
    // The headline recall: every injection at 3x and more (WAN loss is a milder, separate row).
    if (e.injection == Injection::wan_loss) continue;
    ++rep.injected;
    rep.detected_all += found;
    if (e.intensity < 3.0) continue;
    ++rep.injected_3x;
    if (!found) continue;
    ++rep.detected_3x;
    // The first sample that can show the episode is the one closing the interval it began in.
    const std::int64_t first_visible = (e.start_mono_ns / interval_ns + 1) * interval_ns;
    rep.delays.push_back(static_cast<double>(std::max<std::int64_t>(0, match->open_ns - first_visible)) / interval_ns);
    rep.kind_correct_3x += kind_right;
  }
  for (const Marker& m : gen.markers())
    if (m.kind == MarkerKind::nightly_job && !m.irregular_job && static_cast<int>(rep.nightly_alarms_by_night.size()) <= m.day)
      rep.nightly_alarms_by_night.resize(static_cast<std::size_t>(m.day) + 1, 0);
  for (std::size_t i = 0; i < detected.size(); ++i) {
    const Detected& d = detected[i];
    bool at_job_early = false, at_job_late = false, at_disturbance = false;
    int job_night = -1, job_run = -1;
    bool at_irregular_job = false;
    int runs_before = 0;  // of the backup, before the marker at hand
    for (const Marker& m : gen.markers()) {
      const bool overlaps = d.open_ns >= m.start_ns - slack_ns && d.open_ns <= m.end_ns + slack_ns;
      const bool soon_after = d.open_ns >= m.start_ns && d.open_ns <= m.end_ns + 300 * kNsPerS;
      if (m.kind == MarkerKind::nightly_job && overlaps) {
        (m.day >= 3 ? at_job_late : at_job_early) = true;
        if (m.irregular_job) at_irregular_job = at_irregular_job || m.day >= 3;
        else job_night = m.day, job_run = runs_before;
      }
      if (m.kind == MarkerKind::nightly_job && !m.irregular_job) ++runs_before;
      if (m.kind != MarkerKind::nightly_job && soon_after) at_disturbance = true;
    }
    if (job_night >= 0 && !used[i]) ++rep.nightly_alarms_by_night[static_cast<std::size_t>(job_night)];
    if (at_irregular_job && !used[i]) ++rep.irregular_job_alarms_after_night3;
    if (job_run >= 3 && !used[i]) ++rep.nightly_alarms_after_run3;
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
      std::string during;
      if (job_night >= 0)
        during = "(backup, night " + std::to_string(job_night) + ", run " + std::to_string(job_run + 1) + ") ";
      else if (at_irregular_job || at_job_early) during = "(sync job) ";
      rep.false_descriptions.push_back(when + during + d.summary);
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
