#include "detectors/robust_window.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ctmon {

SortedWindow::SortedWindow(std::size_t width) : width_(width == 0 ? 1 : width) {
  ring_.reserve(width_);
  sorted_.reserve(width_);
}

namespace {

// Index of the first element of sorted[0, n) for which `before(element, x)` is false. Branchless
// (the comparison becomes a conditional move): on windows of tens of values the mispredicted
// branches of std::lower_bound cost more than the compares.
template <typename Before>
std::size_t partition_point(const double* sorted, std::size_t n, double x, Before before) {
  if (n == 0) return 0;
  const double* base = sorted;
  while (n > 1) {
    const std::size_t half = n / 2;
    base += static_cast<std::size_t>(before(base[half - 1], x)) * half;  // no branch to mispredict
    n -= half;
  }
  return static_cast<std::size_t>(base - sorted) + (before(*base, x) ? 1 : 0);
}

std::size_t upper_index(const std::vector<double>& v, double x) {
  return partition_point(v.data(), v.size(), x, [](double e, double y) { return !(y < e); });
}

}  // namespace

void SortedWindow::add(double x) {
  if (ring_.size() < width_) {
    ring_.push_back(x);
    sorted_.insert(sorted_.begin() + static_cast<std::ptrdiff_t>(upper_index(sorted_, x)), x);
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
