#pragma once
// Shared by `ctmon series` and `ctmon show`: stored samples turned into rates the way the daemon
// computes them, and the replay CSV (docs/formats.md) of a window of samples.

#include <cstdio>
#include <optional>
#include <vector>

#include "detectors/rate_tracker.h"
#include "monitor/store/sample_reader.h"

namespace ctmon::cli {

/// 1 for each id of `catalog` that is a mean counter (core/measurement.h), for RateTracker.
[[nodiscard]] std::vector<std::uint8_t> mean_counters(const CounterCatalog& catalog);

/// Calls emit(const Sample&, const RateFrame&) for every sample of `series`, in order. A fresh
/// RateTracker starts at every run start (monotonic time restarted there, so a rate across the
/// boundary would be meaningless); the first sample of a run therefore carries no rates. A mean
/// counter's "rate" is its value over the step (docs/measurements.md).
template <class Emit>
void for_each_rate(const store::Series& series, Emit&& emit) {
  const std::vector<std::uint8_t> is_mean = mean_counters(series.catalog);
  std::optional<RateTracker> tracker;
  std::size_t next_run = 0;
  for (std::size_t i = 0; i < series.samples.size(); ++i) {
    if (next_run < series.run_starts.size() && series.run_starts[next_run] == i) {
      tracker.emplace(RateConfig{});
      ++next_run;
    }
    if (!tracker) tracker.emplace(RateConfig{});  // a series without run_starts: one run
    emit(series.samples[i], tracker->update(series.samples[i], is_mean));
  }
}

/// Writes the replay CSV of `series` to `out`: header "timestamp,<name>,...", one row per
/// sample with unix seconds (ms precision, no trailing zeros) and cumulative packets; an empty
/// cell where a counter was absent. A mean counter's cell is its value since the previous row
/// (empty without an observation), which the replay reader accumulates back (csv_source.h).
/// `ids` chooses and orders the columns.
void write_replay_csv(std::FILE* out, const store::Series& series, const std::vector<CounterId>& ids);

}  // namespace ctmon::cli
