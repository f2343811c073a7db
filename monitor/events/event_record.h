#pragma once
// An episode as the store keeps it (store::EventRecord), and its evidence read back: the one
// mapping between the detectors' Episode and the `events` table, used by the daemon's store
// output, by replay and by the commands that read the table.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/episode.h"
#include "monitor/store/event_store.h"

namespace ctmon::events {

/// The store's record of `episode` under `event_id`, stamped `now_wall_ns`: evidence_json is the
/// events JSON's "counters" array (events_json.h), detectors the comma-separated names, end unset
/// while the episode is open.
[[nodiscard]] store::EventRecord to_event_record(const Episode& episode, std::int64_t event_id,
                                                 std::int64_t now_wall_ns);

/// One counter of an episode's evidence, as the daemon stored it (EventRecord::evidence_json).
struct Evidence {
  std::string name;
  double peak_pps = 0;
  double baseline_pps = 0;
  double peak_score = 0;
  bool down = false;               ///< the counter fell rather than rose
  std::int64_t peak_wall_ns = 0;
};

/// Parses the stored evidence array; entries without a name are skipped, a text that is not a
/// JSON array yields an empty list (never throws). Order is kept: strongest first.
[[nodiscard]] std::vector<Evidence> parse_evidence(std::string_view evidence_json);

}  // namespace ctmon::events
