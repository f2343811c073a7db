#pragma once
// The statistics behind `ctmon correlate`, without I/O: how counter episodes and probe episodes
// line up, and which counters' rates rank-correlate with a probe target's jitter a few intervals
// later. Pure functions and one streaming builder, so the command only reads and prints.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/sample.h"
#include "detectors/rate_tracker.h"

namespace ctmon::cli {

/// Average ranks (1-based; tied values share the mean of their positions).
[[nodiscard]] std::vector<double> average_ranks(const std::vector<double>& values);

/// Spearman's rho: Pearson correlation of the average ranks. nullopt with fewer than 2 pairs or
/// when either side is constant (no ordering to compare). x and y have the same size.
[[nodiscard]] std::optional<double> spearman(const std::vector<double>& x, const std::vector<double>& y);

/// Per-interval values, aligned: row t is the interval between two consecutive samples. A value
/// is NaN when there is none (counter absent, reset, a mean counter without observations).
/// Rows carry a segment number: rows of different segments are separated by a gap or a restart,
/// and a lag never pairs across them.
struct IntervalSeries {
  std::vector<std::string> names;
  std::vector<std::vector<double>> columns;  ///< columns[c][t]
  std::vector<std::uint32_t> segment;        ///< per row
  [[nodiscard]] std::size_t rows() const { return segment.size(); }
};

/// The pairs (counter[t - lag], target[t]) with both values and t - lag in the same segment as t,
/// and their rho. `lag` is counted in intervals, the counter leading.
struct LaggedCorrelation {
  std::size_t lag = 0;
  std::size_t pairs = 0;
  std::optional<double> rho;
};
[[nodiscard]] LaggedCorrelation lagged_spearman(const IntervalSeries& s, std::size_t counter_column,
                                                std::size_t target_column, std::size_t lag);

/// Builds an IntervalSeries from samples fed one at a time (the command reads the store in
/// blocks), keeping only the counters `keep` accepts. The values are the daemon's own
/// (RateTracker): rate counters Δpackets/Δt, mean counters (core/measurement.h) Δbytes/Δpackets,
/// none across a reset; an interval is dropped, and a new segment starts, on a gap or when the
/// monotonic clock does not advance.
class IntervalSeriesBuilder {
 public:
  /// `keep(name)` says whether a counter's series is needed. `max_rows` bounds memory: add()
  /// returns false once that many rows exist (the caller then says the period is too long).
  IntervalSeriesBuilder(std::function<bool(const std::string&)> keep, std::size_t max_rows)
      : keep_(std::move(keep)), max_rows_(max_rows) {}

  /// Feeds the next sample in stream order; `catalog` names its counters (a new catalog per
  /// block is fine: counters are matched by name). Returns false when max_rows is reached.
  /// `bytes_stored` false: the sample's bytes are not a measurement (a store block written
  /// without them), so mean counters have no value in the intervals it ends.
  bool add(const CounterCatalog& catalog, const Sample& sample, bool bytes_stored = true);
  /// Marks a restart (a new writer run): the next sample starts a new segment.
  void break_segment() { rates_ = RateTracker(RateConfig{}); }

  [[nodiscard]] const IntervalSeries& series() const { return series_; }
  [[nodiscard]] IntervalSeries take() { return std::move(series_); }

 private:
  std::size_t column_of(const std::string& name);

  std::function<bool(const std::string&)> keep_;
  std::size_t max_rows_;
  IntervalSeries series_;
  std::map<std::string, std::optional<std::size_t>> column_by_name_;  // nullopt: not kept
  std::vector<std::uint8_t> mean_;                                    // per column
  RateTracker rates_{RateConfig{}};
  Sample by_column_;  // the sample fed, its counters indexed by column (reused)
  std::uint32_t segment_ = 0;
  bool segment_has_rows_ = false;
};

/// What moved in one episode: the evidence counters split into probe counters and the others.
enum class Moved { counters_only, probes_only, both, nothing };

struct EpisodeTiming {
  Moved moved = Moved::nothing;
  /// Earliest peak time among the probe counters and among the others (when any).
  std::optional<std::int64_t> first_probe_peak_ns, first_counter_peak_ns;
};

struct EvidencePeak {
  std::string name;
  std::int64_t peak_wall_ns = 0;
};

[[nodiscard]] EpisodeTiming episode_timing(const std::vector<EvidencePeak>& evidence);

/// The episodes of a period, counted by what moved, with the order and lag of those where both did.
struct EpisodeSplit {
  std::size_t total = 0, counters_only = 0, probes_only = 0, both = 0;
  std::size_t probes_first = 0, counters_first = 0, together = 0;  ///< among `both`
  std::vector<double> lags_s;  ///< |first probe peak - first counter peak| per `both` episode, sorted
  std::map<std::string, std::size_t> where;  ///< verdict -> episodes
  [[nodiscard]] std::optional<double> median_lag_s() const;
};

struct EpisodeInput {
  std::vector<EvidencePeak> evidence;
  std::string where;
};

[[nodiscard]] EpisodeSplit split_episodes(const std::vector<EpisodeInput>& episodes);

/// One counter's best lag against one target.
struct Predictor {
  std::string counter;
  LaggedCorrelation best;  ///< the lag with the largest |rho| among those with enough pairs
  bool enough_pairs = false;
};

/// Pairs below this count give no verdict ("n too small").
inline constexpr std::size_t kMinPairs = 30;
inline constexpr std::size_t kMaxLag = 3;

/// For `target_column`, the `counter_columns` ranked: those with enough pairs at some lag
/// (0..kMaxLag) by |rho| at their best lag, largest first, then the others by pairs. At most
/// `top` entries.
[[nodiscard]] std::vector<Predictor> best_predictors(const IntervalSeries& s, std::size_t target_column,
                                                     const std::vector<std::size_t>& counter_columns,
                                                     std::size_t top);

}  // namespace ctmon::cli
