#pragma once
// A stored episode (store::EventRecord) as the events contract prints it (ARCHITECTURE.md
// "Events"), field for field and digit for digit what episode_to_json() (events_json.h) prints
// for the live episode, so `ctmon events --json` and `ctmon replay --json` agree.

#include <string>

#include <nlohmann/json.hpp>

#include "monitor/store/event_store.h"

namespace ctmon::cli {

/// The events-contract object for `record`: id, start, end (null while open), start_ts, end_ts,
/// score (rounded to 0.001), kind, counters (the stored evidence array as written by the daemon;
/// [] when the stored text is not a JSON array), summary, detectors (array, from the
/// comma-separated list).
[[nodiscard]] nlohmann::json event_record_to_json(const store::EventRecord& record);

/// event_record_to_json(record) as one line, without the trailing newline.
[[nodiscard]] std::string event_record_json_line(const store::EventRecord& record);

}  // namespace ctmon::cli
