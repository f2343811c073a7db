#pragma once
// Two-sided tabular CUSUM (Page 1954) on standardised residuals z, for shifts too small to
// cross a point threshold but sustained:
//
//   S+ = max(0, S+ + z - k)        S- = max(0, S- - z - k)
//
// k (the slack, in sd) is half the smallest shift worth finding; an alarm is S >= h. z is
// clipped to +-z_clip first so one wild sample cannot fake a sustained shift. O(1).
//
// Each side also keeps where its run stands in time: the sample at which S last left zero is
// the estimate of when the shift began (Page's change point), and the sample at which S was
// highest is when it ended (after that, S only drains by k per sample). A weak shift crosses h
// many samples after it began, so an episode opened by the CUSUM starts at its change point and
// not at the alarm. The times are not saved with the state: after a restore a run's times start
// at the restore.

#include <algorithm>

#include "detectors/state_codec.h"

namespace ctmon {

struct CusumConfig {
  double slack_sd = 1.5;   ///< k
  double alarm_sd = 12.0;  ///< h
  double clip_sd = 4.0;
};

class Cusum {
 public:
  explicit Cusum(const CusumConfig& config = {}) : config_(config), inv_alarm_sd_(1.0 / config.alarm_sd) {}

  /// Adds the residual of a sample taken `dt_s` seconds after the previous one.
  void add(double z, double dt_s = 0.0) {  // inline: called per counter per sample
    z = std::clamp(z, -config_.clip_sd, config_.clip_sd);
    clock_s_ += dt_s;
    up_.add(z - config_.slack_sd, clock_s_);
    down_.add(-z - config_.slack_sd, clock_s_);
  }
  /// Forgets accumulated evidence (after a gap or reset, so a resumed series starts clean).
  void reset() { up_ = down_ = Side{}; }

  /// Of the side that carries the evidence (S+, or the larger side unless `rises_only`): seconds
  /// since its run began (its first sample above zero) and since its highest sample. Both 0
  /// outside a run.
  [[nodiscard]] double run_s(bool rises_only = false) const {
    const Side& s = side(rises_only);
    return s.sum > 0.0 ? clock_s_ - s.start_s : 0.0;
  }
  [[nodiscard]] double since_peak_s(bool rises_only = false) const {
    const Side& s = side(rises_only);
    return s.sum > 0.0 ? clock_s_ - s.peak_s : 0.0;
  }

  [[nodiscard]] double up() const { return up_.sum; }
  [[nodiscard]] double down() const { return down_.sum; }
  /// max(S+, S-) / h: 1.0 at the alarm level.
  [[nodiscard]] double evidence() const { return leading().sum * inv_alarm_sd_; }
  /// S+ / h: evidence of an upward shift only.
  [[nodiscard]] double evidence_up() const { return up_.sum * inv_alarm_sd_; }

  void save(ByteWriter& out) const;
  void load(ByteReader& in);

 private:
  struct Side {
    double sum = 0.0;
    double highest = 0.0;  // of the current run
    double start_s = 0.0;  // clock_s_ of the run's first sample
    double peak_s = 0.0;   // clock_s_ of its highest
    void add(double step, double now_s) {
      const double next = sum + step;
      if (next <= 0.0) {  // the common case: nothing to keep
        sum = 0.0;
        return;
      }
      if (sum <= 0.0) highest = 0.0, start_s = now_s;
      sum = next;
      if (next >= highest) highest = next, peak_s = now_s;
    }
  };
  [[nodiscard]] const Side& leading() const { return up_.sum >= down_.sum ? up_ : down_; }
  [[nodiscard]] const Side& side(bool rises_only) const { return rises_only ? up_ : leading(); }

  CusumConfig config_;
  double inv_alarm_sd_;
  Side up_;
  Side down_;
  double clock_s_ = 0.0;  // seconds added so far: the time base of the runs
};

}  // namespace ctmon
