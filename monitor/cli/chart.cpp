#include "monitor/cli/chart.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/core.h>

#include "core/measurement.h"
#include "core/time.h"
#include "monitor/cli/event_table.h"

namespace ctmon::cli {
namespace {

constexpr std::size_t kAxisLabelWidth = 7;  // "   34.0" then the axis character
constexpr std::size_t kMinPlotWidth = 20;

// The glyphs of one character set.
struct Glyphs {
  const char* full;
  const char* const* partial;  // [1..7] eighths, UTF-8 only
  const char* band;
  const char* baseline;
  const char* axis_tick;       // y axis at a labelled row
  const char* axis;            // y axis elsewhere
  const char* corner;
  const char* x_axis;
  const char* x_tick;
};

constexpr const char* kEighths[] = {"", "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587"};
constexpr Glyphs kUtf8{"\u2588", kEighths, "\u2591", "\u2500", "\u2524", "\u2502", "\u2514", "\u2500", "\u252c"};
constexpr Glyphs kAscii{"#", nullptr, ".", "-", "+", "|", "+", "-", "+"};

}  // namespace

std::string local_clock(std::int64_t wall_ns, bool seconds) {
  const time_t s = static_cast<time_t>(wall_ns / kNsPerS);
  tm local{};
  localtime_r(&s, &local);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, seconds ? "%H:%M:%S" : "%H:%M", &local);
  return buffer;
}

double nice_ceiling(double value) {
  if (!(value > 0)) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
  for (const double step : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (value <= step * magnitude * (1 + 1e-9)) return step * magnitude;
  return 10 * magnitude;
}

std::pair<double, const char*> chart_value(std::string_view counter, double value) {
  switch (measure_unit(counter)) {
    case MeasureUnit::microseconds: return {value / 1000.0, "ms"};
    case MeasureUnit::fraction: return {value * 100.0, "%"};
    case MeasureUnit::entries: return {value, "entries"};
    case MeasureUnit::packets_per_s: break;
  }
  return {value, "packets/s"};
}

std::string render_terminal_chart(const ChartPanel& panel, const ChartWindow& window, const Terminal& term,
                                  std::size_t height) {
  const Glyphs& g = term.utf8 ? kUtf8 : kAscii;
  const std::size_t width = std::max(kMinPlotWidth, term.width > kAxisLabelWidth + 2 ? term.width - kAxisLabelWidth - 2 : 0);
  const double span = static_cast<double>(window.to_ns - window.from_ns);
  auto column_of = [&](std::int64_t t) {
    const double x = static_cast<double>(t - window.from_ns) / span * static_cast<double>(width);
    return static_cast<std::ptrdiff_t>(std::floor(x));
  };

  // The highest rate in each column: a one-sample spike must stay visible when columns are wide.
  std::vector<std::optional<double>> column(width);
  double top = panel.baseline_pps.value_or(0);
  for (const RatePoint& p : panel.points) {
    const std::ptrdiff_t c = column_of(p.wall_ns);
    if (c < 0 || c >= static_cast<std::ptrdiff_t>(width)) continue;
    auto& cell = column[static_cast<std::size_t>(c)];
    cell = std::max(cell.value_or(p.pps), p.pps);
    top = std::max(top, p.pps);
  }
  const double y_max = nice_ceiling(top);
  const std::ptrdiff_t band_from = std::max<std::ptrdiff_t>(0, column_of(window.band_start_ns));
  const std::ptrdiff_t band_to = std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(width) - 1,
                                                          std::max(band_from, column_of(window.band_end_ns)));
  const auto in_band = [&](std::size_t c) {
    return static_cast<std::ptrdiff_t>(c) >= band_from && static_cast<std::ptrdiff_t>(c) <= band_to;
  };
  // Baseline row: the row whose value range holds the baseline (row 0 is the bottom).
  std::optional<std::size_t> baseline_row;
  if (panel.baseline_pps)
    baseline_row = std::min(height - 1, static_cast<std::size_t>(std::floor(*panel.baseline_pps / y_max * static_cast<double>(height))));

  const std::string per = panel.unit == "packets/s" ? "/s" : " " + panel.unit;
  std::string out = fmt::format("{}, {}  ({} episode, {} baseline{})\n", panel.label, panel.unit, g.band, g.baseline,
                                panel.baseline_pps ? " " + format_pps(*panel.baseline_pps) + per : " unknown");
  const int eighths_per_row = term.utf8 ? 8 : 1;
  for (std::size_t row = height; row-- > 0;) {
    std::string label;
    if (row == height - 1) label = format_pps(y_max);
    else if (baseline_row && row == *baseline_row && row != 0) label = format_pps(*panel.baseline_pps);
    const bool tick = !label.empty();
    std::string line = fmt::format("{:>{}}{}", label, kAxisLabelWidth, tick ? g.axis_tick : g.axis);
    std::string bars;
    for (std::size_t c = 0; c < width; ++c) {
      // The bar's height in eighths of a row (ASCII: whole rows), rounded to nearest.
      const long level = column[c] ? std::lround(*column[c] / y_max * static_cast<double>(height * eighths_per_row)) : 0;
      const long below = static_cast<long>(row) * eighths_per_row;
      const long fill = std::clamp(level - below, 0L, static_cast<long>(eighths_per_row));
      if (fill == eighths_per_row)
        bars += g.full;
      else if (fill > 0)
        bars += g.partial[fill];
      else if (baseline_row && row == *baseline_row)
        bars += g.baseline;
      else if (in_band(c))
        bars += g.band;
      else
        bars += ' ';
    }
    line += bars;
    while (!line.empty() && line.back() == ' ') line.pop_back();  // no trailing blanks to copy/paste
    out += line + '\n';
  }
  // Time axis: ticks at the episode's edges; labels at the window's ends and the episode start.
  std::string axis = fmt::format("{:>{}}{}", format_pps(0), kAxisLabelWidth, g.corner);
  for (std::size_t c = 0; c < width; ++c)
    axis += (static_cast<std::ptrdiff_t>(c) == band_from || static_cast<std::ptrdiff_t>(c) == band_to) ? g.x_tick : g.x_axis;
  out += axis + '\n';
  std::string labels(kAxisLabelWidth + 1 + width, ' ');
  // Writes `text` at `at` unless it would touch a label already there (one blank between).
  auto place = [&](std::size_t at, const std::string& text) {
    if (text.size() > labels.size()) return;
    at = std::min(at, labels.size() - text.size());
    const std::size_t lo = at > 0 ? at - 1 : 0, hi = std::min(labels.size(), at + text.size() + 1);
    for (std::size_t i = lo; i < hi; ++i)
      if (labels[i] != ' ') return;
    labels.replace(at, text.size(), text);
  };
  // The episode start first: it is the label a reader looks for.
  const std::string band_label = local_clock(window.band_start_ns, true);
  const std::size_t band_at = kAxisLabelWidth + 1 + static_cast<std::size_t>(band_from);
  place(band_at >= band_label.size() / 2 ? band_at - band_label.size() / 2 : 0, band_label);
  place(kAxisLabelWidth + 1, local_clock(window.from_ns));
  const std::string end_label = local_clock(window.to_ns);
  place(labels.size() - end_label.size(), end_label);
  while (!labels.empty() && labels.back() == ' ') labels.pop_back();
  out += labels + '\n';
  return out;
}

}  // namespace ctmon::cli
