#pragma once
// Episodes in the `events` table, written the moment they open, change or close (not at the next
// sample commit: a power cut must never lose an episode). Plain structs owned by the store, so
// the store does not depend on the detectors' types; the daemon maps its episodes to these.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "monitor/store/database.h"

namespace ctmon::store {

struct EventRecord {
  std::int64_t id = 0;                       ///< chosen by the caller (next_event_id())
  std::int64_t start_wall_ns = 0;
  std::optional<std::int64_t> end_wall_ns;   ///< nullopt while the episode is open
  double peak_score = 0;                     ///< 0..1
  std::string kind;                          ///< wan_drop, invalid_burst, scan, ..., unknown
  std::string where = "unknown";             ///< isp, router, lan_device, unknown (column `location`)
  std::string summary;                       ///< one human sentence
  std::string evidence_json = "[]";          ///< JSON array: the counters that moved
  std::string detectors;                     ///< comma-separated names of the detectors that fired
  std::int64_t updated_wall_ns = 0;

  friend bool operator==(const EventRecord&, const EventRecord&) = default;
};

/// Filters for list(); unset fields do not filter.
struct EventFilter {
  std::optional<std::int64_t> since_wall_ns = std::nullopt;  ///< episodes still running at or after this time
  std::optional<std::int64_t> until_wall_ns = std::nullopt;  ///< episodes that started before this time
  std::optional<std::string> kind = std::nullopt;
  std::optional<double> min_score = std::nullopt;
  bool open_only = false;                     ///< only episodes with no end yet
  std::optional<std::size_t> limit = std::nullopt;
};

class EventStore {
 public:
  /// `db` must outlive the store; read-only databases allow only list/get.
  explicit EventStore(Database& db) : db_(db) {}

  /// Inserts the event, or replaces every field of the one with the same id, in its own
  /// transaction (durable when this returns). Throws SqliteError (e.g. SQLITE_BUSY after the
  /// busy timeout, SQLITE_FULL); the caller keeps the record and may retry.
  void upsert(const EventRecord& e);

  /// The event with this id, or nullopt.
  [[nodiscard]] std::optional<EventRecord> get(std::int64_t id) const;

  /// Events matching `f`, newest start first. An episode overlaps [since, until) when it started
  /// before `until` and has not ended before `since` (open ones never have).
  [[nodiscard]] std::vector<EventRecord> list(const EventFilter& f = {}) const;

  /// One more than the largest id stored (1 for an empty table).
  [[nodiscard]] std::int64_t next_event_id() const;

 private:
  Database& db_;
};

}  // namespace ctmon::store
