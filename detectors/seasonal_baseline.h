#pragma once
// What this series usually does at this time of day, learned separately for weekdays and
// weekends, so that recurring load (the evening peak, a 03:00 nightly backup) becomes the
// expectation instead of an anomaly.
//
// Bins: b = day_type * bins_per_day + floor(local_time_of_day / bin_width_s), day_type 1 on
// Saturday and Sunday. Local time is wall-clock UTC plus an offset the caller passes in (the
// router's time zone from the configuration); nothing here reads a clock. Per bin:
//
//   a     = min(1, max(dt / covered_s, dt / (bin_width_s * memory_days)))
//   mean += a * (y - mean);   var = (1 - a) * (var + a * (y - mean_old)^2)
//
// so the first day's visits are averaged exactly, and after that each day weighs about
// 1/memory_days: a job that starts running every night is the expectation within a few days.
// A bin counts as warm once it has covered warm_days of its width; a cold weekend bin falls
// back to the weekday bin of the same time and vice versa.
//
// Recurring events do not start on the second: the spread reported for a bin is at least the
// step to either neighbouring bin, sd = max(sqrt(var), |mean_b - mean_b-1|, |mean_b+1 - mean_b|),
// so a backup that starts or ends a few minutes off its usual time stays unremarkable, while
// a flat stretch of the day keeps its tight spread. O(1) per sample.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "detectors/state_codec.h"

namespace ctmon {

/// True for a Saturday or Sunday, `local_day` counted in days since 1970-01-01 local time: the
/// day types the baseline keeps apart (and the recurrence memory, recurrence.h).
[[nodiscard]] bool is_weekend(std::int64_t local_day);

struct SeasonalConfig {
  double bin_width_s = 900.0;
  double memory_days = 4.0;
  double warm_days = 1.0;
  bool split_weekend = true;
  /// A cold bin of one day type takes the other's (weekdays for the first weekend, and back).
  bool borrow_other_day_type = true;
};

/// The expectation of one bin (or its fallback).
struct SeasonalExpectation {
  double mean = 0.0;
  double sd = 0.0;
  bool warm = false;
};

class SeasonalBaseline {
 public:
  explicit SeasonalBaseline(const SeasonalConfig& config);

  /// The bin of a local time (UTC seconds + offset). Cheap; compute once per sample and share it
  /// between counters.
  [[nodiscard]] static std::uint32_t bin_of(const SeasonalConfig& config, std::int64_t local_s);
  [[nodiscard]] static std::uint32_t bin_count(const SeasonalConfig& config);

  /// The expectation for `bin`, or a cold one (warm == false) when neither it nor its fallback
  /// has been learned yet. The neighbour part of sd is refreshed when the bin changes (it moves
  /// by a day's learning per day, nothing within a bin's minutes).
  [[nodiscard]] SeasonalExpectation expect(std::uint32_t bin);

  /// Learns value `y` seen in `bin` over a step of `dt_s` seconds. Callers pass a winsorised y
  /// once the bin is warm (and, where CounterModelConfig::cold_bins_learn_raw is false, before),
  /// so an anomaly does not become the expectation overnight.
  void add(std::uint32_t bin, double y, double dt_s) {  // inline: per counter per sample
    Bin& b = bins_[bin];
    b.covered_s += dt_s;
    // max(dt / covered, dt / memory) = dt / min(covered, memory): one division, not two.
    const double a = std::min(1.0, dt_s / std::min(b.covered_s, memory_s_));
    const double d = y - b.mean;
    b.mean += a * d;
    b.var = (1.0 - a) * (b.var + a * d * d);
  }

  void save(ByteWriter& out) const;
  void load(ByteReader& in);

 private:
  struct Bin {
    double mean = 0.0;
    double var = 0.0;
    double covered_s = 0.0;
  };
  [[nodiscard]] bool warm(const Bin& b) const { return b.covered_s >= warm_covered_s_; }
  // The warm bin that stands for `bin` (itself or the other day type's), or nullptr.
  [[nodiscard]] const Bin* learned(std::uint32_t bin) const;

  SeasonalConfig config_;
  std::uint32_t bins_per_day_;
  double warm_covered_s_;
  double memory_s_;  // bin_width_s * memory_days
  std::vector<Bin> bins_;
  std::uint32_t cached_bin_ = UINT32_MAX;
  double cached_neighbour_sd_ = 0.0;
};

}  // namespace ctmon
