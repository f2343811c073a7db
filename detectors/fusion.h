#pragma once
// Score fusion: every detector reports *evidence* u >= 0 in units of its own alarm level
// (u = 1 is exactly "this detector would alarm"), so detectors with different statistics
// (z-scores, CUSUM sums, chi-square distances) compare on one scale:
//
//   point:        u = min(|z_level|, |z_robust|) / point_alarm_sd   (both baselines must agree)
//   cusum:        u = max(S+, S-) / h
//   multivariate: u = max(0, z_wilson_hilferty) / multivariate_alarm_sd
//
//   per counter:  u_c = max(point, cusum)
//   overall:      u   = max(max over scored counters u_c, multivariate)
//   score(u)      = u^4 / (1 + u^4)      in [0, 1): 0.5 at the alarm level, 0.94 at twice it,
//                                        0.06 at half of it, so quiet noise stays near 0.
//
// The maximum (not a sum) keeps the score interpretable: it is the strongest single piece of
// evidence, and adding counters does not inflate it.

#include "core/episode.h"  // DetectorBit: which detector supplied the evidence

namespace ctmon {

/// Maps evidence to an anomaly score in [0, 1).
[[nodiscard]] inline double evidence_to_score(double u) {
  if (!(u > 0)) return 0.0;
  const double u2 = u * u;
  const double u4 = u2 * u2;
  return u4 / (1.0 + u4);
}

}  // namespace ctmon
