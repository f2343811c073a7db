#pragma once
// The rate charts of `ctmon show`: one panel per counter that moved, time across, packets/s up,
// the episode shaded and the counter's baseline drawn. The same panels render on a terminal
// (render_terminal_chart) and as a standalone SVG file (svg_chart.h).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "monitor/cli/terminal.h"

namespace ctmon::cli {

struct RatePoint {
  std::int64_t wall_ns = 0;
  double pps = 0;
};

/// One counter's rates over the window.
struct ChartPanel {
  std::string counter;             ///< the counter's full name (SVG data attribute)
  std::string label;               ///< what a person reads: "tcp fwd invalid"
  std::vector<RatePoint> points;   ///< in time order; a step without a rate is simply absent
  std::optional<double> baseline_pps;  ///< the rate the detectors expected, when known
  /// What the values are in: a counter's packets/s, or a probe's "ms" or "%" (the values are
  /// then already in that unit: chart_value() converts a measurement's stored value).
  std::string unit = "packets/s";
};

/// A measurement's value (core/measurement.h: µs, a 0..1 fraction, entries) in the unit its
/// chart shows ("ms", "%", "entries"), or a rate unchanged; the unit goes to ChartPanel::unit.
[[nodiscard]] std::pair<double, const char*> chart_value(std::string_view counter, double value);

/// The time range shown and the episode inside it.
struct ChartWindow {
  std::int64_t from_ns = 0, to_ns = 0;            ///< from < to
  std::int64_t band_start_ns = 0, band_end_ns = 0;  ///< the episode; may reach past the window
};

/// The panel as lines of text (joined with '\n', ending in one) `term.width` columns wide:
/// a title line, `height` rows of bars (the highest rate per column; UTF-8 eighth blocks or
/// ASCII '#'), the episode columns shaded ('░' / '.') where no bar is, the baseline as a row of
/// '─' / '-', then the time axis with local HH:MM labels at both ends and at the episode start.
[[nodiscard]] std::string render_terminal_chart(const ChartPanel& panel, const ChartWindow& window,
                                                const Terminal& term, std::size_t height = 8);

/// Local "HH:MM" (or "HH:MM:SS" when `seconds`) of a wall time, for axis labels.
[[nodiscard]] std::string local_clock(std::int64_t wall_ns, bool seconds = false);

/// A round axis maximum at or above `value`: 1, 2, 2.5, 5 times a power of ten (0 -> 1).
[[nodiscard]] double nice_ceiling(double value);

}  // namespace ctmon::cli
