#include "monitor/cli/event_table.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/core.h>

#include "core/episode.h"
#include "core/measurement.h"
#include "core/sample.h"
#include "core/time.h"
#include "monitor/cli/time_arg.h"

namespace ctmon::cli {
namespace {

constexpr std::size_t kCountersPerLine = 2;


std::string score_colour(double score) {
  if (score >= 0.9) return "1;31";
  if (score >= 0.7) return "33";
  return "";
}

}  // namespace

std::string counter_label(std::string_view counter_name) {
  if (std::optional<std::string> label = measurement_label(counter_name)) return *std::move(label);
  const CounterName parts = parse_counter_name(counter_name);
  if (!parts.conforms) return std::string(counter_name);
  return parts.proto + " " + parts.hook + " " + parts.state;
}

std::string format_ratio(const events::Evidence& e) {
  // One rule with the detectors' summary (core/episode.h): below about 1 pps usual, a ratio
  // is an artefact of a near-zero estimate ("22381x"), so the change is written as "from ~0".
  if (!ratio_is_meaningful(e.baseline_pps)) return e.down ? "to " + format_pps(e.peak_pps) : "from ~0";
  if (e.down) return fmt::format("-{:.0f}%", std::max(0.0, 100.0 * (1.0 - e.peak_pps / e.baseline_pps)));
  const double ratio = e.peak_pps / e.baseline_pps;
  if (ratio >= 10) return fmt::format("{:.0f}x", ratio);
  if (ratio >= 1) return fmt::format("{:.1f}x", ratio);
  return fmt::format("{:.2f}x", ratio);
}

std::string format_change(const events::Evidence& e) {
  // A probe or the conntrack table: both values in their unit ("4.2 ms to 85 ms"); a ratio of
  // latencies or of a loss from 0 says less than the two numbers.
  if (const MeasureUnit unit = measure_unit(e.name); unit != MeasureUnit::packets_per_s)
    return format_measurement(unit, e.baseline_pps) + " to " + format_measurement(unit, e.peak_pps);
  if (!ratio_is_meaningful(e.baseline_pps))
    return fmt::format("~{} to {} pps", format_pps(e.baseline_pps < 0.05 ? 0 : e.baseline_pps), format_pps(e.peak_pps));
  return format_ratio(e) + " to " + format_pps(e.peak_pps) + " pps";
}

std::string format_pps(double pps) {
  const double a = std::fabs(pps);
  if (a >= 10000) return fmt::format("{:.0f}k", pps / 1000);
  if (a >= 1000) return fmt::format("{:.1f}k", pps / 1000);
  if (a >= 10) return fmt::format("{:.0f}", pps);
  if (a >= 1) return fmt::format("{:.1f}", pps);
  if (a >= 0.01 || a == 0) return fmt::format("{:.2g}", pps);
  return fmt::format("{:.1g}", pps);
}

std::string event_table_header(const Terminal& term) {
  const std::string line = fmt::format("{:>4}  {:14}  {:>5}  {:14}  {:10}  {:5}  {}", "id", "start",
                                       "dur", "kind", "where", "score", "moved  summary");
  return fit_width(line, term.width, term.utf8);
}

std::string event_line(const store::EventRecord& r, const Terminal& term) {
  const std::string duration =
      r.end_wall_ns ? format_duration_brief(*r.end_wall_ns - r.start_wall_ns) : std::string("open");
  std::string counters;
  const std::vector<events::Evidence> evidence = events::parse_evidence(r.evidence_json);
  for (std::size_t i = 0; i < evidence.size() && i < kCountersPerLine; ++i)
    counters += (i > 0 ? ", " : "") + counter_label(evidence[i].name) + " " + format_change(evidence[i]);
  // Colour is applied after the widths are fixed: escapes take no columns (display_width).
  const std::string score = fmt::format("{:5.2f}", r.peak_score);
  std::string line = fmt::format(
      "{:>4}  {:14}  {:>5}  {:14}  {:10}  {}  {}{}{}", r.id, format_local_time(r.start_wall_ns, "%m-%d %H:%M:%S"),
      r.end_wall_ns ? duration : paint(fmt::format("{:>5}", duration), "1", term.colour), r.kind, r.where,
      paint(score, score_colour(r.peak_score), term.colour), counters, counters.empty() ? "" : "  ",
      r.summary);
  return fit_width(line, term.width, term.utf8);
}

}  // namespace ctmon::cli
