#include "core/measurement.h"

#include <algorithm>
#include <array>

#include <fmt/core.h>

namespace ctmon {
namespace {

constexpr std::string_view kProbePrefix = "probe_";
constexpr std::array<std::string_view, 5> kProbeMetrics = {"rtt_min_us", "rtt_median_us", "rtt_max_us",
                                                           "jitter_us", "loss"};

bool ends_with_metric(std::string_view rest, std::string_view metric) {
  // The metric follows an underscore: "wan_loss" ends with "_loss", "wan_gloss" does not.
  return rest.size() > metric.size() && rest.ends_with(metric) && rest[rest.size() - metric.size() - 1] == '_';
}

}  // namespace

bool valid_probe_target_name(std::string_view target) {
  constexpr std::size_t kMaxTargetChars = 15;
  return !target.empty() && target.size() <= kMaxTargetChars &&
         std::all_of(target.begin(), target.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

std::string_view to_string(ProbeSide side) { return side == ProbeSide::lan ? "lan" : "wan"; }

std::optional<ProbeCounterName> parse_probe_counter_name(std::string_view name) {
  if (!name.starts_with(kProbePrefix)) return std::nullopt;
  std::string_view rest = name.substr(kProbePrefix.size());
  const auto metric = std::find_if(kProbeMetrics.begin(), kProbeMetrics.end(),
                                   [&](std::string_view m) { return ends_with_metric(rest, m); });
  if (metric == kProbeMetrics.end()) return std::nullopt;
  rest.remove_suffix(metric->size() + 1);
  ProbeCounterName parsed;
  parsed.metric = std::string(*metric);
  const std::string_view side = rest.substr(0, rest.find('_'));
  if (side == "wan")
    parsed.side = ProbeSide::wan;
  else if (side == "lan")
    parsed.side = ProbeSide::lan;
  else
    return std::nullopt;
  if (rest.size() > side.size()) {
    const std::string_view target = rest.substr(side.size() + 1);
    if (!valid_probe_target_name(target)) return std::nullopt;
    parsed.target = std::string(target);
  }
  return parsed;
}

std::string probe_counter_name(ProbeSide side, std::string_view target, std::string_view metric) {
  std::string name(kProbePrefix);
  name += to_string(side);
  if (!target.empty()) {
    name += '_';
    name += target;
  }
  name += '_';
  name += metric;
  return name;
}

std::optional<std::string> measurement_label(std::string_view name) {
  if (const std::optional<ProbeCounterName> probe = parse_probe_counter_name(name)) {
    std::string label = probe->side == ProbeSide::lan ? "LAN" : "WAN";
    if (!probe->target.empty()) label += " " + probe->target;
    if (probe->metric == "rtt_min_us") return label + " RTT min";
    if (probe->metric == "rtt_median_us") return label + " RTT";
    if (probe->metric == "rtt_max_us") return label + " RTT max";
    if (probe->metric == "jitter_us") return label + " jitter";
    return label + " loss";
  }
  // "conntrack_entries" -> "conntrack entries", "conntrack_stat_early_drop" -> "conntrack early drop".
  constexpr std::string_view kStat = "conntrack_stat_";
  constexpr std::string_view kConntrack = "conntrack_";
  if (name == "conntrack_entries" || name == "conntrack_limit" || name.starts_with(kStat)) {
    std::string rest(name.substr(name.starts_with(kStat) ? kStat.size() : kConntrack.size()));
    std::replace(rest.begin(), rest.end(), '_', ' ');
    return "conntrack " + rest;
  }
  return std::nullopt;
}

std::string format_measurement(MeasureUnit unit, double value) {
  switch (unit) {
    case MeasureUnit::microseconds: {
      const double ms = value / 1000.0;
      if (ms >= 10) return fmt::format("{:.0f} ms", ms);
      return ms >= 1 ? fmt::format("{:.1f} ms", ms) : fmt::format("{:.2f} ms", ms);
    }
    case MeasureUnit::fraction: {
      const double percent = value * 100.0;
      return percent >= 10 || percent == 0 ? fmt::format("{:.0f} %", percent) : fmt::format("{:.1f} %", percent);
    }
    case MeasureUnit::entries: return fmt::format("{:.0f} entries", value);
    case MeasureUnit::packets_per_s: return value >= 10 ? fmt::format("{:.0f}/s", value) : fmt::format("{:.2g}/s", value);
  }
  return fmt::format("{}", value);
}

CounterMeaning counter_meaning(std::string_view name) {
  if (name == "conntrack_entries" || name == "conntrack_limit") return CounterMeaning::mean;
  return parse_probe_counter_name(name) ? CounterMeaning::mean : CounterMeaning::rate;
}

MeasureUnit measure_unit(std::string_view name) {
  if (name == "conntrack_entries" || name == "conntrack_limit") return MeasureUnit::entries;
  const std::optional<ProbeCounterName> probe = parse_probe_counter_name(name);
  if (!probe) return MeasureUnit::packets_per_s;
  return probe->metric == "loss" ? MeasureUnit::fraction : MeasureUnit::microseconds;
}

}  // namespace ctmon
