#include "detectors/ewma.h"

namespace ctmon {

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
