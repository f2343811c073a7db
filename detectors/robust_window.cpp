#include "detectors/robust_window.h"

#include <algorithm>
#include <cmath>

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

std::size_t lower_index(const std::vector<double>& v, double x) {
  return partition_point(v.data(), v.size(), x, [](double e, double y) { return e < y; });
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
  // Full: the newest replaces the oldest. Shift only the values between the two positions, by
  // one, instead of an erase and an insert that each move half the window.
  const double oldest = ring_[head_];
  ring_[head_] = x;
  if (++head_ == width_) head_ = 0;
  double* v = sorted_.data();
  std::size_t out = lower_index(sorted_, oldest);
  if (x > oldest) {
    while (out + 1 < sorted_.size() && v[out + 1] <= x) {
      v[out] = v[out + 1];
      ++out;
    }
  } else {
    while (out > 0 && v[out - 1] > x) {
      v[out] = v[out - 1];
      --out;
    }
  }
  v[out] = x;
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
  if (until_deviation_ == 0) {
    deviations_.add(std::fabs(x - values_.median()));
    until_deviation_ = mad_stride_;
  }
  --until_deviation_;
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
