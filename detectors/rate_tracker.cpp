#include "detectors/rate_tracker.h"

#include <algorithm>
#include <cmath>

#include "core/time.h"

namespace ctmon {
namespace {
// How fast the learned interval follows a changed sampling rate, per continuous step.
constexpr double kIntervalLearnRate = 0.05;
}  // namespace

StepContinuity RateTracker::advance(std::int64_t mono_ns) {
  if (config_.nominal_interval_s > 0) interval_s_ = config_.nominal_interval_s;
  const double dt_s = have_previous_ ? static_cast<double>(ns_between(mono_ns, previous_mono_ns_)) * 1e-9 : 0.0;
  frame_.dt_s = dt_s;
  StepContinuity c = StepContinuity::continuous;
  if (!have_previous_) {
    c = StepContinuity::first;
  } else if (dt_s <= 0.0) {
    c = StepContinuity::time_backwards;
  } else if (interval_s_ > 0.0 && dt_s > config_.gap_intervals * interval_s_) {
    c = StepContinuity::gap;
  } else if (config_.nominal_interval_s <= 0) {
    interval_s_ = interval_s_ == 0.0 ? dt_s : interval_s_ + kIntervalLearnRate * (dt_s - interval_s_);
  }
  // A backwards step (a replay file whose clock was stepped back, a repeated timestamp) makes
  // this reading the new reference: the next step measures from it, so a clock that stays
  // stepped back costs one step without rates, not all of them until it catches up.
  previous_mono_ns_ = mono_ns;
  have_previous_ = true;
  frame_.continuity = c;
  return c;
}

const RateFrame& RateTracker::update(const Sample& sample) {
  static const std::vector<std::uint8_t> kNoMeans;
  return update(sample, kNoMeans);
}

void RateTracker::mean_value(std::size_t c, const CounterTotals& now) {
  const CounterTotals& before = previous_[c];
  if (now.packets < before.packets || now.bytes < before.bytes) {
    frame_.was_reset[c] = 1;
    return;
  }
  const std::uint64_t observations = now.packets - before.packets;
  if (observations == 0) return;  // no value this step; the reference stays
  frame_.pps[c] = static_cast<double>(now.bytes - before.bytes) / static_cast<double>(observations);
  frame_.valid[c] = 1;
}

const RateFrame& RateTracker::update(const Sample& sample, const std::vector<std::uint8_t>& is_mean) {
  const std::size_t n = sample.counters.size();
  frame_.pps.assign(n, 0.0);
  frame_.valid.assign(n, 0);
  frame_.was_reset.assign(n, 0);
  const StepContinuity continuity = advance(sample.mono_ns);

  if (continuity == StepContinuity::continuous) {
    const double inv_dt = 1.0 / frame_.dt_s;
    for (std::size_t c = 0; c < n; ++c) {
      const CounterTotals& now = sample.counters[c];
      if (!now.present || c >= previous_.size() || !previous_[c].present) continue;
      if (c < is_mean.size() && is_mean[c] != 0) {
        mean_value(c, now);
        continue;
      }
      const double pps =
          now.packets < previous_[c].packets
              ? -1.0
              : static_cast<double>(now.packets - previous_[c].packets) * inv_dt;
      if (pps < 0.0 || pps > kMaxPlausiblePps) {
        frame_.was_reset[c] = 1;
        continue;
      }
      frame_.pps[c] = pps;
      frame_.valid[c] = 1;
    }
  }

  // An absent counter forgets its reference: when it comes back its first total is only a new
  // reference, never a delta spanning the absence (it may have been recreated meanwhile).
  previous_.resize(std::max(previous_.size(), n));
  std::copy(sample.counters.begin(), sample.counters.end(), previous_.begin());
  for (std::size_t c = n; c < previous_.size(); ++c) previous_[c].present = false;
  return frame_;
}

const RateFrame& RateTracker::update_gauges(std::int64_t mono_ns, const double* values, std::size_t count) {
  frame_.pps.assign(values, values + count);
  frame_.valid.assign(count, 0);
  frame_.was_reset.assign(count, 0);
  advance(mono_ns);
  for (std::size_t c = 0; c < count; ++c) {
    frame_.valid[c] = std::isfinite(values[c]) ? 1 : 0;  // "inf" parses, but is no reading
    if (!frame_.valid[c]) frame_.pps[c] = 0.0;
  }
  return frame_;
}

}  // namespace ctmon
