#include "detectors/robust_window.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ctmon {

SortedWindow::SortedWindow(std::size_t width) : width_(width == 0 ? 1 : width) {
  ring_.reserve(width_);
  sorted_.reserve(width_);
}

void SortedWindow::add(double x) {
  if (ring_.size() < width_) {
    ring_.push_back(x);
    sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), x), x);  // W times a lifetime
    return;
  }
  // Full: the newest replaces the oldest.
  const double oldest = ring_[head_];
  ring_[head_] = x;
  if (++head_ == width_) head_ = 0;
  double* v = sorted_.data();
  const std::size_t n = sorted_.size();
  // Both positions by counting, in one pass: the compares are independent of each other, where
  // a binary search is a chain of dependent loads that costs more on windows of tens.
  std::size_t out = 0;  // index of (the first copy of) the oldest
  std::size_t in = 0;   // values <= x, the oldest included when x >= oldest
  for (std::size_t i = 0; i < n; ++i) {
    out += static_cast<std::size_t>(v[i] < oldest);
    in += static_cast<std::size_t>(v[i] <= x);
  }
  if (in > out) {
    --in;
    std::memmove(v + out, v + out + 1, (in - out) * sizeof(double));
  } else {
    std::memmove(v + in + 1, v + in, (out - in) * sizeof(double));
  }
  v[in] = x;
}

void SortedWindow::clear() {
  ring_.clear();
  sorted_.clear();
  head_ = 0;
}

void SortedWindow::save(ByteWriter& out) const {
  // Saved oldest first, so loading is just re-adding in order.
  out.u32(static_cast<std::uint32_t>(ring_.size()));
  for (std::size_t i = 0; i < ring_.size(); ++i) out.f64(ring_[(head_ + i) % ring_.size()]);
}

void SortedWindow::load(ByteReader& in) {
  clear();
  const std::uint32_t n = in.u32();
  if (n > width_) {
    in.fail();
    return;
  }
  for (std::uint32_t i = 0; i < n && in.ok(); ++i) {
    const double x = in.f64();
    if (std::isnan(x)) {
      in.fail();  // a NaN would break the sorted invariant
      return;
    }
    add(x);
  }
}

void RollingMedianMad::save(ByteWriter& out) const {
  values_.save(out);
  deviations_.save(out);
  out.u32(until_deviation_);
}

void RollingMedianMad::load(ByteReader& in) {
  values_.load(in);
  deviations_.load(in);
  until_deviation_ = in.u32() % mad_stride_;
}

}  // namespace ctmon
