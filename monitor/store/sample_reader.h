#pragma once
// The read path for samples: what `ctmon series`, `ctmon show` and the replay CSV export read.
// Merges the raw ring with the minute rollups: rollup samples are used only for the part of the
// stream older than the oldest raw block still in the ring.

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "core/sample.h"
#include "monitor/store/database.h"

namespace ctmon::store {

/// Samples of a wall-time range, in the order they were taken.
struct Series {
  /// The store's counter names; samples[k].counters is indexed by this catalog's ids and sized
  /// to it (counters not present in a sample have present == false).
  CounterCatalog catalog;
  /// Stream order, which is time order on the monotonic clock. Wall time may go backwards
  /// inside (a clock jump is kept as it happened, never re-sorted).
  std::vector<Sample> samples;
  /// samples[0, first_raw) come from minute rollups (raw data of that period has aged out),
  /// samples[first_raw, end) are raw.
  std::size_t first_raw = 0;
  /// Indexes where a new writer run starts (daemon restart or reboot: the monotonic clock and
  /// possibly the counters restarted; a rate across such a boundary is meaningless).
  /// Always holds 0 when samples is non-empty.
  std::vector<std::size_t> run_starts;
  /// False when some sample came from a block written without bytes totals (the writer's
  /// default): their `bytes` are then 0, not a measurement.
  bool bytes_stored = true;
};

/// What the database holds, for `ctmon status` and for choosing a range.
struct SampleExtent {
  std::int64_t raw_blocks = 0, rollup_blocks = 0;
  std::optional<std::int64_t> oldest_raw_wall_ns, newest_raw_wall_ns;
  std::optional<std::int64_t> oldest_rollup_wall_ns;
};

class SampleReader {
 public:
  /// `db` (read-only or read-write) must outlive the reader.
  explicit SampleReader(const Database& db) : db_(db) {}

  /// Samples with since_wall_ns <= wall_ns < until_wall_ns, raw where the raw ring still has
  /// them and minute rollups before that. Runs in one read transaction, so a concurrent commit
  /// is seen entirely or not at all. Throws SqliteError on database errors and
  /// BlockFormatError on a damaged block.
  [[nodiscard]] Series read(std::int64_t since_wall_ns = std::numeric_limits<std::int64_t>::min(),
                            std::int64_t until_wall_ns = std::numeric_limits<std::int64_t>::max()) const;

  /// Block counts and the wall-time extent of the raw ring and the rollups.
  [[nodiscard]] SampleExtent extent() const;

 private:
  const Database& db_;
};

}  // namespace ctmon::store
