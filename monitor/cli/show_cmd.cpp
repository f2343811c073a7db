// ctmon show ID: everything about one episode: its times, the evidence per counter, the
// detectors that fired, and a chart of the moving counters' rates around it (terminal, --svg
// FILE for a browser); --csv dumps the window's samples as a replay CSV.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>

#include <fmt/core.h>

#include "core/measurement.h"
#include "core/time.h"
#include "monitor/cli/chart.h"
#include "monitor/cli/commands.h"
#include "monitor/cli/config_flags.h"
#include "monitor/cli/event_table.h"
#include "monitor/cli/live_series.h"
#include "monitor/cli/series_rates.h"
#include "monitor/cli/svg_chart.h"
#include "monitor/cli/terminal.h"
#include "monitor/cli/time_arg.h"
#include "monitor/clock.h"
#include "monitor/config/config.h"
#include "monitor/store/database.h"
#include "monitor/store/event_store.h"
#include "monitor/store/sample_reader.h"
#include "monitor/store/sqlite_handle.h"
#include "monitor/user_error.h"

namespace ctmon::cli {
namespace {

// Samples read before the window so that its first sample already has a rate.
constexpr std::int64_t kRateLeadIn_ns = 120 * kNsPerS;
constexpr std::size_t kMaxPanels = 4;
// Probe panels come after the counters': RTT, jitter and loss of up to two targets.
constexpr std::size_t kMaxProbePanels = 6;
constexpr std::size_t kRecentIdsInError = 5;

struct ShowOptions {
  std::int64_t id = 0;
  std::string svg;
  bool csv = false;
  std::string margin = "5m";
};


// `text` broken at spaces into lines of at most `width` columns, lines after the first indented
// by `indent` blanks; a word longer than a line stays whole.
std::string wrap_words(const std::string& text, std::size_t width, std::size_t indent) {
  std::string out, line;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    const std::size_t limit = width > indent ? width - indent : 1;
    if (!line.empty() && display_width(line) + 1 + display_width(word) > limit) {
      out += line + "\n" + std::string(indent, ' ');
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    start = end + 1;
  }
  return out + line;
}

[[noreturn]] void unknown_id(const store::EventStore& events, std::int64_t id, const std::string& db) {
  store::EventFilter recent;
  recent.limit = kRecentIdsInError;
  const std::vector<store::EventRecord> latest = events.list(recent);
  if (latest.empty()) throw UserError(fmt::format("no episode {} in {}: no episodes are recorded yet", id, db));
  std::string ids;
  for (const auto& e : latest) ids += (ids.empty() ? "" : ", ") + std::to_string(e.id);
  throw UserError(fmt::format("no episode {} in {}; the most recent are {} ('ctmon events' lists them all)", id, db, ids));
}

std::string details(const store::EventRecord& e, const std::vector<events::Evidence>& evidence, std::int64_t now, const Terminal& term) {
  std::string out = fmt::format("Episode {}: {}, where {}, score {:.2f}\n", e.id, e.kind, e.where, e.peak_score);
  out += fmt::format("  started    {}  ({})\n", format_local_time(e.start_wall_ns), rfc3339_utc(e.start_wall_ns));
  if (e.end_wall_ns)
    out += fmt::format("  ended      {}  after {}\n", format_local_time(*e.end_wall_ns),
                       format_duration_brief(*e.end_wall_ns - e.start_wall_ns));
  else
    out += fmt::format("  ended      {}, {} so far\n", paint("still open", "1", term.colour), format_duration_brief(now - e.start_wall_ns));
  out += fmt::format("  summary    {}\n", wrap_words(e.summary, term.width, 13));
  std::string detectors = e.detectors;
  std::replace(detectors.begin(), detectors.end(), ',', ' ');
  out += fmt::format("  detectors  {}\n", detectors.empty() ? "(none recorded)" : detectors);
  if (evidence.empty()) return out + "  (no counter stood out: the combination of counters was unusual)\n";
  out += "\nCounters that moved:\n";
  out += fmt::format("  {:<26} {:>8} {:>8} {:>7} {:>6}  {}\n", "counter", "peak/s", "usual/s", "ratio", "score", "peaked at");
  for (const events::Evidence& c : evidence) {
    // A probe or the table: its value in its unit ("85 ms"), and no ratio of latencies.
    const MeasureUnit unit = measure_unit(c.name);
    const bool measured = unit != MeasureUnit::packets_per_s;
    out += fmt::format("  {:<26} {:>8} {:>8} {:>7} {:>6.2f}  {}{}\n", counter_label(c.name),
                       measured ? format_measurement(unit, c.peak_pps) : format_pps(c.peak_pps),
                       measured ? format_measurement(unit, c.baseline_pps) : format_pps(c.baseline_pps),
                       measured ? std::string("-") : format_ratio(c), c.peak_score, local_clock(c.peak_wall_ns, true),
                       c.down ? " (fell)" : "");
  }
  return out;
}

void run_show(const Config& config, const ShowOptions& o) {
  const std::optional<double> margin_s = parse_duration_s(o.margin);
  if (!margin_s || *margin_s < 0)
    throw UserError(fmt::format("--margin '{}' is not a duration: use e.g. 5m, 90s, 1h", o.margin));
  const std::int64_t now = now_wall_ns();
  store::Database db = store::Database::open(config.db, store::reader_options());
  try {
    const store::EventStore events(db);
    const std::optional<store::EventRecord> found = events.get(o.id);
    if (!found) unknown_id(events, o.id, config.db);
    const store::EventRecord& e = *found;
    const std::vector<events::Evidence> evidence = events::parse_evidence(e.evidence_json);

    const auto margin_ns = static_cast<std::int64_t>(*margin_s * 1e9);
    ChartWindow window;
    window.band_start_ns = e.start_wall_ns;
    window.band_end_ns = e.end_wall_ns.value_or(now);
    window.from_ns = e.start_wall_ns - margin_ns;
    window.to_ns = std::max(window.band_end_ns + margin_ns, window.from_ns + kNsPerS);
    if (!e.end_wall_ns) window.to_ns = std::max(now, window.from_ns + kNsPerS);
    const store::SampleReader reader(db);

    if (o.csv) {
      store::Series series = reader.read(window.from_ns, window.to_ns);
      add_live_samples(series, config, window.from_ns, window.to_ns);
      std::vector<CounterId> ids;
      for (CounterId id = 0; id < series.catalog.size(); ++id) ids.push_back(id);
      write_replay_csv(stdout, series, ids);
      return;
    }

    store::Series series = reader.read(window.from_ns - kRateLeadIn_ns, window.to_ns);
    // An open episode's last minutes are still in the daemon's RAM, not yet committed.
    add_live_samples(series, config, window.from_ns - kRateLeadIn_ns, window.to_ns);
    std::vector<ChartPanel> panels;
    std::vector<CounterId> ids;
    auto add_panel = [&](CounterId id, std::optional<double> baseline) {
      const std::string& name = series.catalog.name(id);
      const auto [usual, unit] = chart_value(name, baseline.value_or(0));
      panels.push_back({name, counter_label(name), {}, baseline ? std::optional<double>(usual) : std::nullopt, unit});
      ids.push_back(id);
    };
    for (const events::Evidence& c : evidence) {
      if (panels.size() == kMaxPanels) break;
      const CounterId id = series.catalog.find(c.name);
      if (id == series.catalog.size() || parse_probe_counter_name(c.name)) continue;
      add_panel(id, c.baseline_pps);
    }
    // The probes, moved or not: a calm LAN beside a disturbed WAN is the evidence for "isp".
    std::size_t probe_panels = 0;
    for (const char* metric : {"rtt_median_us", "jitter_us", "loss"})
      for (CounterId id = 0; id < series.catalog.size(); ++id) {
        const std::optional<ProbeCounterName> probe = parse_probe_counter_name(series.catalog.name(id));
        if (!probe || probe->metric != metric || probe_panels == kMaxProbePanels) continue;
        const auto moved = std::find_if(evidence.begin(), evidence.end(),
                                        [&](const events::Evidence& c) { return c.name == series.catalog.name(id); });
        add_panel(id, moved != evidence.end() ? std::optional<double>(moved->baseline_pps) : std::nullopt);
        ++probe_panels;
      }
    for_each_rate(series, [&](const Sample& s, const RateFrame& f) {
      if (s.wall_ns < window.from_ns || s.wall_ns >= window.to_ns) return;
      for (std::size_t k = 0; k < ids.size(); ++k)
        if (ids[k] < f.valid.size() && f.valid[ids[k]] != 0)
          panels[k].points.push_back({s.wall_ns, chart_value(panels[k].counter, f.pps[ids[k]]).first});
    });

    const Terminal term = detect_terminal();
    std::string out = details(e, evidence, now, term);
    if (!panels.empty()) {
      out += fmt::format("\nFrom {} to {}:\n", format_local_time(window.from_ns), format_local_time(window.to_ns));
      const bool any_points = std::any_of(panels.begin(), panels.end(), [](const auto& p) { return !p.points.empty(); });
      if (!any_points)
        out += "  (no samples stored for this window: raw samples age out after the retention period)\n";
      else
        for (const ChartPanel& p : panels) out += "\n" + render_terminal_chart(p, window, term);
    }
    if (!o.svg.empty()) {
      const std::string title = fmt::format("ctmon episode {}: {}, score {:.2f}, {}", e.id, e.kind, e.peak_score,
                                            format_local_time(e.start_wall_ns));
      std::ofstream file(o.svg, std::ios::binary | std::ios::trunc);
      file << render_svg_chart(title, panels, window);
      file.close();
      if (!file) throw UserError(fmt::format("cannot write '{}': check that its folder exists and is writable", o.svg));
      out += fmt::format("\nChart written to {}\n", o.svg);
    }
    // Sanitised for the terminal's character set (ASCII under LANG=C), never cut: it is a report.
    std::fputs(fit_width(out, out.size(), term.utf8).c_str(), stdout);
  } catch (const store::SqliteError& err) {
    store::rethrow_as_user_error(config.db, err);
  }
}

}  // namespace

void add_show_command(CLI::App& app) {
  auto options = std::make_shared<ShowOptions>();
  CLI::App* cmd = app.add_subcommand(
      "show",
      "Everything about one episode: times, the counters that moved (peak, usual rate, ratio, when\n"
      "it peaked), the detectors that fired, and a chart of those counters' rates from a few minutes\n"
      "before to a few minutes after, the episode shaded and the usual rate drawn.\n"
      "Example: ctmon show 12 --svg /tmp/episode12.svg");
  auto flags = std::make_shared<ConfigFlags>(cmd, ConfigScope::kDatabase);
  cmd->add_option("id", options->id, "the episode's id, as 'ctmon events' lists it")->required();
  cmd->add_option("--svg", options->svg, "also write the chart as a standalone SVG file (open it in a browser)");
  cmd->add_flag("--csv", options->csv,
                "print only the window's samples as a replay CSV (cumulative packets; 'ctmon replay --input' reads it)");
  cmd->add_option("--margin", options->margin, "time shown before and after the episode (default 5m)");
  cmd->callback([flags, options] { run_show(flags->resolve(), *options); });
}

}  // namespace ctmon::cli
