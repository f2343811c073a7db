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
  for (Eigen::Index i = 0; i < p; ++i) work_[i] = z[i] - mean_[i];
  factor_.matrixL().solveInPlace(work_);
  last_d2_ = work_.squaredNorm();
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
  cov_.triangularView<Eigen::Lower>() =
      ((1.0 - a) * (cov_ + a * work_ * work_.transpose())).triangularView<Eigen::Lower>();
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
}

void ShrinkageMahalanobis::save(ByteWriter& out) const {
  const auto p = mean_.size();
  out.u32(static_cast<std::uint32_t>(p));
  out.f64(n_);
  for (Eigen::Index i = 0; i < p; ++i) out.f64(mean_[i]);
  for (Eigen::Index j = 0; j < p; ++j)
    for (Eigen::Index i = j; i < p; ++i) out.f64(cov_(i, j));
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
  if (in.ok()) refactor();
}

}  // namespace ctmon
