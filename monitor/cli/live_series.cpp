#include "monitor/cli/live_series.h"

#include <filesystem>
#include <optional>

#include "monitor/status/live_samples.h"
#include "monitor/status/status_socket.h"

namespace ctmon::cli {
void add_live_samples(store::Series& series, const Config& config, std::int64_t since_wall_ns,
                      std::int64_t until_wall_ns) {
  if (config.status_file.empty()) return;
  const status::Answer answer = status::ask_daemon(status::socket_of(config.status_file),
                                                   status::kSamplesRequest, status::kCourtesyTimeout_ms);
  if (answer.outcome != status::Answer::Outcome::kAnswered) return;
  status::LiveSamples live;
  try {
    live = status::live_samples_from_json(nlohmann::json::parse(answer.body));
  } catch (const std::exception&) {
    return;  // an older or confused daemon: the stored samples are all there is
  }
  std::error_code error;
  if (!std::filesystem::equivalent(live.db, config.db, error) || error) return;

  const std::optional<std::int64_t> newest =
      series.samples.empty() ? std::nullopt : std::optional(series.samples.back().wall_ns);
  std::vector<CounterId> ids;
  for (const std::string& name : live.counters) ids.push_back(series.catalog.intern(name));
  bool first = true;
  for (const Sample& s : live.samples) {
    if ((newest && s.wall_ns <= *newest) || s.wall_ns < since_wall_ns || s.wall_ns >= until_wall_ns) continue;
    if (first && (!live.continues_stored || series.samples.empty()))
      series.run_starts.push_back(series.samples.size());
    first = false;
    Sample mapped;
    mapped.wall_ns = s.wall_ns;
    mapped.mono_ns = s.mono_ns;
    mapped.counters.resize(series.catalog.size());
    for (std::size_t c = 0; c < s.counters.size(); ++c) mapped.counters[ids[c]] = s.counters[c];
    series.samples.push_back(std::move(mapped));
  }
  // The series' contract: every sample's counters are sized to the catalog.
  for (Sample& s : series.samples) s.counters.resize(series.catalog.size());
}

}  // namespace ctmon::cli
