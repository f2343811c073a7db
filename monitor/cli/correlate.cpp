// The work of `ctmon correlate` (monitor/cli/correlate_cmd.cpp has its flags): read the period
// from the store, hand it to the statistics (correlation.h), and word the answer.
#include "monitor/cli/correlate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "core/measurement.h"
#include "monitor/cli/correlation.h"
#include "monitor/events/event_record.h"
#include "monitor/store/database.h"
#include "monitor/store/event_store.h"
#include "monitor/store/sample_reader.h"
#include "monitor/user_error.h"

namespace ctmon::cli {
namespace {

// A day of 1 s samples: ~40 kept series of 86,400 doubles is under 30 MB; more would not fit a
// small router's RAM, so a longer period is refused rather than swapped.
constexpr std::size_t kMaxIntervals = 86'400;
// The store is read an hour at a time: only the kept series grow, never a whole day of samples.
constexpr std::int64_t kBlock_ns = 3600LL * 1'000'000'000;
constexpr std::size_t kTopPredictors = 5;

bool is_jitter(const std::string& name) {
  const auto probe = parse_probe_counter_name(name);
  return probe && probe->metric == "jitter_us";
}
bool is_rate_counter(const std::string& name) { return !measurement_label(name).has_value(); }

std::string label(const std::string& name) { return measurement_label(name).value_or(name); }

std::string thousands(std::size_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string seconds(double s) { return s < 10 ? fmt::format("{:.1f} s", s) : fmt::format("{:.0f} s", s); }

struct TargetResult {
  std::string counter;
  std::vector<Predictor> predictors;
};

struct Result {
  EpisodeSplit episodes;
  std::size_t intervals = 0;
  std::vector<TargetResult> targets;
};

IntervalSeries read_intervals(const store::Database& db, std::int64_t since, std::int64_t until) {
  const store::SampleReader reader(db);
  const store::SampleExtent extent = reader.extent();
  std::optional<std::int64_t> oldest = extent.oldest_rollup_wall_ns ? extent.oldest_rollup_wall_ns
                                                                    : extent.oldest_raw_wall_ns;
  if (extent.oldest_raw_wall_ns && oldest) oldest = std::min(*oldest, *extent.oldest_raw_wall_ns);
  IntervalSeriesBuilder builder([](const std::string& n) { return is_jitter(n) || is_rate_counter(n); },
                                kMaxIntervals);
  if (!oldest || !extent.newest_raw_wall_ns) return builder.take();
  const std::int64_t from = std::max(since, *oldest);
  const std::int64_t to = std::min(until, *extent.newest_raw_wall_ns + 1);
  for (std::int64_t block = from; block < to; block = block > to - kBlock_ns ? to : block + kBlock_ns) {
    const std::int64_t block_end = block > to - kBlock_ns ? to : block + kBlock_ns;
    const store::Series series = reader.read(block, block_end);
    for (std::size_t i = 0; i < series.samples.size(); ++i) {
      if (i != 0 && std::find(series.run_starts.begin(), series.run_starts.end(), i) != series.run_starts.end())
        builder.break_segment();
      if (!builder.add(series.catalog, series.samples[i], series.bytes_stored))
        throw UserError(fmt::format("the period holds more than {} sampling intervals (a day at 1 s), more than "
                                    "ctmon correlates at once on a router: choose a shorter one with --since/--until",
                                    thousands(kMaxIntervals)));
    }
  }
  return builder.take();
}

Result correlate(store::Database& db, std::int64_t since, std::int64_t until) {
  Result r;
  store::EventFilter filter;
  if (since != std::numeric_limits<std::int64_t>::min()) filter.since_wall_ns = since;
  if (until != std::numeric_limits<std::int64_t>::max()) filter.until_wall_ns = until;
  std::vector<EpisodeInput> inputs;
  for (const store::EventRecord& e : store::EventStore(db).list(filter)) {
    EpisodeInput in;
    in.where = e.where;
    for (const events::Evidence& ev : events::parse_evidence(e.evidence_json))
      in.evidence.push_back({ev.name, ev.peak_wall_ns});
    inputs.push_back(std::move(in));
  }
  r.episodes = split_episodes(inputs);

  const IntervalSeries s = read_intervals(db, since, until);
  r.intervals = s.rows();
  std::vector<std::size_t> counters;
  for (std::size_t c = 0; c < s.names.size(); ++c)
    if (is_rate_counter(s.names[c])) counters.push_back(c);
  for (std::size_t c = 0; c < s.names.size(); ++c) {
    if (!is_jitter(s.names[c])) continue;
    if (std::none_of(s.columns[c].begin(), s.columns[c].end(), [](double v) { return !std::isnan(v); })) continue;
    r.targets.push_back({s.names[c], best_predictors(s, c, counters, kTopPredictors)});
  }
  return r;
}

nlohmann::json to_json(const Result& r, std::int64_t since, std::int64_t until) {
  using nlohmann::json;
  const EpisodeSplit& e = r.episodes;
  json out;
  out["since_ns"] = since == std::numeric_limits<std::int64_t>::min() ? json(nullptr) : json(since);
  out["until_ns"] = until == std::numeric_limits<std::int64_t>::max() ? json(nullptr) : json(until);
  out["probe_counters"] = !r.targets.empty();
  json lag = nullptr;
  if (!e.lags_s.empty())
    lag = {{"median", *e.median_lag_s()}, {"min", e.lags_s.front()}, {"max", e.lags_s.back()}};
  out["episodes"] = {{"total", e.total},          {"counters_only", e.counters_only},
                     {"probes_only", e.probes_only}, {"both", e.both},
                     {"probes_first", e.probes_first}, {"counters_first", e.counters_first},
                     {"together", e.together},     {"lag_s", lag},
                     {"where", e.where}};
  out["intervals"] = r.intervals;
  json targets = json::array();
  for (const TargetResult& t : r.targets) {
    json predictors = json::array();
    for (const Predictor& p : t.predictors)
      predictors.push_back({{"counter", p.counter},
                            {"lag_intervals", p.best.lag},
                            {"rho", p.enough_pairs ? json(*p.best.rho) : json(nullptr)},
                            {"pairs", p.best.pairs}});
    targets.push_back({{"counter", t.counter}, {"label", label(t.counter)}, {"predictors", predictors}});
  }
  out["targets"] = targets;
  return out;
}

std::string text_report(const Result& r) {
  const EpisodeSplit& e = r.episodes;
  std::string out = fmt::format("Episodes: {}\n", e.total);
  out += fmt::format("  counters only  {}\n  probes only    {}\n  both           {}", e.counters_only,
                     e.probes_only, e.both);
  if (e.both > 0) {
    out += fmt::format(": probes peaked first in {}, counters first in {}, together in {}", e.probes_first,
                       e.counters_first, e.together);
    out += fmt::format("; lag median {} ({} to {})", seconds(*e.median_lag_s()), seconds(e.lags_s.front()),
                       seconds(e.lags_s.back()));
  }
  out += '\n';
  if (e.total > 0) {
    std::string where;
    for (const auto& [verdict, count] : e.where) where += fmt::format("{}{} {}", where.empty() ? "" : ", ", verdict, count);
    out += "  where          " + where + '\n';
  }
  for (const TargetResult& t : r.targets) {
    const std::string target = label(t.counter);
    out += fmt::format("\nCounters that best predict {} (Spearman rho of the counter's rate against the jitter "
                       "0 to {} intervals later):\n", target, kMaxLag);
    if (t.predictors.empty()) out += "  (no rate counters in the period)\n";
    std::size_t width = 0;
    for (const Predictor& p : t.predictors) width = std::max(width, p.counter.size());
    for (const Predictor& p : t.predictors) {
      const std::string how = p.best.lag == 0 ? fmt::format("moves with {} ", target)
                                              : fmt::format("leads {} by {} interval{}", target, p.best.lag,
                                                            p.best.lag == 1 ? "" : "s");
      const std::string rho = p.enough_pairs ? fmt::format("rho {:+.2f}", *p.best.rho)
                                             : std::string("n too small");
      out += fmt::format("  {:<{}}  {:<{}}  {:<11}  over {} samples\n", p.counter, width, how,
                         target.size() + 26, rho, thousands(p.best.pairs));
    }
  }
  return out;
}

}  // namespace

std::string correlate_report(const std::filesystem::path& db_path, std::int64_t since, std::int64_t until,
                             bool json) {
  store::Database db = store::Database::open(db_path, store::reader_options());
  Result r;
  try {
    r = correlate(db, since, until);
  } catch (const store::SqliteError& e) {
    store::rethrow_as_user_error(db_path, e);
  }
  if (json) return to_json(r, since, until).dump() + '\n';
  if (r.targets.empty())
    return "No probe counters in this period: start the daemon with '--probe auto' (or [probe] targets) to "
           "measure round trips and jitter; README \"Probes\" tells how.\n";
  return text_report(r);
}

}  // namespace ctmon::cli
