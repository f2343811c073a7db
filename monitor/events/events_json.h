#pragma once
// The events contract (docs/events.md): one JSON object per episode, the same for a live episode
// (`ctmon replay --json`) and for the record the daemon stored (`ctmon events --json`), field
// for field and digit for digit.

#include <string>

#include <nlohmann/json.hpp>

#include "core/episode.h"
#include "monitor/store/event_store.h"

namespace ctmon::events {

/// The events-contract object for a live `episode`: id, start, end (RFC 3339 UTC; null while
/// open), start_ts, end_ts (Unix seconds to the millisecond; null while open), score (peak,
/// rounded to 0.001), kind, counters [{name, peak_pps, baseline_pps, peak_score, direction,
/// peak_ts, and multivariate_driver: true for a counter listed only for its share of the
/// multivariate score}], summary, detectors (array of names).
[[nodiscard]] nlohmann::json episode_to_json(const Episode& episode);

/// episode_to_json(episode) as one line, without the trailing newline.
[[nodiscard]] std::string episode_json_line(const Episode& episode);

/// The same object for a stored `record`: counters is the stored evidence array as the daemon
/// wrote it ([] when the stored text is not a JSON array), detectors comes from the
/// comma-separated list. For record = to_event_record(e, ...) it equals episode_to_json(e).
[[nodiscard]] nlohmann::json event_record_to_json(const store::EventRecord& record);

/// event_record_to_json(record) as one line, without the trailing newline.
[[nodiscard]] std::string event_record_json_line(const store::EventRecord& record);

}  // namespace ctmon::events
