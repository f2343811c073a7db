#pragma once
// Minute rollups: the raw sample stream thinned to what long retention needs. A rollup keeps
// cumulative totals, so the rate over any kept interval is exact; it keeps
//  - the last sample of every minute (by monotonic time), and
//  - both samples around every discontinuity: a counter that decreased (reset or wrap), appeared
//    or disappeared, a gap (a step over 3x the previous one), monotonic time going backwards, or
//    the wall clock jumping against the monotonic one (more than kWallJumpNs),
// so the rollups tell resets, gaps and clock jumps apart just as the raw samples do.

#include <cstdint>
#include <optional>
#include <vector>

#include "core/sample.h"
#include "monitor/store/database.h"

namespace ctmon::store {

/// A change of (wall - mono) above this between two samples counts as a wall clock jump.
inline constexpr std::int64_t kWallJumpNs = 100'000'000;  // 100 ms

/// True when the step from `a` to `b` is a discontinuity in the sense above. `prev_step_ns` is
/// the monotonic step before `a` (0 when unknown: no gap detection then).
[[nodiscard]] bool is_discontinuity(const Sample& a, const Sample& b, std::int64_t prev_step_ns);

/// Thins a stream of samples (counters indexed by any fixed id space) as described above.
/// Feed samples in order with push(); kept samples are appended to the vector passed in.
class RollupThinner {
 public:
  explicit RollupThinner(std::int64_t step_ns = 60'000'000'000) : step_ns_(step_ns) {}

  /// Offers the next sample. May append the *previous* sample to `out` (a sample's fate is
  /// known only once its successor is seen).
  void push(const Sample& s, std::vector<Sample>& out);
  /// The sample held back awaiting its successor, if any. It belongs in a rollup written now
  /// (e.g. at shutdown); push() decides it for good later.
  [[nodiscard]] const std::optional<Sample>& pending() const { return prev_; }
  /// Forgets the held-back sample (after a restart of the stream).
  void reset() { prev_.reset(), prev_step_ns_ = 0, keep_prev_ = false; }

 private:
  std::int64_t step_ns_;
  std::optional<Sample> prev_;
  std::int64_t prev_step_ns_ = 0;
  bool keep_prev_ = false;  // prev_ follows a discontinuity: keep it whatever comes next
};

/// Rebuilds the rollup ring from the raw ring: every rollup block whose source raw blocks are
/// all still in the raw ring is replaced by one made from them. Returns the number of rollup
/// blocks written. Pass the writer's settings (SampleWriterOptions). Run it while no writer is
/// active (e.g. at daemon start, before the SampleWriter is made; cheap: ~600 block decodes);
/// it takes the write lock for its duration. Throws SqliteError on failure (nothing changed).
std::size_t rebuild_rollups(Database& db, std::int64_t rollup_block_s = 3600,
                            std::int64_t retention_rollup_s = 30 * 86400,
                            std::int64_t time_unit_ns = 1000);

}  // namespace ctmon::store
