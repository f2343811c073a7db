#include "monitor/probe/probe_stats.h"

#include <algorithm>

namespace ctmon::probe {

std::uint64_t median_of(std::vector<std::uint64_t>& values) {
  const std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const std::uint64_t upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const std::uint64_t lower =
      *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return lower + (upper - lower) / 2;
}

void ProbeStats::on_reply(std::uint64_t probe, std::int64_t rtt_ns) {
  const std::uint64_t rtt_us = rtt_ns <= 0 ? 0 : static_cast<std::uint64_t>((rtt_ns + 500) / 1000);
  rtts_us_.push_back(rtt_us);
  ++totals_.resolved;
  if (have_previous_ && probe == previous_probe_ + 1) {
    ++totals_.jitter_pairs;
    totals_.jitter_us_sum +=
        rtt_us > previous_rtt_us_ ? rtt_us - previous_rtt_us_ : previous_rtt_us_ - rtt_us;
  }
  // A reply older than the previous one (reordered) starts no chain: its successor was
  // already paired, or broken, in send order.
  if (!have_previous_ || probe > previous_probe_) {
    have_previous_ = true;
    previous_probe_ = probe;
    previous_rtt_us_ = rtt_us;
  }
}

void ProbeStats::on_timeout(std::uint64_t probe) {
  ++totals_.resolved;
  ++totals_.lost;
  if (have_previous_ && probe > previous_probe_) have_previous_ = false;
}

void ProbeStats::close_interval() {
  if (rtts_us_.empty()) return;
  const auto [lo, hi] = std::minmax_element(rtts_us_.begin(), rtts_us_.end());
  ++totals_.rtt_intervals;
  totals_.rtt_min_us_sum += *lo;
  totals_.rtt_max_us_sum += *hi;
  totals_.rtt_median_us_sum += median_of(rtts_us_);
  rtts_us_.clear();
}

}  // namespace ctmon::probe
