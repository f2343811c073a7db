#include "detectors/seasonal_baseline.h"

#include <algorithm>
#include <cmath>

#include "core/time.h"

namespace ctmon {
namespace {
// 1970-01-01 was a Thursday: (days + kEpochWeekday) % 7 numbers days from Monday = 0.
constexpr std::int64_t kEpochWeekday = 3;
constexpr std::int64_t kSaturday = 5;
}  // namespace

bool is_weekend(std::int64_t local_day) { return ((local_day + kEpochWeekday) % 7 + 7) % 7 >= kSaturday; }

SeasonalBaseline::SeasonalBaseline(const SeasonalConfig& config)
    : config_(config),
      bins_per_day_(static_cast<std::uint32_t>(std::ceil(kSecondsPerDay / config.bin_width_s))),
      warm_covered_s_(config.warm_days * config.bin_width_s),
      memory_s_(config.bin_width_s * config.memory_days),
      bins_(bin_count(config)) {}

std::uint32_t SeasonalBaseline::bin_count(const SeasonalConfig& config) {
  const auto per_day = static_cast<std::uint32_t>(std::ceil(kSecondsPerDay / config.bin_width_s));
  return per_day * (config.split_weekend ? 2 : 1);
}

std::uint32_t SeasonalBaseline::bin_of(const SeasonalConfig& config, std::int64_t local_s) {
  // Floor division: local times before 1970 (an unset router clock with a negative offset) must
  // still land in [0, 86400).
  const std::int64_t day = floor_div(local_s, kSecondsPerDay);
  const std::int64_t second_of_day = local_s - day * kSecondsPerDay;
  const auto per_day = static_cast<std::uint32_t>(std::ceil(kSecondsPerDay / config.bin_width_s));
  auto slot = static_cast<std::uint32_t>(static_cast<double>(second_of_day) / config.bin_width_s);
  slot = std::min(slot, per_day - 1);
  if (!config.split_weekend) return slot;
  return is_weekend(day) ? per_day + slot : slot;
}

const SeasonalBaseline::Bin* SeasonalBaseline::learned(std::uint32_t bin) const {
  const Bin* b = &bins_[bin];
  if (!warm(*b) && config_.split_weekend && config_.borrow_other_day_type) {
    const Bin& other = bins_[bin < bins_per_day_ ? bin + bins_per_day_ : bin - bins_per_day_];
    if (warm(other)) b = &other;
  }
  return warm(*b) ? b : nullptr;
}

SeasonalExpectation SeasonalBaseline::expect(std::uint32_t bin) {
  const Bin* b = learned(bin);
  if (b == nullptr) {
    cached_bin_ = UINT32_MAX;
    return {bins_[bin].mean, std::sqrt(bins_[bin].var), false};
  }
  if (bin != cached_bin_) {
    // Neighbours within the same day type, wrapping around midnight.
    cached_bin_ = bin;
    cached_neighbour_sd_ = 0.0;
    const std::uint32_t day_start = bin - bin % bins_per_day_;
    const std::uint32_t slot = bin - day_start;
    for (const std::uint32_t n : {(slot + bins_per_day_ - 1) % bins_per_day_, (slot + 1) % bins_per_day_}) {
      if (const Bin* nb = learned(day_start + n)) {
        cached_neighbour_sd_ = std::max(cached_neighbour_sd_, std::fabs(nb->mean - b->mean));
      }
    }
  }
  return {b->mean, std::max(std::sqrt(b->var), cached_neighbour_sd_), true};
}

void SeasonalBaseline::save(ByteWriter& out) const {
  out.u32(static_cast<std::uint32_t>(bins_.size()));
  for (const Bin& b : bins_) {
    out.f64(b.mean);
    out.f64(b.var);
    out.f64(b.covered_s);
  }
}

void SeasonalBaseline::load(ByteReader& in) {
  if (in.u32() != bins_.size()) {
    in.fail();
    return;
  }
  for (Bin& b : bins_) {
    b.mean = in.f64();
    b.var = in.f64();
    b.covered_s = in.f64();
  }
}

}  // namespace ctmon
