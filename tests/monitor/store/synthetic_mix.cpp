#include "synthetic_mix.h"

#include <cmath>
#include <numbers>

namespace ctmon::store::testing {
namespace {

constexpr double kDay = 86400;

struct Spec {
  const char* name;
  double rate;       // mean packets/s at diurnal factor 1
  bool lan;          // follows the household's diurnal shape
  double size_lo, size_hi, big_share;  // packet sizes: uniform [lo, hi], or 1200-1500 with big_share
};

// Rates of the design-time storage measurements (schema/README.md); sizes: SYNs/DNS queries ~60-80 B, established traffic a mix
// of ACKs and full-size data packets, invalid ones small.
const Spec kSpecs[] = {
    {"tcp_conntrack_input_new", 0.3, false, 52, 64, 0},
    {"tcp_conntrack_input_established", 2.0, true, 52, 120, 0.3},
    {"tcp_conntrack_input_invalid", 0.05, false, 40, 60, 0},
    {"tcp_conntrack_output_new", 0.01, false, 52, 64, 0},
    {"tcp_conntrack_output_established", 1.5, true, 52, 120, 0.3},
    {"tcp_conntrack_output_invalid", 0.0, false, 40, 60, 0},
    {"tcp_conntrack_fwd_new", 3.0, true, 52, 64, 0},
    {"tcp_conntrack_fwd_established", 800.0, true, 52, 66, 0.5},
    {"tcp_conntrack_fwd_invalid", 0.1, true, 40, 60, 0},
    {"udp_conntrack_input_new", 1.5, true, 60, 110, 0},
    {"udp_conntrack_input_established", 2.0, true, 60, 200, 0},
    {"udp_conntrack_input_invalid", 0.0, false, 40, 60, 0},
    {"udp_conntrack_output_new", 1.2, true, 60, 110, 0},
    {"udp_conntrack_output_established", 1.5, true, 60, 200, 0},
    {"udp_conntrack_output_invalid", 0.0, false, 40, 60, 0},
    {"udp_conntrack_fwd_new", 4.0, true, 60, 110, 0},
    {"udp_conntrack_fwd_established", 300.0, true, 100, 1300, 0},
    {"udp_conntrack_fwd_invalid", 0.01, true, 40, 60, 0},
};

}  // namespace

SyntheticMix::SyntheticMix(std::int64_t interval_ns, std::int64_t wall0_ns, std::uint64_t seed,
                           std::int64_t reset_at_wall_ns)
    : interval_ns_(interval_ns), wall0_ns_(wall0_ns), reset_at_(reset_at_wall_ns), rng_(seed) {
  for (const Spec& s : kSpecs) {
    catalog_.intern(s.name);
    // A router up ~17 days.
    const auto p = static_cast<std::uint64_t>(s.rate * 0.9 * kDay * 17.3);
    totals_.push_back({p, p * static_cast<std::uint64_t>((s.size_lo + s.size_hi) / 2), true});
  }
}

Sample SyntheticMix::next() {
  std::uniform_real_distribution<double> u01(0, 1);
  const double interval_s = static_cast<double>(interval_ns_) / 1e9;
  const std::int64_t nominal = wall0_ns_ + k_ * interval_ns_;
  const double h = std::fmod(static_cast<double>(nominal) / 1e9, kDay) / 3600.0;
  double lan = 0.9 - 0.7 * std::cos(2 * std::numbers::pi * (h - 4.5) / 24);
  lan *= 1.0 + 0.25 * std::exp(-((h - 21.0) * (h - 21.0)) / 2.0);
  if (burst_left_s_ <= 0 && u01(rng_) < interval_s / 1200.0)
    burst_left_s_ = 20 + u01(rng_) * 880, burst_mult_ = 3 + u01(rng_) * 12;
  if (reset_at_ > 0 && nominal == reset_at_)
    for (auto& t : totals_) t.packets = t.bytes = 0;

  for (std::size_t i = 0; i < totals_.size(); ++i) {
    const Spec& s = kSpecs[i];
    if (s.rate == 0.0) continue;
    double lam = s.rate * interval_s * (s.lan ? lan : 1.0);
    const bool busy_fwd = std::string_view(s.name).ends_with("fwd_established");
    if (busy_fwd && burst_left_s_ > 0) lam *= burst_mult_;
    std::uint64_t n = 0, bytes = 0;
    auto size = [&] {
      if (s.big_share > 0 && u01(rng_) < s.big_share) return 1200 + u01(rng_) * 300;
      return s.size_lo + u01(rng_) * (s.size_hi - s.size_lo);
    };
    if (lam < 40) {
      n = std::poisson_distribution<std::uint64_t>(lam)(rng_);
      for (std::uint64_t j = 0; j < n; ++j) bytes += static_cast<std::uint64_t>(size());
    } else {  // over-dispersed normal for the busy counters, bytes from the size moments
      n = static_cast<std::uint64_t>(std::max(0.0, std::round(std::normal_distribution<double>(lam, 2.0 * std::sqrt(lam))(rng_))));
      const double lo = s.size_lo, hi = s.size_hi, q = s.big_share;
      const double m_small = (lo + hi) / 2, v_small = (hi - lo) * (hi - lo) / 12;
      const double mean = q * 1350 + (1 - q) * m_small;
      const double var = q * (7500 + 1350 * 1350) + (1 - q) * (v_small + m_small * m_small) - mean * mean;
      const double nn = static_cast<double>(n);
      bytes = static_cast<std::uint64_t>(std::max(0.0, std::normal_distribution<double>(nn * mean, std::sqrt(nn * var))(rng_)));
    }
    totals_[i].packets += n;
    totals_[i].bytes += bytes;
  }
  burst_left_s_ -= interval_s;

  Sample out;
  // Absolute-deadline timer: 50 us + exponential(30 us) late, 1 in 1000 ticks 5-50 ms late.
  auto late = static_cast<std::int64_t>(50'000 + std::exponential_distribution<double>(1.0 / 30'000)(rng_));
  if (u01(rng_) < 0.001) late += static_cast<std::int64_t>(5e6 + u01(rng_) * 45e6);
  const std::int64_t mono0 = 1'234'567'890'123;  // ~14 days of uptime
  out.mono_ns = mono0 + k_ * interval_ns_ + late;
  // Wall and mono are slewed together by NTP; they differ by a constant plus the ~40 ns between
  // the two clock_gettime calls.
  out.wall_ns = nominal + late + 20 + static_cast<std::int64_t>(u01(rng_) * 40);
  out.counters = totals_;
  ++k_;
  return out;
}

}  // namespace ctmon::store::testing
