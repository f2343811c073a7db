#pragma once
// Cumulative counter totals -> packets per second, with the edge cases of a real router:
//
//   rate_c(t) = (packets_c(t) - packets_c(t-1)) / (mono(t) - mono(t-1))
//
// * Time is the monotonic clock only, so a wall-clock jump (NTP after boot) cannot make a spike.
// * A counter smaller than before is a reset (rules reloaded): no rate for that step, the new
//   total becomes the reference. Never a negative rate.
// * A step longer than `gap_intervals` typical intervals (suspend, a stalled daemon, a hole in a
//   replay file) or a monotonic time that does not advance breaks continuity: no rate for any
//   counter on that step, and the caller is told so that detectors resume without alarm.
// * A counter that is absent has no rate; when it (re)appears its first total is only a reference.
// * A jump no link could carry (more than kMaxPlausiblePps over the step: a counter rewritten by
//   `nft reset` into another table's value, a corrupted reading, a wrap of a 64-bit value) is
//   treated as a reset too, not as a rate: one such step would otherwise be a 9.2e18 pps spike
//   that swamps every statistic the detectors keep for hours.
// * A mean counter (core/measurement.h: packets count observations, bytes sum their values)
//   yields its value Δbytes / Δpackets instead of a rate. A step without observations
//   (Δpackets == 0: every probe lost leaves the RTT without a value) has no value, but unlike an
//   absent counter it keeps its reference: the counter is still there, nothing was missed.
//   Either total going backwards is a reset. No plausibility bound: a value is not a rate.

#include <cstdint>
#include <vector>

#include "core/sample.h"
#include "detectors/state_codec.h"

namespace ctmon {

/// The fastest packet rate a counter may show, in packets per second. A 100 Gbit/s link carries
/// at most 148.8 million minimum-size frames per second; a router's counter sums a handful of
/// links, so 1e9 is several times anything real, and far below the 1e18-class values a garbage
/// or wrapped total produces.
inline constexpr double kMaxPlausiblePps = 1e9;

struct RateConfig {
  /// Expected sampling interval; 0 learns it from the data (EWMA of continuous steps).
  double nominal_interval_s = 0.0;
  /// A step longer than this many typical intervals breaks continuity.
  double gap_intervals = 3.0;
};

/// Why the latest step does or does not carry rates.
enum class StepContinuity : std::uint8_t {
  first,           ///< first sample ever (or first after a restore without history)
  continuous,      ///< rates are valid for every counter that has `valid[c]`
  gap,             ///< the step was longer than gap_intervals: no rates this step
  time_backwards,  ///< monotonic time did not advance (a replay file stepping back): no rates
};

/// Rates of one step. Vectors are indexed by CounterId and sized to the sample's counters.
struct RateFrame {
  double dt_s = 0.0;
  StepContinuity continuity = StepContinuity::first;
  std::vector<double> pps;            ///< packets per second (a mean counter's value); 0 where !valid
  std::vector<std::uint8_t> valid;    ///< 1 when pps holds a real rate for this step
  /// 1 when the counter went backwards on this step, or rose faster than kMaxPlausiblePps
  std::vector<std::uint8_t> was_reset;
};

class RateTracker {
 public:
  explicit RateTracker(const RateConfig& config) : config_(config) {}

  /// Turns the next sample into rates. Returns a frame owned by the tracker, valid until the next
  /// call. Samples must come in acquisition order; nothing here reads a clock.
  const RateFrame& update(const Sample& sample);
  /// Same, where `is_mean[id]` != 0 marks the mean counters (ids past its end are rate counters):
  /// their frame entries hold values, not rates.
  const RateFrame& update(const Sample& sample, const std::vector<std::uint8_t>& is_mean);

  /// Same time handling for a series that is already a rate or a gauge (NAB files): values are
  /// passed through, NaN (or an infinity) meaning absent; `valid` is set wherever a value is present, whatever
  /// the continuity (a gauge needs no previous value).
  const RateFrame& update_gauges(std::int64_t mono_ns, const double* values, std::size_t count);

  /// The typical interval in seconds (configured, or learned; 0 before two samples were seen).
  [[nodiscard]] double interval_s() const { return interval_s_; }

  /// The learned interval is kept across restarts; previous totals are not (the catalog's ids
  /// may differ and the downtime makes them stale), so the first sample after restore() is a
  /// new reference.
  void save(ByteWriter& out) const { out.f64(interval_s_); }
  void load(ByteReader& in) { interval_s_ = in.f64(); }

 private:
  StepContinuity advance(std::int64_t mono_ns);
  void mean_value(std::size_t c, const CounterTotals& now);

  RateConfig config_;
  RateFrame frame_;
  bool have_previous_ = false;
  std::int64_t previous_mono_ns_ = 0;
  std::vector<CounterTotals> previous_;
  double interval_s_ = 0.0;
};

}  // namespace ctmon
