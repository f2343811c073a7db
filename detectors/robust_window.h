#pragma once
// Rolling median and MAD over the last W values: a baseline and a spread that a burst cannot
// drag (up to W/2 outliers leave the median where it was).
//
//   median_t = median(x_{t-W+1} .. x_t)
//   MAD_t    = median(|x_i - median_i|)  over the same window, where median_i is the window
//              median when x_i arrived (a streaming stand-in for the textbook MAD, which would
//              need all W deviations recomputed per sample)
//   sigma_t  = 1.4826 * MAD_t            (consistent with the sd for Gaussian noise)
//
// The spread moves slowly, so deviations are recorded every `mad_stride`-th sample only (their
// window then spans W * mad_stride samples): the same estimate at a fraction of the cost.
//
// Each window is a ring (arrival order) plus a sorted copy. A full window finds where the oldest
// value leaves and the newest enters by counting (2W compares independent of each other, which
// pipeline, where a binary search is a chain of dependent loads) and moves the values between
// the two positions by one place. W is a small constant (tens), so a sample costs O(W) simple
// operations and one short memmove, independent of how long the series runs. Values must be
// finite: a NaN or infinity would break the order.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "detectors/state_codec.h"

namespace ctmon {

/// The last W values in arrival order and sorted. Median of an empty window is 0.
class SortedWindow {
 public:
  explicit SortedWindow(std::size_t width);

  void add(double x);
  [[nodiscard]] double median() const {
    const std::size_t n = sorted_.size();
    if (n == 0) return 0.0;
    return n % 2 == 1 ? sorted_[n / 2] : 0.5 * (sorted_[n / 2 - 1] + sorted_[n / 2]);
  }
  [[nodiscard]] std::size_t size() const { return sorted_.size(); }
  [[nodiscard]] std::size_t width() const { return width_; }
  void clear();

  void save(ByteWriter& out) const;
  void load(ByteReader& in);

 private:
  std::size_t width_;
  std::vector<double> ring_;    // arrival order; ring_[head_] is the oldest once full
  std::size_t head_ = 0;
  std::vector<double> sorted_;
};

class RollingMedianMad {
 public:
  /// `width` >= 1 values kept; a deviation is recorded every `mad_stride` >= 1 samples.
  explicit RollingMedianMad(std::size_t width, std::uint32_t mad_stride = 1)
      : values_(width), deviations_(width), mad_stride_(mad_stride == 0 ? 1 : mad_stride) {}

  void add(double x) {
    values_.add(x);
    if (until_deviation_ == 0) {
      deviations_.add(std::fabs(x - values_.median()));
      until_deviation_ = mad_stride_;
    }
    --until_deviation_;
  }
  [[nodiscard]] double median() const { return values_.median(); }
  [[nodiscard]] double mad() const { return deviations_.median(); }
  /// 1.4826 * MAD: a robust standard deviation.
  [[nodiscard]] double sigma() const { return 1.4826 * deviations_.median(); }
  [[nodiscard]] std::size_t size() const { return values_.size(); }

  void save(ByteWriter& out) const;
  void load(ByteReader& in);

 private:
  SortedWindow values_;
  SortedWindow deviations_;
  std::uint32_t mad_stride_;
  std::uint32_t until_deviation_ = 0;
};

}  // namespace ctmon
