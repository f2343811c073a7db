#include "detectors/cusum.h"

namespace ctmon {

void Cusum::save(ByteWriter& out) const {
  out.f64(up_);
  out.f64(down_);
}

void Cusum::load(ByteReader& in) {
  up_ = in.f64();
  down_ = in.f64();
}

}  // namespace ctmon
