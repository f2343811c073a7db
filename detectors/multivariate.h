#pragma once
// Mahalanobis distance of a vector of standardised residuals under a shrinkage covariance: finds
// counters moving *against* their usual correlation (a WAN hiccup: forward established falls
// while new and invalid rise), which no single counter's score sees as extreme.
//
//   mu   += a * (z - mu)                               (EWMA mean, a = max(1/n, alpha))
//   C     = (1 - a) * (C + a * (z - mu)(z - mu)^T)     (EWMA covariance, rank-1 per sample)
//   S     = (1 - lambda) * C + lambda * (tr(C) / p) * I   (shrinkage toward a scaled identity,
//                                                    keeps S invertible with p ~ 18 and few
//                                                    effective samples; fixed lambda)
//   d^2   = (z - mu)^T S^-1 (z - mu)                   ~ chi^2(p) when z is ordinary
//   z_d   = ((d^2/p)^(1/3) - (1 - 2/(9p))) / sqrt(2/(9p))   (Wilson-Hilferty: chi^2 -> N(0,1))
//
// Cost: O(p^2) per sample (rank-1 update, triangular solve, both column by column over the
// lower triangle as Eigen vector expressions: at p ~ 18 Eigen's blocked triangular kernels cost
// more than they save) plus a Cholesky of O(p^3) every `refactor_every` samples, amortised.
// p is fixed at construction.

#include <cstddef>
#include <cstdint>

#include <Eigen/Dense>

#include "detectors/state_codec.h"

namespace ctmon {

struct MultivariateConfig {
  double alpha = 1.0 / 3600.0;  ///< covariance memory, per sample
  double shrinkage = 0.2;       ///< lambda
  std::uint32_t refactor_every = 64;
  double min_samples = 300;     ///< no score before this many samples were learned
};

class ShrinkageMahalanobis {
 public:
  /// `dim` >= 1 is the length of every vector passed in.
  ShrinkageMahalanobis(std::size_t dim, const MultivariateConfig& config);

  /// Returns the Wilson-Hilferty normal score of d^2 for `z` (`dim` values), or 0 while fewer
  /// than min_samples have been learned. Does not learn.
  [[nodiscard]] double score(const double* z);

  /// Learns `z` into the mean and covariance (callers skip anomalous samples).
  void learn(const double* z);

  [[nodiscard]] std::size_t dim() const { return static_cast<std::size_t>(mean_.size()); }
  /// The last d^2 computed by score().
  [[nodiscard]] double last_distance2() const { return last_d2_; }

  void save(ByteWriter& out) const;
  void load(ByteReader& in);

 private:
  void refactor();
  void set_lower(Eigen::MatrixXd lower);

  MultivariateConfig config_;
  Eigen::VectorXd mean_;
  Eigen::MatrixXd cov_;
  Eigen::LLT<Eigen::MatrixXd> factor_;
  Eigen::MatrixXd lower_;  // factor_'s L (column-major: the per-sample solve walks columns)
  Eigen::VectorXd inv_diagonal_;  // 1 / diag(L)
  Eigen::VectorXd work_;
  double inv_dim_;      // 1 / p
  double wh_variance_;  // 2 / (9 p), Wilson-Hilferty
  double inv_wh_sd_;    // 1 / sqrt(2 / (9 p))
  double n_ = 0.0;
  std::uint32_t since_refactor_ = 0;
  bool factored_ = false;
  double last_d2_ = 0.0;
};

}  // namespace ctmon
