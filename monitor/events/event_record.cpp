#include "monitor/events/event_record.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "monitor/events/events_json.h"

namespace ctmon::events {

store::EventRecord to_event_record(const Episode& episode, std::int64_t event_id,
                                   std::int64_t now_wall_ns) {
  store::EventRecord record;
  record.id = event_id;
  record.start_wall_ns = episode.start_wall_ns;
  if (!episode.open) record.end_wall_ns = episode.end_wall_ns;
  record.peak_score = episode.peak_score;
  record.kind = std::string(to_string(episode.kind));
  record.where = std::string(to_string(episode.where));
  record.summary = episode.summary;
  record.evidence_json = episode_to_json(episode).at("counters").dump();
  // The table keeps the detector names as one comma-separated column.
  for (const std::string_view name : detector_names(episode.detectors)) {
    if (!record.detectors.empty()) record.detectors += ',';
    record.detectors += name;
  }
  record.updated_wall_ns = now_wall_ns;
  return record;
}

std::vector<Evidence> parse_evidence(std::string_view evidence_json) {
  std::vector<Evidence> out;
  const nlohmann::json array = nlohmann::json::parse(evidence_json, nullptr, false);
  if (!array.is_array()) return out;
  for (const nlohmann::json& item : array) {
    if (!item.is_object() || !item.contains("name") || !item["name"].is_string()) continue;
    Evidence e;
    e.name = item["name"].get<std::string>();
    auto number = [&](const char* key) {
      return item.contains(key) && item[key].is_number() ? item[key].get<double>() : 0.0;
    };
    e.peak_pps = number("peak_pps");
    e.baseline_pps = number("baseline_pps");
    e.peak_score = number("peak_score");
    e.down = item.value("direction", std::string("up")) == "down";
    e.peak_wall_ns = static_cast<std::int64_t>(std::llround(number("peak_ts") * 1000.0)) * kNsPerMs;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace ctmon::events
