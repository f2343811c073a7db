#include "monitor/cli/events_json.h"

#include <cmath>
#include <cstdio>
#include <string_view>

namespace ctmon::cli {
namespace {

constexpr std::int64_t kNsPerS = 1'000'000'000;

// Unix seconds with millisecond precision: what a JSON reader needs, without float noise.
double unix_seconds(std::int64_t wall_ns) {
  return static_cast<double>(wall_ns / 1'000'000) / 1000.0;
}

// Three decimals, divided (not multiplied by 0.001) so the JSON shows 22.525, not 22.525000000000002.
double rounded(double v) { return std::round(v * 1000.0) / 1000.0; }

}  // namespace

std::string rfc3339_utc(std::int64_t wall_ns) {
  std::int64_t s = wall_ns / kNsPerS;
  if (wall_ns % kNsPerS < 0) --s;
  std::int64_t days = s / 86400;
  std::int64_t sod = s % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  // civil_from_days (H. Hinnant)
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(y), m, d,
                static_cast<long long>(sod / 3600), static_cast<long long>(sod % 3600 / 60),
                static_cast<long long>(sod % 60));
  return buf;
}

nlohmann::json episode_to_json(const Episode& e) {
  nlohmann::json j;
  j["id"] = e.id;
  j["start"] = rfc3339_utc(e.start_wall_ns);
  j["end"] = e.open ? nlohmann::json(nullptr) : nlohmann::json(rfc3339_utc(e.end_wall_ns));
  j["start_ts"] = unix_seconds(e.start_wall_ns);
  j["end_ts"] = e.open ? nlohmann::json(nullptr) : nlohmann::json(unix_seconds(e.end_wall_ns));
  j["score"] = rounded(e.peak_score);
  j["kind"] = std::string(to_string(e.kind));
  nlohmann::json counters = nlohmann::json::array();
  for (const MovedCounter& c : e.counters) {
    counters.push_back({{"name", c.name},
                        {"peak_pps", rounded(c.peak_pps)},
                        {"baseline_pps", rounded(c.baseline_pps)},
                        {"peak_score", rounded(c.peak_score)},
                        {"direction", c.peak_z < 0 ? "down" : "up"},
                        {"peak_ts", unix_seconds(c.peak_wall_ns)}});
  }
  j["counters"] = std::move(counters);
  j["summary"] = e.summary;
  nlohmann::json detectors = nlohmann::json::array();
  for (const std::string_view name : detector_names(e.detectors)) detectors.push_back(name);
  j["detectors"] = std::move(detectors);
  return j;
}

std::string episode_json_line(const Episode& episode) { return episode_to_json(episode).dump(); }

}  // namespace ctmon::cli
