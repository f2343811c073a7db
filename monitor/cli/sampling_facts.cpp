#include "monitor/cli/sampling_facts.h"

#include <algorithm>
#include <vector>

#include <fmt/core.h>

#include "core/time.h"
#include "monitor/store/meta_store.h"
#include "monitor/store/sample_reader.h"

namespace ctmon::cli {
namespace {

// How far back from the newest stored sample to look when measuring the interval: a few blocks'
// worth is plenty for a median and cheap to decode.
constexpr std::int64_t kIntervalProbe_ns = 600 * kNsPerS;

std::optional<double> measured_interval_s(const store::Database& db, std::int64_t newest_wall_ns) {
  const store::Series series =
      store::SampleReader(db).read(newest_wall_ns - kIntervalProbe_ns, newest_wall_ns + 1);
  std::vector<std::int64_t> steps;
  std::size_t next_run = 0;
  for (std::size_t i = 0; i < series.samples.size(); ++i) {
    const bool run_start = next_run < series.run_starts.size() && series.run_starts[next_run] == i;
    if (run_start) ++next_run;
    if (i > 0 && !run_start && i >= series.first_raw) {
      const std::int64_t step = series.samples[i].mono_ns - series.samples[i - 1].mono_ns;
      if (step > 0) steps.push_back(step);
    }
  }
  if (steps.empty()) return std::nullopt;
  std::nth_element(steps.begin(), steps.begin() + static_cast<std::ptrdiff_t>(steps.size() / 2), steps.end());
  // Whole milliseconds: a median of jittered steps should read "5 s", not "5.0013 s".
  return static_cast<double>((steps[steps.size() / 2] + 500'000) / 1'000'000) / 1000.0;
}

}  // namespace

SamplingFacts sampling_facts(store::Database& db, const std::optional<status::DaemonStatus>& status) {
  SamplingFacts facts;
  const store::SampleExtent extent = store::SampleReader(db).extent();
  facts.newest_stored_wall_ns = extent.newest_raw_wall_ns;
  facts.first_sample_wall_ns = store::MetaStore(db).get_int("first_sample_wall_ns");
  if (!facts.first_sample_wall_ns)
    facts.first_sample_wall_ns = extent.oldest_rollup_wall_ns ? extent.oldest_rollup_wall_ns : extent.oldest_raw_wall_ns;
  if (status && status->interval_s > 0)
    facts.interval_s = status->interval_s;
  else if (extent.newest_raw_wall_ns)
    facts.interval_s = measured_interval_s(db, *extent.newest_raw_wall_ns);
  return facts;
}

std::optional<status::DaemonStatus> status_for_db(const std::optional<status::DaemonStatus>& status,
                                                  const std::filesystem::path& db_path) {
  if (!status) return std::nullopt;
  std::error_code error;
  if (std::filesystem::equivalent(status->store.db, db_path, error) && !error) return status;
  return std::nullopt;
}

std::string format_interval(double seconds) {
  if (seconds >= 120 && static_cast<std::int64_t>(seconds) % 60 == 0)
    return fmt::format("{} min", static_cast<std::int64_t>(seconds) / 60);
  return fmt::format("{:g} s", seconds);
}

}  // namespace ctmon::cli
