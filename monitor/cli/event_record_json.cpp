#include "monitor/cli/event_record_json.h"

#include <cmath>
#include <string_view>

#include "monitor/cli/events_json.h"

namespace ctmon::cli {
namespace {

// The same arithmetic as events_json.cpp, so both commands print the same digits.
double unix_seconds(std::int64_t wall_ns) {
  return static_cast<double>(wall_ns / 1'000'000) / 1000.0;
}

double rounded(double v, double step) { return std::round(v / step) * step; }

}  // namespace

nlohmann::json event_record_to_json(const store::EventRecord& r) {
  nlohmann::json j;
  j["id"] = r.id;
  j["start"] = rfc3339_utc(r.start_wall_ns);
  j["end"] = r.end_wall_ns ? nlohmann::json(rfc3339_utc(*r.end_wall_ns)) : nlohmann::json(nullptr);
  j["start_ts"] = unix_seconds(r.start_wall_ns);
  j["end_ts"] = r.end_wall_ns ? nlohmann::json(unix_seconds(*r.end_wall_ns)) : nlohmann::json(nullptr);
  j["score"] = rounded(r.peak_score, 1e-3);
  j["kind"] = r.kind;
  // The daemon stores episode_to_json()'s "counters" array verbatim: pass it through, so the
  // numbers are the ones the live episode printed.
  nlohmann::json counters = nlohmann::json::parse(r.evidence_json, nullptr, /*allow_exceptions=*/false);
  j["counters"] = counters.is_array() ? std::move(counters) : nlohmann::json::array();
  j["summary"] = r.summary;
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
