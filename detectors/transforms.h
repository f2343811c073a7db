#pragma once
// Variance-stabilising transforms. Packet counts are roughly Poisson (over-dispersed in
// practice), so their spread grows with their level; after a transform one noise scale fits a
// quiet night and a busy evening alike.
//
//   sqrt:  y = sqrt(rate)        count ~ Poisson(l*dt)  =>  sd(y) ~= 1 / (2 sqrt(dt))
//   log1p: y = log(1 + rate)     multiplicative noise   =>  sd(y) ~= coefficient of variation
//   identity: y = value          gauges (latency, temperature): already on their own scale
//                                (a gauge of whole numbers is a count, and gets sqrt:
//                                AnalyzerConfig::counts_on_sqrt_scale)
//   latency: y = log(1 + value / kLatencyLogOffsetUs)   probe RTT and jitter in microseconds:
//            a ratio scale above the offset (10 -> 20 ms weighs like 50 -> 100 ms), an absolute
//            one below it (0.05 -> 0.1 ms is 0.01, nothing), so a LAN's tiny RTT cannot make
//            a huge relative change out of a few microseconds

#include <cmath>
#include <cstdint>

namespace ctmon {

enum class Transform : std::uint8_t { sqrt, log1p, identity, latency };

/// Where the latency transform turns from absolute to relative: 5 ms, a WAN hop's RTT order.
/// A change well below it counts in absolute milliseconds (5 ms * change in y).
inline constexpr double kLatencyLogOffsetUs = 5000.0;

/// Applies `t` to a non-negative rate (identity passes any value through).
[[nodiscard]] inline double stabilise(Transform t, double value) {
  switch (t) {
    case Transform::sqrt: return std::sqrt(value > 0 ? value : 0.0);
    case Transform::log1p: return std::log1p(value > 0 ? value : 0.0);
    case Transform::identity: return value;
    case Transform::latency: return std::log1p((value > 0 ? value : 0.0) / kLatencyLogOffsetUs);
  }
  return value;
}

/// Inverse of stabilise(), to report baselines in packets per second.
[[nodiscard]] inline double unstabilise(Transform t, double y) {
  switch (t) {
    case Transform::sqrt: return y > 0 ? y * y : 0.0;
    case Transform::log1p: return std::expm1(y > 0 ? y : 0.0);
    case Transform::identity: return y;
    case Transform::latency: return std::expm1(y > 0 ? y : 0.0) * kLatencyLogOffsetUs;
  }
  return y;
}

/// The noise floor of one transformed Poisson-count rate observed over `dt_s` seconds: the
/// smallest standard deviation the data can honestly have (a flat series must not yield
/// infinite z-scores). Zero for identity, whose floor comes from the configuration instead.
[[nodiscard]] inline double poisson_floor(Transform t, double dt_s) {
  if (dt_s <= 0) return 0.0;
  switch (t) {
    case Transform::sqrt: return 0.5 / std::sqrt(dt_s);
    case Transform::log1p: return 1.0 / std::sqrt(dt_s);  // a single packet at rate ~0
    case Transform::identity:
    case Transform::latency: return 0.0;  // values, not counts: the floor is configured
  }
  return 0.0;
}

}  // namespace ctmon
