#include "detectors/cusum.h"

namespace ctmon {

void Cusum::save(ByteWriter& out) const {
  out.f64(up_.sum);
  out.f64(down_.sum);
}

void Cusum::load(ByteReader& in) {
  up_ = down_ = Side{};
  clock_s_ = 0.0;
  up_.sum = up_.highest = in.f64();
  down_.sum = down_.highest = in.f64();
}

}  // namespace ctmon
