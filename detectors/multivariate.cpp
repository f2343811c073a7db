#include "detectors/multivariate.h"

#include <algorithm>
#include <cmath>

namespace ctmon {

ShrinkageMahalanobis::ShrinkageMahalanobis(std::size_t dim, const MultivariateConfig& config)
    : config_(config),
      mean_(Eigen::VectorXd::Zero(static_cast<Eigen::Index>(dim))),
      cov_(Eigen::MatrixXd::Identity(static_cast<Eigen::Index>(dim), static_cast<Eigen::Index>(dim))),
      factor_(static_cast<Eigen::Index>(dim)),
      work_(static_cast<Eigen::Index>(dim)) {}

double ShrinkageMahalanobis::score(const double* z) {
  last_d2_ = 0.0;
  if (n_ < config_.min_samples || !factored_) return 0.0;
  const auto p = mean_.size();
  // Forward substitution L w = z - mu; d^2 = |w|^2. lower_ is L transposed (column j of
  // lower_ = row j of L), so the inner loop walks contiguous memory.
  last_d2_ = 0.0;
  for (Eigen::Index i = 0; i < p; ++i) {
    const double* row = lower_.col(i).data();
    double acc = z[i] - mean_[i];
    for (Eigen::Index k = 0; k < i; ++k) acc -= row[k] * work_[k];
    work_[i] = acc / row[i];
    last_d2_ += work_[i] * work_[i];
  }
  const double pd = static_cast<double>(p);
  const double v = 2.0 / (9.0 * pd);
  return (std::cbrt(last_d2_ / pd) - (1.0 - v)) / std::sqrt(v);
}

void ShrinkageMahalanobis::learn(const double* z) {
  n_ += 1.0;
  const double a = std::max(config_.alpha, 1.0 / n_);
  const auto p = mean_.size();
  for (Eigen::Index i = 0; i < p; ++i) work_[i] = z[i] - mean_[i];
  mean_ += a * work_;
  // In place on the lower triangle (the only one read), column by column (contiguous).
  const double keep = 1.0 - a;
  for (Eigen::Index j = 0; j < p; ++j) {
    double* col = cov_.col(j).data();
    const double wj = a * work_[j];
    for (Eigen::Index i = j; i < p; ++i) col[i] = keep * (col[i] + wj * work_[i]);
  }
  if (++since_refactor_ >= config_.refactor_every || !factored_) refactor();
}

void ShrinkageMahalanobis::refactor() {
  since_refactor_ = 0;
  const auto p = mean_.size();
  Eigen::MatrixXd s = cov_.selfadjointView<Eigen::Lower>();
  const double target = std::max(s.trace() / static_cast<double>(p), 1e-9);
  s *= (1.0 - config_.shrinkage);
  s.diagonal().array() += config_.shrinkage * target;
  factor_.compute(s);
  factored_ = factor_.info() == Eigen::Success;
  if (factored_) lower_ = factor_.matrixL().transpose();
}

void ShrinkageMahalanobis::save(ByteWriter& out) const {
  const auto p = mean_.size();
  out.u32(static_cast<std::uint32_t>(p));
  out.f64(n_);
  for (Eigen::Index i = 0; i < p; ++i) out.f64(mean_[i]);
  for (Eigen::Index j = 0; j < p; ++j)
    for (Eigen::Index i = j; i < p; ++i) out.f64(cov_(i, j));
  // The factor in use is saved too (it lags the covariance by up to refactor_every samples), so
  // a restored detector scores exactly as the saved one would have.
  out.u8(factored_ ? 1 : 0);
  out.u32(since_refactor_);
  if (factored_)
    for (Eigen::Index j = 0; j < p; ++j)
      for (Eigen::Index i = 0; i <= j; ++i) out.f64(lower_(i, j));
}

void ShrinkageMahalanobis::load(ByteReader& in) {
  const auto p = mean_.size();
  if (in.u32() != static_cast<std::uint32_t>(p)) {
    in.fail();
    return;
  }
  n_ = in.f64();
  for (Eigen::Index i = 0; i < p; ++i) mean_[i] = in.f64();
  for (Eigen::Index j = 0; j < p; ++j)
    for (Eigen::Index i = j; i < p; ++i) cov_(i, j) = in.f64();
  factored_ = in.u8() != 0;
  since_refactor_ = in.u32();
  if (factored_) {
    lower_ = Eigen::MatrixXd::Zero(p, p);
    for (Eigen::Index j = 0; j < p; ++j)
      for (Eigen::Index i = 0; i <= j; ++i) lower_(i, j) = in.f64();
    for (Eigen::Index i = 0; i < p; ++i)
      if (!(lower_(i, i) > 0)) in.fail();  // a corrupt factor would divide by zero
  }
  if (!in.ok()) factored_ = false;
}

}  // namespace ctmon
