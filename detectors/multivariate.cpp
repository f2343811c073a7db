#include "detectors/multivariate.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace ctmon {

ShrinkageMahalanobis::ShrinkageMahalanobis(std::size_t dim, const MultivariateConfig& config)
    : config_(config),
      mean_(Eigen::VectorXd::Zero(static_cast<Eigen::Index>(dim))),
      cov_(Eigen::MatrixXd::Identity(static_cast<Eigen::Index>(dim), static_cast<Eigen::Index>(dim))),
      factor_(static_cast<Eigen::Index>(dim)),
      work_(static_cast<Eigen::Index>(dim)),
      inv_dim_(1.0 / static_cast<double>(dim)),
      wh_variance_(2.0 / (9.0 * static_cast<double>(dim))),
      inv_wh_sd_(1.0 / std::sqrt(wh_variance_)) {}

double ShrinkageMahalanobis::score(const double* z) {
  last_d2_ = 0.0;
  if (n_ < config_.min_samples || !factored_) return 0.0;
  const auto p = mean_.size();
  // Forward substitution L w = z - mu, d^2 = |w|^2, by columns: once w_j is known it is
  // subtracted from all later rows at once. Those updates are independent of each other, so the
  // dependency chain is p steps long instead of the p^2/2 of a dot product per row.
  for (Eigen::Index i = 0; i < p; ++i) work_[i] = z[i] - mean_[i];
  double d2 = 0.0;
  for (Eigen::Index j = 0; j < p; ++j) {
    const double w = work_[j] * inv_diagonal_[j];
    d2 += w * w;
    const Eigen::Index below = p - j - 1;
    work_.tail(below) -= w * lower_.col(j).tail(below);
  }
  last_d2_ = d2;
  return (std::cbrt(last_d2_ * inv_dim_) - (1.0 - wh_variance_)) * inv_wh_sd_;
}

void ShrinkageMahalanobis::learn(const double* z) {
  n_ += 1.0;
  const double a = n_ * config_.alpha >= 1.0 ? config_.alpha : 1.0 / n_;  // max(alpha, 1/n)
  const auto p = mean_.size();
  for (Eigen::Index i = 0; i < p; ++i) work_[i] = z[i] - mean_[i];
  mean_ += a * work_;
  // In place on the lower triangle (the only one read), column by column (contiguous).
  const double keep = 1.0 - a;
  for (Eigen::Index j = 0; j < p; ++j) {
    auto column = cov_.col(j).tail(p - j);
    column = keep * (column + (a * work_[j]) * work_.tail(p - j));
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
  if (factored_) set_lower(factor_.matrixL());
}

void ShrinkageMahalanobis::set_lower(Eigen::MatrixXd lower) {
  lower_ = std::move(lower);
  // The solve multiplies by these: a division per dimension in its dependency chain would cost
  // more than the rest of the solve.
  inv_diagonal_ = lower_.diagonal().cwiseInverse();
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
      for (Eigen::Index i = 0; i <= j; ++i) out.f64(lower_(j, i));  // row by row: L^T's upper triangle
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
    Eigen::MatrixXd lower = Eigen::MatrixXd::Zero(p, p);
    for (Eigen::Index j = 0; j < p; ++j)
      for (Eigen::Index i = 0; i <= j; ++i) lower(j, i) = in.f64();
    for (Eigen::Index i = 0; i < p; ++i)
      if (!(lower(i, i) > 0)) in.fail();  // a corrupt factor would divide by zero
    set_lower(std::move(lower));
  }
  if (!in.ok()) factored_ = false;
}

}  // namespace ctmon
