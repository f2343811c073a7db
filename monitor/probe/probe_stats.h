#pragma once
// The statistics of one probe target, apart from any socket: what the replies and timeouts add
// up to, as the cumulative mean-counter totals of docs/measurements.md.
//
// - rtt_min/median/max: over the replies received since the previous close_interval(); an
//   interval without a reply adds nothing (its value is unknown, never 0).
// - jitter: |RTT_i - RTT_{i-1}| over successive replies in the order the probes were sent; a
//   probe that got no reply (or whose reply came out of order) breaks the chain.
// - loss: a probe counts in `resolved` once its fate is known (a reply, or its timeout) and in
//   `lost` when it timed out; counting both at that moment keeps lost <= resolved in every
//   interval, so the loss of an interval is always within 0..1.
// No allocation per probe once the interval's buffer has grown to the probes of one interval.

#include <cstdint>
#include <vector>

namespace ctmon::probe {

/// Cumulative totals, in the mean counters' packets/bytes sense (µs for times).
struct ProbeTotals {
  std::uint64_t rtt_intervals = 0;  ///< intervals with at least one reply
  std::uint64_t rtt_min_us_sum = 0;
  std::uint64_t rtt_median_us_sum = 0;
  std::uint64_t rtt_max_us_sum = 0;
  std::uint64_t jitter_pairs = 0;
  std::uint64_t jitter_us_sum = 0;
  std::uint64_t resolved = 0;  ///< probes answered or timed out
  std::uint64_t lost = 0;      ///< probes timed out
};

class ProbeStats {
 public:
  /// A reply to the probe number `probe` (0, 1, 2, ... in send order) after `rtt_ns`.
  void on_reply(std::uint64_t probe, std::int64_t rtt_ns);
  /// The probe number `probe` timed out.
  void on_timeout(std::uint64_t probe);
  /// Ends the interval: its min/median/max go into the totals, and the next interval starts.
  void close_interval();

  [[nodiscard]] const ProbeTotals& totals() const { return totals_; }
  /// The replies received in the current interval, in µs (for status).
  [[nodiscard]] const std::vector<std::uint64_t>& interval_rtts_us() const { return rtts_us_; }

 private:
  ProbeTotals totals_;
  std::vector<std::uint64_t> rtts_us_;  // this interval's replies
  bool have_previous_ = false;          // a reply the next one may pair with
  std::uint64_t previous_probe_ = 0;
  std::uint64_t previous_rtt_us_ = 0;
};

/// The median of `values` (reordered): the mean of the two middle ones for an even count.
/// `values` must not be empty.
[[nodiscard]] std::uint64_t median_of(std::vector<std::uint64_t>& values);

}  // namespace ctmon::probe
