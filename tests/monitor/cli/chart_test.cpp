// The terminal and SVG charts of `ctmon show`, on small hand-made series.
#include <cstdlib>
#include <ctime>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "monitor/cli/chart.h"
#include "monitor/cli/svg_chart.h"

namespace {

constexpr std::int64_t kS = 1'000'000'000;
constexpr std::int64_t kT0 = 1795135800LL * kS;  // 2026-11-20T00:50:00Z

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// 60 s at 1 s: 1 pps, 10 pps for 10 s in the middle.
ctmon::cli::ChartPanel spike() {
  ctmon::cli::ChartPanel p{"tcp_conntrack_fwd_invalid", "tcp fwd invalid", {}, 1.0};
  for (int i = 0; i < 60; ++i) p.points.push_back({kT0 + i * kS, i >= 25 && i < 35 ? 10.0 : 1.0});
  return p;
}

ctmon::cli::ChartWindow window() { return {kT0, kT0 + 60 * kS, kT0 + 25 * kS, kT0 + 35 * kS}; }

struct Utc {
  Utc() {
    setenv("TZ", "UTC0", 1);
    tzset();
  }
};

}  // namespace

using namespace ctmon::cli;

TEST_CASE("axis maxima are round numbers at or above the data") {
  CHECK(nice_ceiling(34) == 50);
  CHECK(nice_ceiling(19) == 20);
  CHECK(nice_ceiling(2.1) == 2.5);
  CHECK(nice_ceiling(95) == 100);
  CHECK(nice_ceiling(100) == 100);
  CHECK(nice_ceiling(0.06) == Approx(0.1));
  CHECK(nice_ceiling(0) == 1);
}

TEST_CASE("an ASCII chart: bars in the episode, the band beside them, the baseline, the times") {
  Utc tz;
  const Terminal term{67, false, false};  // 7 label + 1 axis + 59... plot is width - 9 = 58 columns
  const auto lines = lines_of(render_terminal_chart(spike(), window(), term, 5));
  REQUIRE(lines.size() == 1 + 5 + 2);
  CHECK(lines[0] == "tcp fwd invalid, packets/s  (. episode, - baseline 1.0/s)");
  CHECK(lines[1].substr(0, 8) == "     10+");
  // Rows above the bottom one hold more than 2 pps: only the spike, inside the episode columns.
  const std::size_t plot = 8;
  for (std::size_t row = 1; row <= 4; ++row) {
    const std::string& line = lines[row];
    for (std::size_t c = plot; c < line.size(); ++c) {
      const double t = static_cast<double>(c - plot) * 60.0 / 58.0;
      if (line[c] == '#') CHECK((t >= 24 && t < 36));
    }
  }
  CHECK(lines[5].find("#####") != std::string::npos);  // bottom row: baseline and the 1 pps bars
  CHECK(lines[5].find('-') == std::string::npos);      // 1 pps fills the baseline row everywhere
  CHECK(lines[1].find('.') != std::string::npos);      // the band where no bar reaches
  CHECK(lines[6].find('+', 8) != std::string::npos);   // tick at the episode's start
  CHECK(lines[7].find("00:50") == 8);
  CHECK(lines[7].find("00:50:25") != std::string::npos);
  for (const auto& line : lines) {
    CHECK(line.size() <= 67);
    for (const char c : line) CHECK(static_cast<unsigned char>(c) < 128);
  }
}

TEST_CASE("a UTF-8 chart uses eighth blocks, the shaded band and a box-drawn baseline") {
  Utc tz;
  ChartPanel p = spike();
  p.baseline_pps = 0.2;
  for (auto& point : p.points)
    if (point.pps < 2) point.pps = 0;
  const std::string chart = render_terminal_chart(p, window(), Terminal{80, false, true}, 8);
  CHECK(chart.find("\u2588") != std::string::npos);
  CHECK(chart.find("\u2591") != std::string::npos);
  CHECK(chart.find("\u2500\u2500\u2500") != std::string::npos);
  for (const auto& line : lines_of(chart)) CHECK(display_width(line) <= 80);
}

TEST_CASE("the SVG has a band and one series per panel, with escaped text") {
  Utc tz;
  ChartPanel other{"udp_conntrack_fwd_new", "udp <fwd> & new", {}, std::nullopt};
  other.points = {{kT0, 1}, {kT0 + 1 * kS, 2}, {kT0 + 2 * kS, 2}, {kT0 + 40 * kS, 3}, {kT0 + 41 * kS, 4}};
  const std::string svg = render_svg_chart("episode \"3\"", {spike(), other}, window());
  auto count = [&](const std::string& needle) {
    std::size_t n = 0;
    for (auto at = svg.find(needle); at != std::string::npos; at = svg.find(needle, at + 1)) ++n;
    return n;
  };
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(count("class=\"series\"") == 2);
  CHECK(count("class=\"episode\"") == 2);
  CHECK(count("class=\"baseline\"") == 1);  // the second panel has none
  CHECK(count("data-counter=\"udp_conntrack_fwd_new\"") == 2);  // panel group and its series
  CHECK(svg.find("udp &lt;fwd&gt; &amp; new") != std::string::npos);
  CHECK(svg.find("episode &quot;3&quot;") != std::string::npos);
  CHECK(svg.find("<fwd>") == std::string::npos);
  CHECK(count(" M") + count("\"M") == 3);  // the 39 s hole lifts the pen once in the second series
  CHECK(svg.find(">00:50:30<") != std::string::npos);  // a tick on a round local time
  CHECK(svg.find("packets/s") != std::string::npos);
}

TEST_CASE("xml_escape covers the five XML specials") {
  CHECK(xml_escape(R"(<a href="x">'&'</a>)") == "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;");
}
