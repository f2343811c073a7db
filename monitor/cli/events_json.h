#pragma once
// Episodes as the events contract prints them (ARCHITECTURE.md "Events"): one JSON object per
// line with id, start, end (RFC 3339 UTC, end null while open), start_ts, end_ts (unix seconds),
// score (peak, 0..1), kind, counters [{name, peak_pps, baseline_pps, peak_score, direction,
// peak_ts}], summary, detectors. `ctmon replay --json` uses it now; `ctmon events --json` should
// use the same function so both print identical lines.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/episode.h"

namespace ctmon::cli {

/// The events-contract object for `episode` (an open episode gets "end": null, "end_ts": null).
[[nodiscard]] nlohmann::json episode_to_json(const Episode& episode);

/// episode_to_json(episode) as one line, without the trailing newline.
[[nodiscard]] std::string episode_json_line(const Episode& episode);

/// RFC 3339 UTC with a 'Z', whole seconds: "2024-06-03T14:02:11Z".
[[nodiscard]] std::string rfc3339_utc(std::int64_t wall_ns);

}  // namespace ctmon::cli
