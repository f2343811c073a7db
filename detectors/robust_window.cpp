#include "detectors/robust_window.h"

#include <algorithm>
#include <cmath>

namespace ctmon {

SortedWindow::SortedWindow(std::size_t width) : width_(width == 0 ? 1 : width) {
  ring_.reserve(width_);
  sorted_.reserve(width_);
}

void SortedWindow::add(double x) {
  if (ring_.size() == width_) {
    const double oldest = ring_[head_];
    sorted_.erase(std::lower_bound(sorted_.begin(), sorted_.end(), oldest));
    ring_[head_] = x;
    head_ = (head_ + 1) % width_;
  } else {
    ring_.push_back(x);
  }
  sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), x), x);
}

double SortedWindow::median() const {
  const std::size_t n = sorted_.size();
  if (n == 0) return 0.0;
  return n % 2 == 1 ? sorted_[n / 2] : 0.5 * (sorted_[n / 2 - 1] + sorted_[n / 2]);
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

void RollingMedianMad::add(double x) {
  values_.add(x);
  deviations_.add(std::fabs(x - values_.median()));
}

void RollingMedianMad::save(ByteWriter& out) const {
  values_.save(out);
  deviations_.save(out);
}

void RollingMedianMad::load(ByteReader& in) {
  values_.load(in);
  deviations_.load(in);
}

}  // namespace ctmon
