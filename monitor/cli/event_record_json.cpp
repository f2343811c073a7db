#include "monitor/cli/event_record_json.h"

#include <string_view>

#include "monitor/cli/events_json.h"

namespace ctmon::cli {

nlohmann::json event_record_to_json(const store::EventRecord& r) {
  // The times and the score go through episode_to_json itself, so their rounding and format
  // can never drift from what `ctmon replay --json` prints; the fields an Episode holds in
  // another form (kind, counters, detectors) are then set from the record.
  Episode e;
  e.id = static_cast<std::uint64_t>(r.id);
  e.start_wall_ns = r.start_wall_ns;
  e.open = !r.end_wall_ns.has_value();
  e.end_wall_ns = r.end_wall_ns.value_or(0);
  e.peak_score = r.peak_score;
  e.summary = r.summary;
  nlohmann::json j = episode_to_json(e);
  j["kind"] = r.kind;
  // The daemon stores episode_to_json()'s "counters" array verbatim: pass it through, so the
  // numbers are the ones the live episode printed.
  nlohmann::json counters = nlohmann::json::parse(r.evidence_json, nullptr, /*allow_exceptions=*/false);
  j["counters"] = counters.is_array() ? std::move(counters) : nlohmann::json::array();
  nlohmann::json detectors = nlohmann::json::array();
  std::string_view rest = r.detectors;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    if (!name.empty()) detectors.push_back(std::string(name));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  j["detectors"] = std::move(detectors);
  return j;
}

std::string event_record_json_line(const store::EventRecord& record) {
  return event_record_to_json(record).dump();
}

}  // namespace ctmon::cli
