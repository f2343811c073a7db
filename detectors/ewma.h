#pragma once
// Exponentially weighted mean and variance (West 1979 / Finch 2009 incremental form):
//
//   d     = x - mean
//   mean += a * d
//   var   = (1 - a) * (var + a * d^2)
//
// with a = 1/n for the first samples (an exact running mean, so the first value does not weigh
// forever) and a = alpha afterwards. O(1) per sample.

#include "detectors/state_codec.h"

namespace ctmon {

class EwmaMeanVar {
 public:
  /// `alpha` in (0, 1]: the weight of the newest sample once 1/n has fallen below it.
  explicit EwmaMeanVar(double alpha = 0.01) : alpha_(alpha) {}

  void add(double x) { add(x, alpha_); }
  /// Adds with a one-off weight (e.g. scaled by an irregular step length).
  void add(double x, double alpha) {  // inline: called several times per counter per sample
    n_ += 1.0;
    // a = max(alpha, 1/n) without a division once 1/n has fallen below alpha (nearly always).
    const double a = n_ * alpha >= 1.0 ? alpha : 1.0 / n_;
    const double d = x - mean_;
    mean_ += a * d;
    var_ = (1.0 - a) * (var_ + a * d * d);
  }

  [[nodiscard]] double mean() const { return mean_; }
  [[nodiscard]] double variance() const { return var_; }
  [[nodiscard]] double count() const { return n_; }
  void set_alpha(double alpha) { alpha_ = alpha; }
  /// Moves the mean by `delta` without touching the variance (a change of reference).
  void shift(double delta) { mean_ += delta; }

  void save(ByteWriter& out) const;
  void load(ByteReader& in);

 private:
  double alpha_;
  double mean_ = 0.0;
  double var_ = 0.0;
  double n_ = 0.0;
};

}  // namespace ctmon
