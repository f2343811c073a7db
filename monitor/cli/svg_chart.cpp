#include "monitor/cli/svg_chart.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/core.h>

#include "core/time.h"
#include "monitor/cli/event_table.h"
#include "monitor/clock.h"

namespace ctmon::cli {
namespace {

constexpr double kWidth = 960, kLeft = 80, kRight = 24, kTop = 84, kPanelHeight = 170, kPanelGap = 46;
// Colour-blind-safe (Okabe-Ito) series colours.
constexpr std::array<const char*, 6> kColours{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"};

// A tick step for `span` seconds that gives about 6-10 labels: whole minutes or hours.
std::int64_t time_step_s(double span_s) {
  for (const std::int64_t step : {10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400})
    if (span_s / static_cast<double>(step) <= 10) return step;
  return 86400 * static_cast<std::int64_t>(std::ceil(span_s / 86400 / 10));
}

// How many steps to split 0..y_max (a nice_ceiling value) into so every tick is round too:
// 50 -> 5 x 10, 20 -> 4 x 5, 25 -> 5 x 5.
int y_ticks(double y_max) {
  for (const int n : {5, 4, 2}) {
    const double step = y_max / n;
    if (std::fabs(nice_ceiling(step) - step) <= 1e-9 * step) return n;
  }
  return 1;
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_svg_chart(const std::string& title, const std::vector<ChartPanel>& panels, const ChartWindow& window) {
  const double plot_w = kWidth - kLeft - kRight;
  const double height = kTop + static_cast<double>(panels.size()) * (kPanelHeight + kPanelGap) + 10;
  const double span = static_cast<double>(window.to_ns - window.from_ns);
  auto x_of = [&](std::int64_t t) { return kLeft + static_cast<double>(t - window.from_ns) / span * plot_w; };

  std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} {1:.0f}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n",
      kWidth, height);
  svg += fmt::format("<title>{}</title>\n", xml_escape(title));
  svg += "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += fmt::format("<text x=\"{}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{}</text>\n", kLeft, xml_escape(title));

