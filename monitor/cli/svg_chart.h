#pragma once
// The chart of `ctmon show --svg`: the same panels as the terminal chart (chart.h) as one
// standalone SVG document a browser shows: a title, a legend, one panel per counter with its
// own packets/s axis, local-time ticks, the episode band and dashed baselines.

#include <string>
#include <vector>

#include "monitor/cli/chart.h"

namespace ctmon::cli {

/// The whole SVG document (UTF-8 XML, with its XML declaration). Each counter's rates are one
/// <path class="series" data-counter="NAME">, each panel has one <rect class="episode"> for the
/// band and a <line class="baseline"> when the baseline is known. Text is XML-escaped.
[[nodiscard]] std::string render_svg_chart(const std::string& title, const std::vector<ChartPanel>& panels,
                                           const ChartWindow& window);

/// `text` with &, <, >, " and ' escaped for XML text and attribute values.
[[nodiscard]] std::string xml_escape(const std::string& text);

}  // namespace ctmon::cli
