#pragma once
// Synthetic counters shaped like a home router's 18 conntrack-state counters, with the rates, diurnal shape,
// bursts and one reset of the design-time storage measurements (schema/README.md), plus what
// those left out: bytes (per-counter packet size distributions) and real timer jitter
// (samples land 50-200 us after their deadline, now and then tens of ms late). Deterministic.
// Shared by the store tests and bench/store.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/sample.h"

namespace ctmon::store::testing {

class SyntheticMix {
 public:
  /// Samples every `interval_ns` from wall time `wall0_ns`; `reset_at_wall_ns` (if > 0) zeroes
  /// every counter at that sample (a ruleset reload).
  SyntheticMix(std::int64_t interval_ns, std::int64_t wall0_ns, std::uint64_t seed = 1,
               std::int64_t reset_at_wall_ns = 0);

  /// The 18 counter names, interned in this order.
  [[nodiscard]] const CounterCatalog& catalog() const { return catalog_; }
  /// Produces the next sample.
  [[nodiscard]] Sample next();

 private:
  std::int64_t interval_ns_, wall0_ns_, reset_at_;
  std::int64_t k_ = 0;
  std::mt19937_64 rng_;
  CounterCatalog catalog_;
  std::vector<CounterTotals> totals_;
  double burst_left_s_ = 0, burst_mult_ = 1;
};

}  // namespace ctmon::store::testing
