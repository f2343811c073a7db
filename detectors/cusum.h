#pragma once
// Two-sided tabular CUSUM (Page 1954) on standardised residuals z, for shifts too small to
// cross a point threshold but sustained:
//
//   S+ = max(0, S+ + z - k)        S- = max(0, S- - z - k)
//
// k (the slack, in sd) is half the smallest shift worth finding; an alarm is S >= h. z is
// clipped to +-z_clip first so one wild sample cannot fake a sustained shift. O(1).

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

  void add(double z) {  // inline: called per counter per sample
    z = std::clamp(z, -config_.clip_sd, config_.clip_sd);
    up_ = std::max(0.0, up_ + z - config_.slack_sd);
    down_ = std::max(0.0, down_ - z - config_.slack_sd);
  }
  /// Forgets accumulated evidence (after a gap or reset, so a resumed series starts clean).
  void reset() { up_ = down_ = 0.0; }

  [[nodiscard]] double up() const { return up_; }
  [[nodiscard]] double down() const { return down_; }
  /// max(S+, S-) / h: 1.0 at the alarm level.
  [[nodiscard]] double evidence() const { return (up_ > down_ ? up_ : down_) * inv_alarm_sd_; }
  /// S+ / h: evidence of an upward shift only.
  [[nodiscard]] double evidence_up() const { return up_ * inv_alarm_sd_; }

  void save(ByteWriter& out) const;
  void load(ByteReader& in);

 private:
  CusumConfig config_;
  double inv_alarm_sd_;
  double up_ = 0.0;
  double down_ = 0.0;
};

}  // namespace ctmon
