#pragma once
// The durable outbox of the InfluxDB sender: lines of line protocol are committed here first and
// deleted only once InfluxDB accepted them, so nothing is lost to a restart or an outage.
// Bounded: past max_rows the oldest series lines are evicted first, markers only when the
// outbox holds nothing but markers (an episode marker matters more than a rate point).

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "monitor/store/database.h"

namespace ctmon::store {

enum class OutboxClass : std::int64_t {
  kSeries = 0,  ///< rate points: evicted first
  kMarker = 1,  ///< episode markers (ctmon_event)
};

struct OutboxLine {
  OutboxClass cls = OutboxClass::kSeries;
  std::string line;  ///< one line of line protocol, without the trailing newline
};

struct OutboxEntry {
  std::int64_t id = 0;  ///< increasing in enqueue order
  OutboxClass cls = OutboxClass::kSeries;
  std::int64_t created_wall_ns = 0;
  std::int64_t attempts = 0;             ///< failed sends so far
  std::int64_t next_attempt_wall_ns = 0;  ///< not handed out by peek() before this time
  std::string line;
};

struct OutboxOptions {
  std::size_t max_rows = 200'000;  ///< ~20 MB of lines at most; a week of a busy episode stream
};

class Outbox {
 public:
  /// `db` must outlive the outbox.
  explicit Outbox(Database& db, OutboxOptions options = {}) : db_(db), opt_(options) {}

  /// Appends `lines` (in order) in one transaction, durable on return, then evicts down to
  /// max_rows (oldest series first, then oldest markers). Returns how many rows were evicted.
  /// Throws SqliteError (nothing enqueued then).
  std::size_t enqueue(std::span<const OutboxLine> lines, std::int64_t now_wall_ns);

  /// Up to `max` entries due at `now_wall_ns` (next_attempt <= now), markers first, then series,
  /// each class oldest first. Does not remove them.
  [[nodiscard]] std::vector<OutboxEntry> peek(std::size_t max, std::int64_t now_wall_ns) const;

  /// Deletes the entries with these ids (sent, or set aside), in one transaction.
  void remove(std::span<const std::int64_t> ids);

  /// Records a failed attempt for these ids: attempts + 1, not due before `next_attempt_wall_ns`.
  void defer(std::span<const std::int64_t> ids, std::int64_t next_attempt_wall_ns);

  /// Number of rows queued (of one class, or all).
  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] std::size_t size(OutboxClass cls) const;

 private:
  Database& db_;
  OutboxOptions opt_;
};

}  // namespace ctmon::store
