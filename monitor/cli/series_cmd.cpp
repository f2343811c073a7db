// ctmon series: the recorded samples, as rates (packets/s) or raw totals, as a table, CSV or JSON.
// --csv writes the replay CSV (docs/formats.md), so anything recorded can be replayed.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "core/measurement.h"
#include "core/time.h"
#include "detectors/rate_tracker.h"
#include "monitor/cli/commands.h"
#include "monitor/cli/config_flags.h"
#include "monitor/cli/live_series.h"
#include "monitor/cli/series_rates.h"
#include "monitor/cli/time_arg.h"
#include "monitor/clock.h"
#include "monitor/store/database.h"
#include "monitor/store/sample_reader.h"
#include "monitor/store/sqlite_handle.h"
#include "monitor/user_error.h"

namespace ctmon::cli {
namespace {


struct SeriesOptions {
  std::optional<std::string> since, until;
  std::vector<std::string> counters;
  bool csv = false;
  bool json = false;
  bool raw = false;
};


// The catalog ids to print, in the order asked for (all of them by default).
std::vector<CounterId> select_counters(const CounterCatalog& catalog,
                                       const std::vector<std::string>& wanted) {
  std::vector<CounterId> ids;
  if (wanted.empty()) {
    for (CounterId id = 0; id < catalog.size(); ++id) ids.push_back(id);
    return ids;
  }
  for (const auto& name : wanted) {
    const CounterId id = catalog.find(name);
    if (id == catalog.size()) {
      std::string known;
      for (const auto& n : catalog.names()) known += (known.empty() ? "" : ", ") + n;
      throw UserError(fmt::format("no counter named '{}' in the database; recorded counters: {}",
                                  name, known.empty() ? "none yet" : known));
    }
    ids.push_back(id);
  }
  return ids;
}

void write_json(const store::Series& series, const std::vector<CounterId>& ids, bool raw) {
  auto line = [&](const Sample& sample, const RateFrame* frame) {
    nlohmann::json values = nlohmann::json::object();
    for (const CounterId id : ids) {
      const bool present = id < sample.counters.size() && sample.counters[id].present;
      if (raw)
        values[series.catalog.name(id)] =
            present ? nlohmann::json(sample.counters[id].packets) : nlohmann::json(nullptr);
      else
        values[series.catalog.name(id)] =
            frame != nullptr && id < frame->valid.size() && frame->valid[id] != 0
                ? nlohmann::json(frame->pps[id])
                : nlohmann::json(nullptr);
    }
    const nlohmann::json out = {{"time", rfc3339_utc(sample.wall_ns)},
                                {"ts", static_cast<double>(sample.wall_ns) / kNsPerS},
                                {raw ? "packets" : "pps", std::move(values)}};
    fmt::print("{}\n", out.dump());
  };
  if (raw)
    for (const Sample& sample : series.samples) line(sample, nullptr);
  else
    for_each_rate(series, [&](const Sample& s, const RateFrame& f) { line(s, &f); });
}

// "tcp_conntrack_fwd_invalid" -> "tcp.fwd.invalid", "probe_wan_jitter_us" -> "WAN.jitter.ms":
// the table stays readable on a terminal, and a measurement's column says its unit.
std::string short_name(const std::string& name) {
  if (std::optional<std::string> label = measurement_label(name)) {
    std::replace(label->begin(), label->end(), ' ', '.');
    const MeasureUnit unit = measure_unit(name);
    if (unit == MeasureUnit::microseconds) *label += ".ms";
    if (unit == MeasureUnit::fraction) *label += ".%";
    return *label;
  }
  const CounterName parts = parse_counter_name(name);
  return parts.conforms ? parts.proto + "." + parts.hook + "." + parts.state : name;
}

// One table cell: packets/s, or a measurement in the unit its column header names.
std::string cell_value(MeasureUnit unit, double value) {
  switch (unit) {
    case MeasureUnit::microseconds: return fmt::format("{:.2f}", value / 1000.0);
    case MeasureUnit::fraction: return fmt::format("{:.1f}", value * 100.0);
    case MeasureUnit::entries: return fmt::format("{:.0f}", value);
    case MeasureUnit::packets_per_s: break;
  }
  return fmt::format("{:.1f}", value);
}

void write_table(const store::Series& series, const std::vector<CounterId>& ids, bool raw) {
  std::vector<std::size_t> widths;
  std::string header = fmt::format("{:<19}", "time");
  for (const CounterId id : ids) {
    const std::string name = short_name(series.catalog.name(id));
    widths.push_back(std::max<std::size_t>(name.size(), raw ? 12 : 9));
    header += fmt::format("  {:>{}}", name, widths.back());
  }
  fmt::print("{}\n", header);
  auto row = [&](const Sample& sample, const RateFrame* frame) {
    std::string line = format_local_time(sample.wall_ns);
    for (std::size_t k = 0; k < ids.size(); ++k) {
      const CounterId id = ids[k];
      std::string cell = "-";
      if (raw && id < sample.counters.size() && sample.counters[id].present)
        cell = std::to_string(sample.counters[id].packets);
      if (!raw && frame != nullptr && id < frame->valid.size() && frame->valid[id] != 0)
        cell = cell_value(measure_unit(series.catalog.name(id)), frame->pps[id]);
      line += fmt::format("  {:>{}}", cell, widths[k]);
    }
    fmt::print("{}\n", line);
  };
  if (raw)
    for (const Sample& sample : series.samples) row(sample, nullptr);
  else
    for_each_rate(series, [&](const Sample& s, const RateFrame& f) { row(s, &f); });
}

void run_series(const Config& config, const SeriesOptions& options) {
  const std::int64_t now = now_wall_ns();
  const std::int64_t since =
      options.since ? parse_time_arg("--since", *options.since, now)
                    : std::numeric_limits<std::int64_t>::min();
  const std::int64_t until =
      options.until ? parse_time_arg("--until", *options.until, now)
                    : std::numeric_limits<std::int64_t>::max();
  if (since >= until)
    throw UserError(fmt::format("--since {} is not before --until {}", *options.since,
                                *options.until));

  const store::Database db = store::Database::open(config.db, store::reader_options());
  store::Series series;
  try {
    series = store::SampleReader(db).read(since, until);
    add_live_samples(series, config, since, until);
  } catch (const store::SqliteError& e) {
    store::rethrow_as_user_error(config.db, e);
  }
  const std::vector<CounterId> ids = select_counters(series.catalog, options.counters);
  if (options.csv)
    write_replay_csv(stdout, series, ids);
  else if (options.json)
    write_json(series, ids, options.raw);
  else if (series.samples.empty())
    fmt::print(stderr, "no samples in {} for that time range\n", config.db);
  else
    write_table(series, ids, options.raw);
}

}  // namespace

void add_series_command(CLI::App& app) {
  auto options = std::make_shared<SeriesOptions>();
  CLI::App* series = app.add_subcommand(
      "series",
      "Print the recorded samples: rates in packets/s (or --raw cumulative totals); probes and the\n"
      "conntrack table in their units (RTT and jitter in ms, loss in %, entries), per interval.\n"
      "--csv writes the replay CSV (timestamp,<counter>,... with cumulative packets; a probe's or\n"
      "the table's value per row), which 'ctmon replay --input' reads back. Works while the daemon\n"
      "is writing.\n"
      "Example: ctmon series --since 20:00 --until 20:30 --counter tcp_conntrack_fwd_invalid");
  auto flags = std::make_shared<ConfigFlags>(series, ConfigScope::kDatabase);
  series->add_option("--since", options->since,
                     "from this time: 2h, 3d, today, yesterday, 20:10, 2026-11-27T20:10:00Z");
  series->add_option("--until", options->until, "up to this time (same forms)");
  series->add_option("--counter", options->counters, "only this counter (repeatable)");
  auto* format = series->add_option_group("format");
  format->add_flag("--csv", options->csv, "the replay CSV (always cumulative packets)");
  format->add_flag("--json", options->json,
                   "one JSON object per sample: time, ts, pps (or packets with --raw); under pps a\n"
                   "probe's or the table's value in its name's unit (_us: microseconds, _loss: 0..1)");
  format->require_option(0, 1);
  series->add_flag("--raw", options->raw, "cumulative packet totals instead of rates");
  series->callback([flags, options] { run_series(flags->resolve(), *options); });
}

}  // namespace ctmon::cli
