#include "detectors/ewma.h"

#include <algorithm>

namespace ctmon {

void EwmaMeanVar::add(double x, double alpha) {
  n_ += 1.0;
  const double a = std::max(alpha, 1.0 / n_);
  const double d = x - mean_;
  mean_ += a * d;
  var_ = (1.0 - a) * (var_ + a * d * d);
}

void EwmaMeanVar::save(ByteWriter& out) const {
  out.f64(mean_);
  out.f64(var_);
  out.f64(n_);
}

void EwmaMeanVar::load(ByteReader& in) {
  mean_ = in.f64();
  var_ = in.f64();
  n_ = in.f64();
}

}  // namespace ctmon