  // Legend: one entry per series, then the band and the baseline.
  double lx = kLeft;
  svg += "<g class=\"legend\">\n";
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const char* colour = kColours[i % kColours.size()];
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"40\" x2=\"{1:.1f}\" y2=\"40\" stroke=\"{2}\" stroke-width=\"2.5\"/>"
                       "<text x=\"{3:.1f}\" y=\"44\">{4}</text>\n",
                       lx, lx + 20, colour, lx + 25, xml_escape(panels[i].label));
    lx += 40 + 7.0 * static_cast<double>(panels[i].label.size());
  }
  svg += fmt::format("<rect x=\"{0:.1f}\" y=\"33\" width=\"20\" height=\"14\" fill=\"#E8474C\" fill-opacity=\"0.18\"/>"
                     "<text x=\"{1:.1f}\" y=\"44\">episode</text>\n",
                     lx, lx + 25);
  lx += 90;
  svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"40\" x2=\"{1:.1f}\" y2=\"40\" stroke=\"#555\" stroke-dasharray=\"5,4\"/>"
                     "<text x=\"{2:.1f}\" y=\"44\">baseline (expected rate)</text>\n",
                     lx, lx + 20, lx + 25);
  svg += "</g>\n";

  const double band_x0 = std::clamp(x_of(window.band_start_ns), kLeft, kLeft + plot_w);
  const double band_x1 = std::clamp(x_of(window.band_end_ns), band_x0 + 1, kLeft + plot_w);
  const double span_s = span / kNsPerS;
  const std::int64_t step_s = time_step_s(span_s);
  const std::int64_t offset_s = local_utc_offset_s(window.from_ns);  // ticks on round local minutes

  for (std::size_t i = 0; i < panels.size(); ++i) {
    const ChartPanel& p = panels[i];
    const char* colour = kColours[i % kColours.size()];
    const double top = kTop + static_cast<double>(i) * (kPanelHeight + kPanelGap);
    const double bottom = top + kPanelHeight;
    double peak = p.baseline_pps.value_or(0);
    for (const RatePoint& r : p.points) peak = std::max(peak, r.pps);
    const double y_max = nice_ceiling(peak * 1.05);
    auto y_of = [&](double v) { return bottom - v / y_max * kPanelHeight; };

    svg += fmt::format("<g class=\"panel\" data-counter=\"{}\">\n", xml_escape(p.counter));
    svg += fmt::format("<rect class=\"episode\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                       "fill=\"#E8474C\" fill-opacity=\"0.18\"><title>episode</title></rect>\n",
                       band_x0, top, band_x1 - band_x0, kPanelHeight);
    // Y axis: round ticks with grid lines, the unit on the axis.
    const int ticks = y_ticks(y_max);
    for (int k = 0; k <= ticks; ++k) {
      const double v = y_max * k / ticks;
      const double y = y_of(v);
      svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>"
                         "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
                         kLeft, y, kLeft + plot_w, y, kLeft - 6, y + 4, format_pps(v));
    }
    svg += fmt::format("<text transform=\"translate({:.1f},{:.1f}) rotate(-90)\" text-anchor=\"middle\" "
                       "fill=\"#444\">{}</text>\n",
                       kLeft - 52, (top + bottom) / 2, xml_escape(p.unit));
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-weight=\"bold\" fill=\"{}\">{}</text>\n", kLeft + 4,
                       top - 6, colour, xml_escape(p.label + " (" + p.counter + ")"));
    // X axis with local-time ticks on round minutes.
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#333\"/>"
                       "<line x1=\"{0:.1f}\" y1=\"{3:.1f}\" x2=\"{0:.1f}\" y2=\"{1:.1f}\" stroke=\"#333\"/>\n",
                       kLeft, bottom, kLeft + plot_w, top);
    const std::int64_t first_local_s = window.from_ns / kNsPerS + offset_s;
    for (std::int64_t t = (first_local_s / step_s + 1) * step_s - offset_s; t * kNsPerS <= window.to_ns; t += step_s) {
      const double x = x_of(t * kNsPerS);
      svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#333\"/>"
                         "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>\n",
                         x, bottom, bottom + 5, bottom + 18, local_clock(t * kNsPerS, step_s < 60));
    }
    if (p.baseline_pps)
      svg += fmt::format("<line class=\"baseline\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" "
                         "stroke=\"#555\" stroke-dasharray=\"5,4\"><title>baseline {3}{4}</title></line>\n",
                         kLeft, y_of(*p.baseline_pps), kLeft + plot_w, format_pps(*p.baseline_pps),
                         p.unit == "packets/s" ? "/s" : " " + p.unit);
    // The series: a gap of more than three typical steps lifts the pen (no line across a hole).
    std::string d;
    std::int64_t typical = 0;
    if (p.points.size() >= 2) typical = (p.points.back().wall_ns - p.points.front().wall_ns) / static_cast<std::int64_t>(p.points.size() - 1);
    for (std::size_t k = 0; k < p.points.size(); ++k) {
      const bool pen_up = k == 0 || (typical > 0 && p.points[k].wall_ns - p.points[k - 1].wall_ns > 3 * typical);
      d += fmt::format("{}{:.1f},{:.1f} ", pen_up ? "M" : "L", x_of(p.points[k].wall_ns), y_of(p.points[k].pps));
    }
    if (!d.empty()) d.pop_back();
    svg += fmt::format("<path class=\"series\" data-counter=\"{}\" d=\"{}\" fill=\"none\" stroke=\"{}\" "
                       "stroke-width=\"1.6\" stroke-linejoin=\"round\"/>\n",
                       xml_escape(p.counter), d.empty() ? "M0,0" : d, colour);
    svg += "</g>\n";
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#666\" font-size=\"11\">times are local ({})</text>\n", kLeft,
                     height - 4, offset_s == 0 ? "UTC" : fmt::format("UTC{:+03}:{:02}", offset_s / 3600, std::abs(offset_s) % 3600 / 60));
  svg += "</svg>\n";
  return svg;
}

}  // namespace ctmon::cli
