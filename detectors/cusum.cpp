#include "detectors/cusum.h"

#include <algorithm>

namespace ctmon {

void Cusum::add(double z) {
  z = std::clamp(z, -config_.clip_sd, config_.clip_sd);
  up_ = std::max(0.0, up_ + z - config_.slack_sd);
  down_ = std::max(0.0, down_ - z - config_.slack_sd);
}

void Cusum::save(ByteWriter& out) const {
  out.f64(up_);
  out.f64(down_);
}

void Cusum::load(ByteReader& in) {
  up_ = in.f64();
  down_ = in.f64();
}

}  // namespace ctmon
