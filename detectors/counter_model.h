#pragma once
// Everything ctmon knows about one counter's normal behaviour, and how far the latest rate is
// from it. Per step, for transformed rate y (transforms.h):
//
//   base  = seasonal mean of this time-of-day bin (0 until the bin is warm)
//   e     = y - base                      residual from the daily/weekly pattern
//   z_L   = (e - level) / scale           level: EWMA of e (slow: a shifted day is absorbed)
//   z_R   = (e - median_W(e)) / scale     robust: rolling median of the last W residuals
//   scale = max(sd of innovations (EWMA), 1.4826 MAD_W, seasonal bin sd, floor, step allowance)
//           MAD_W: only where a sample expects robust_spread_min_events events or more
//           seasonal bin sd: times (base + level) / base on a day below its pattern (sqrt
//           transform: a rate scaled by f spreads by sqrt(f))
//           step allowance: min(|base - last sample's base|, |level|), fading at the level's
//           rate: after the pattern steps between bins the level may be stale by that much
//   fall  = (level - e) / (scale without the seasonal bin sd), in point-alarm units: how far
//           below its expectation the value is against the short-term noise alone
//   CUSUM on z_L for sustained small shifts
//
// Learning happens after scoring, with e winsorised to level +- winsor_sd * scale, so an
// episode moves the baselines only slowly and cannot teach itself to be normal within minutes.

#include <cstddef>
#include <cstdint>

#include "detectors/cusum.h"
#include "detectors/ewma.h"
#include "detectors/robust_window.h"
#include "detectors/seasonal_baseline.h"
#include "detectors/state_codec.h"
#include "detectors/transforms.h"

namespace ctmon {

struct CounterModelConfig {
  Transform transform = Transform::sqrt;
  double level_memory_samples = 600;   ///< EWMA time constant of the level, in samples
  double noise_memory_samples = 1800;  ///< EWMA time constant of the innovation variance
  std::size_t robust_window_samples = 31;  ///< W; 0 disables the robust baseline (z_R = z_L)
  std::uint32_t mad_stride_samples = 4;    ///< MAD deviations recorded every this many samples
  double winsor_sd = 3.0;              ///< learning clips residuals to this many sd
  double point_alarm_sd = 6.0;         ///< |z| at which point evidence reaches 1
  /// False: only rises are evidence (more new or invalid packets than usual is the trouble; a
  /// quiet network is not). A fall still shows in z and in the multivariate score.
  bool alarm_on_falls = true;
  /// True: a time-of-day bin not yet warm learns the raw value, so a series' daily pattern is
  /// the expectation from its second day (the gauge profile). False: the clipped value, as a
  /// warm bin does, so that a one-off anomaly on the first day is not the expectation of its
  /// slot the next day; recurring jobs are then learned by other means (the network profile's
  /// recurrence memory) or within a few days.
  bool cold_bins_learn_raw = true;
  double noise_floor = 0.0;            ///< absolute floor of scale, in transformed units
  double relative_floor = 0.0;         ///< floor of scale as a fraction of |expected y|
  /// The robust spread (1.4826 MAD) counts only where a sample expects at least this many
  /// events (expected rate x interval: the value is a rate of packets). Below that a sample holds
  /// 0, 1, 2 or 3 packets, and the median deviation snaps between the few distances those allow:
  /// a counter at 0.27 pps sampled every 5 s read 0.49-0.66 against 0.29 measured by the EWMA, and
  /// a 7x scan of the router for six minutes stood 2 sd out. The Poisson floor guards the scale
  /// there instead. 0: always (a gauge's value is no rate).
  double robust_spread_min_events = 0.0;
  CusumConfig cusum;
  SeasonalConfig seasonal;
};

/// The outcome of one step for one counter.
struct CounterStep {
  double z = 0.0;             ///< signed level z-score (negative: below normal)
  double evidence = 0.0;      ///< fused evidence, 1.0 = alarm level (fusion.h)
  double point_evidence = 0.0;  ///< the point detector's part of it (this sample alone)
  double expected = 0.0;      ///< expected rate in the counter's own units (pps or gauge)
  /// How far below its expectation the value is, in units of the point alarm level, against the
  /// short-term noise alone (no time-of-day spread); 0 at or above it. For judging a fall whose
  /// share already spoke (Analyzer's falls role): a quarter hour's spread across days and to its
  /// neighbours can be as large as an outage.
  double fall_evidence = 0.0;
  std::uint8_t detectors = 0; ///< DetectorBit set at the alarm level
  /// With kDetectorCusum: seconds before this sample at which its run began (the shift's
  /// estimated start) and at which it peaked (the shift's estimated end, cusum.h).
  double cusum_run_s = 0.0;
  double cusum_since_peak_s = 0.0;
};

class CounterModel {
 public:
  explicit CounterModel(const CounterModelConfig& config);

  /// Scores `value` (a rate in pps, or a gauge) seen over `dt_s` seconds in seasonal `bin`, then
  /// learns from it. `learn` false scores without learning (not used by the Analyzer today, kept
  /// for callers that replay a known-bad stretch).
  CounterStep step(double value, double dt_s, std::uint32_t bin, bool learn = true);
  /// Same, with `alarm_on_falls` overridden for this counter (primary counters rise-only,
  /// context counters two-sided).
  CounterStep step(double value, double dt_s, std::uint32_t bin, bool learn, bool alarm_on_falls);

  /// Forgets accumulated CUSUM evidence: the series resumed after a gap or reset.
  void break_continuity() { cusum_.reset(); }

  /// The wall clock jumped: the next step's time-of-day bin is not the neighbour of the last
  /// one, so the level is shifted to keep the expectation where it was instead of letting the
  /// seasonal pattern of another hour (or year) appear as a step.
  void wall_clock_jumped() { rebase_pending_ = true; }

  /// Samples scored so far.
  [[nodiscard]] double samples() const { return level_.count(); }

  void save(ByteWriter& out) const;
  void load(ByteReader& in);

 private:
  CounterModelConfig config_;
  SeasonalBaseline seasonal_;
  EwmaMeanVar level_;
  EwmaMeanVar noise_;
  RollingMedianMad robust_;
  Cusum cusum_;
  bool last_warm_ = false;
  bool rebase_pending_ = false;
  double last_base_ = 0.0;
  // How far the level may still be off after the expectation's pattern stepped between bins:
  // the step, at most the level's own offset, fading as the level re-adapts (by the level's
  // EWMA weight per sample). Not saved: it is gone within a few level memories.
  double base_step_allowance_ = 0.0;
  double level_keep_;  // 1 - the level's EWMA weight
  double inv_point_alarm_sd_;
  double floor_dt_s_ = -1.0;  // the step poisson_floor_ was computed for
  double poisson_floor_ = 0.0;
};

}  // namespace ctmon
