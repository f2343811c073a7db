#include "monitor/events/events_json.h"

#include <cmath>
#include <string_view>

#include "core/time.h"

namespace ctmon::events {
namespace {

// Unix seconds with millisecond precision: what a JSON reader needs, without float noise.
double unix_seconds(std::int64_t wall_ns) {
  return static_cast<double>(wall_ns / kNsPerMs) / 1000.0;
}

// Three decimals, divided (not multiplied by 0.001) so the JSON shows 22.525, not 22.525000000000002.
double rounded(double v) { return std::round(v * 1000.0) / 1000.0; }

}  // namespace

nlohmann::json episode_to_json(const Episode& e) {
  nlohmann::json j;
  j["id"] = e.id;
  j["start"] = rfc3339_utc(e.start_wall_ns);
  j["end"] = e.open ? nlohmann::json(nullptr) : nlohmann::json(rfc3339_utc(e.end_wall_ns));
  j["start_ts"] = unix_seconds(e.start_wall_ns);
  j["end_ts"] = e.open ? nlohmann::json(nullptr) : nlohmann::json(unix_seconds(e.end_wall_ns));
  j["score"] = rounded(e.peak_score);
  j["kind"] = std::string(to_string(e.kind));
  j["where"] = std::string(to_string(e.where));
  nlohmann::json counters = nlohmann::json::array();
  for (const MovedCounter& c : e.counters) {
    counters.push_back({{"name", c.name},
                        {"peak_pps", rounded(c.peak_pps)},
                        {"baseline_pps", rounded(c.baseline_pps)},
                        {"peak_score", rounded(c.peak_score)},
                        {"direction", c.peak_z < 0 ? "down" : "up"},
                        {"peak_ts", unix_seconds(c.peak_wall_ns)}});
    // Only when set, so the usual evidence array keeps its shape.
    if (c.multivariate_driver) counters.back()["multivariate_driver"] = true;
  }
  j["counters"] = std::move(counters);
  j["summary"] = e.summary;
  nlohmann::json detectors = nlohmann::json::array();
  for (const std::string_view name : detector_names(e.detectors)) detectors.push_back(name);
  j["detectors"] = std::move(detectors);
  return j;
}

std::string episode_json_line(const Episode& episode) { return episode_to_json(episode).dump(); }

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
  j["where"] = r.where;
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

}  // namespace ctmon::events
