#include "detectors/classify.h"

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include "core/measurement.h"
#include "core/time.h"

namespace ctmon {

namespace {

// Evidence per (direction, state, proto, hook), summed over the counters that moved, weighted
// by their peak scores so the strongest movers decide.
struct Evidence {
  double fwd_established_down = 0;
  double fwd_new_or_invalid_up = 0, input_new_or_invalid_up = 0;
  double new_up = 0, invalid_up = 0, established_down = 0;
  double tcp_new_up = 0, udp_new_up = 0, udp_up = 0, tcp_up = 0;
  double tcp_input_new_up = 0;
  double tcp_fwd_up = 0;
  double wan_loss_up = 0, lan_loss_up = 0;  // a probe side's loss rose
  double total = 0;
};

// A counter that fell more than this long after the first one moved is a consequence (the lull
// after an invalid burst), not a WAN that went away. One sample at any interval up to 10 s, the
// first sample beyond.
constexpr std::int64_t kFirstMoversNs = 10'000'000'000;

// Probe and conntrack health counters: read in their own units, never by the rules' scheme.
bool is_measurement(std::string_view name) { return measurement_label(name).has_value(); }

bool table_full(const EpisodeHealth& h) { return h.fill_limit > 0 && h.fill() >= kTableFullFraction; }

Evidence gather(const Episode& e) {
  Evidence ev;
  std::int64_t first = 0;
  for (const MovedCounter& c : e.counters)
    if (c.first_wall_ns != 0 && (first == 0 || c.first_wall_ns < first)) first = c.first_wall_ns;
  for (const MovedCounter& c : e.counters) {
    // A fall that came later is a consequence (a lull after a burst), never the cause; a later
    // rise still counts (the second half of a conntrack_full, a scan's victims answering).
    if (c.peak_z < 0 && c.first_wall_ns != 0 && c.first_wall_ns > first + kFirstMoversNs) continue;
    const double w = c.peak_score;
    ev.total += w;
    if (const std::optional<ProbeCounterName> probe = parse_probe_counter_name(c.name)) {
      if (probe->metric == "loss" && c.peak_z > 0) (probe->side == ProbeSide::wan ? ev.wan_loss_up : ev.lan_loss_up) += w;
      continue;
    }
    if (is_measurement(c.name)) continue;
    const CounterName n = parse_counter_name(c.name);
    if (!n.conforms) continue;
    const bool up = c.peak_z > 0;
    if (!up) {
      if (n.state == "established") {
        ev.established_down += w;
        if (n.hook == "fwd") ev.fwd_established_down += w;
      }
      continue;
    }
    if (n.state == "new") {
      ev.new_up += w;
      if (n.proto == "tcp") ev.tcp_new_up += w;
      if (n.proto == "udp") ev.udp_new_up += w;
      if (n.proto == "tcp" && n.hook == "input") ev.tcp_input_new_up += w;
    }
    if (n.state == "invalid") ev.invalid_up += w;
    if (n.state == "new" || n.state == "invalid") {
      if (n.hook == "fwd") ev.fwd_new_or_invalid_up += w;
      if (n.hook == "input") ev.input_new_or_invalid_up += w;
    }
    if (n.proto == "udp") ev.udp_up += w;
    if (n.proto == "tcp") ev.tcp_up += w;
    if (n.proto == "tcp" && n.hook == "fwd") ev.tcp_fwd_up += w;
  }
  return ev;
}

std::string format_rate(double pps) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(pps) >= 10 ? "%.0f" : "%.2g", pps);
  return buf;
}

// 60300 -> "60,300": table sizes are read at a glance.
std::string format_count(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", value > 0 ? value : 0.0);
  std::string digits = buf, out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// "WAN RTT jitter", "LAN nas loss".
std::string probe_label(const ProbeCounterName& p) {
  std::string label = p.side == ProbeSide::wan ? "WAN" : "LAN";
  if (!p.target.empty()) label += " " + p.target;
  if (p.metric == "rtt_median_us") return label + " RTT";
  if (p.metric == "rtt_min_us") return label + " RTT min";
  if (p.metric == "rtt_max_us") return label + " RTT max";
  if (p.metric == "jitter_us") return label + " RTT jitter";
  return label + " " + p.metric;
}

std::string stat_label(std::string_view name) {
  const std::string_view stat = name.substr(std::string_view("conntrack_stat_").size());
  if (stat == "drop") return "conntrack drops";
  if (stat == "early_drop") return "conntrack early drops";
  if (stat == "insert_failed") return "conntrack insert failures";
  return "conntrack " + std::string(stat);
}

// A measurement's change in its own unit (core/measurement.h measure_unit).
std::string describe_measurement(const MovedCounter& c) {
  if (const std::optional<ProbeCounterName> probe = parse_probe_counter_name(c.name)) {
    if (measure_unit(c.name) == MeasureUnit::fraction) {
      return probe_label(*probe) + " " + format_rate(100 * c.peak_pps) + " % (usually " +
             format_rate(100 * c.baseline_pps) + " %)";
    }
    return probe_label(*probe) + " " + format_rate(c.peak_pps / 1000) + " ms vs " + format_rate(c.baseline_pps / 1000) +
           " ms usual";
  }
  if (c.name == "conntrack_entries" || c.name == "conntrack_limit") {
    return std::string(c.name == "conntrack_entries" ? "conntrack entries " : "conntrack limit ") +
           format_count(c.peak_pps) + " vs " + format_count(c.baseline_pps) + " usual";
  }
  // conntrack_stat_*: events per second, usually none.
  constexpr double kUsuallyNonePerS = 0.05;
  std::string s = stat_label(c.name) + " " + format_rate(c.peak_pps) + "/s";
  if (c.baseline_pps >= kUsuallyNonePerS) s += " (usually " + format_rate(c.baseline_pps) + "/s)";
  return s;
}

bool any_probe_listed(const Episode& e) {
  for (const MovedCounter& c : e.counters) {
    if (parse_probe_counter_name(c.name)) return true;
  }
  return false;
}

}  // namespace

EpisodeKind classify_episode(const Episode& episode) {
  const EpisodeHealth& h = episode.health;
  if (table_full(h) || h.drops_up) return EpisodeKind::conntrack_full;
  const Evidence ev = gather(episode);
  if (ev.total <= 0) return EpisodeKind::unknown;
  // Forwarded traffic falling, or the WAN's far side losing probes while the LAN's does not: a
  // loss of 30 % that TCP rides out without falling still costs every flow its retransmits.
  if (ev.fwd_established_down > 0 || (ev.wan_loss_up > 0 && ev.lan_loss_up == 0)) return EpisodeKind::wan_drop;
  // A scan before the tcp-and-udp guess: a udp counter that happens to move during a scan of
  // the router is no table filling. Its invalid probes (ACK, FIN scans) and the router's answers
  // are part of it, so only forwarded tcp can outweigh its new connections.
  if (ev.tcp_input_new_up > 0 && ev.tcp_input_new_up >= ev.tcp_fwd_up && ev.udp_up < ev.tcp_up)
    return EpisodeKind::scan;
  if (!h.conntrack_read && ev.tcp_new_up > 0 && ev.udp_new_up > 0) return EpisodeKind::conntrack_full;
  if (ev.udp_up > 0 && ev.udp_up >= ev.tcp_up) return EpisodeKind::udp_storm;
  if (ev.invalid_up > 0 && ev.invalid_up >= ev.new_up && ev.established_down == 0) return EpisodeKind::invalid_burst;
  return EpisodeKind::unknown;
}

bool rules_explain(const Episode& episode) {
  return classify_episode(episode) != EpisodeKind::unknown || any_probe_listed(episode);
}

Where classify_where(const Episode& episode) {
  const EpisodeHealth& h = episode.health;
  if (table_full(h) || h.drops_up || (h.wan_up && h.lan_up)) return Where::router;
  if (h.wan_up && h.lan_probed && !h.lan_up) return Where::isp;
  if (h.lan_up && h.wan_probed && !h.wan_up) return Where::lan_device;
  const Evidence ev = gather(episode);
  const bool probed_calm = (h.wan_probed || h.lan_probed) && !h.wan_up && !h.lan_up;
  if (probed_calm && ev.fwd_new_or_invalid_up > 0 && ev.input_new_or_invalid_up == 0 && ev.established_down == 0)
    return Where::lan_device;
  return Where::unknown;
}

std::string describe_change(const MovedCounter& c, std::int64_t start_wall_ns) {
  if (is_measurement(c.name)) return describe_measurement(c);
  // Gauges (names outside the scheme) have no unit and may be negative: no ratio for them.
  const bool rate = parse_counter_name(c.name).conforms;
  const std::string unit = rate ? " pps" : "";
  const std::string name = c.name.empty() ? std::string("value") : c.name;
  const std::string peak = format_rate(c.peak_pps), usual = format_rate(c.baseline_pps);
  const bool fell = c.peak_z < 0;
  std::string s = name;
  if (!rate) {
    s += (fell ? " fell to " : " rose to ") + peak + " (usually " + usual + ")";
  } else if (fell) {
    if (ratio_is_meaningful(c.baseline_pps) && c.peak_pps < c.baseline_pps) {
      char pct[16];
      std::snprintf(pct, sizeof pct, "%.0f", 100.0 * (1.0 - c.peak_pps / c.baseline_pps));
      s += std::string(" fell ") + pct + " % (from " + usual + " to " + peak + unit + ")";
    } else {
      s += " fell from about " + usual + " to " + peak + unit;
    }
  } else if (ratio_is_meaningful(c.baseline_pps)) {
    const double ratio = c.peak_pps / c.baseline_pps;
    char r[16];
    std::snprintf(r, sizeof r, ratio >= 10 ? "%.0fx" : "%.1fx", ratio);
    s += std::string(" rose ") + r + " (from " + usual + " to " + peak + unit + ")";
  } else {
    s += " rose from about 0 to " + peak + unit;
  }
  const std::int64_t after_s = ns_between(c.peak_wall_ns, start_wall_ns) / kNsPerS;
  if (c.peak_wall_ns != 0 && after_s >= 0) {
    s += (fell ? ", lowest " : ", peak ") + std::to_string(after_s) + " s in";
  }
  return s;
}

std::string summarize_episode(const Episode& episode) {
  std::string s;
  switch (episode.kind) {
    case EpisodeKind::wan_drop: s = "WAN drop: "; break;
    case EpisodeKind::invalid_burst: s = "Invalid-packet burst: "; break;
    case EpisodeKind::scan: s = "Possible scan: "; break;
    case EpisodeKind::udp_storm: s = "UDP storm: "; break;
    case EpisodeKind::conntrack_full: s = "Conntrack table filling: "; break;
    case EpisodeKind::unknown: s = any_probe_listed(episode) ? "Probes disturbed: " : "Unusual traffic: "; break;
  }
  // The measurements first, in their units, with what stayed calm where that is the evidence.
  const EpisodeHealth& h = episode.health;
  std::string measured;
  auto add = [&measured](const std::string& phrase) { measured += (measured.empty() ? "" : ", ") + phrase; };
  constexpr std::size_t kMeasurementsInSummary = 3;
  std::size_t measurements = 0;
  for (const MovedCounter& c : episode.counters) {
    if (c.multivariate_driver || !is_measurement(c.name)) continue;
    if (c.name == "conntrack_entries" && table_full(h)) continue;  // the fill says more
    // RTT min and max are context (the JSON lists them): the sentence names what can alarm.
    if (c.name.ends_with("_rtt_min_us") || c.name.ends_with("_rtt_max_us")) continue;
    if (measurements++ < kMeasurementsInSummary) add(describe_measurement(c));
  }
  if (table_full(h)) {
    char pct[16];
    std::snprintf(pct, sizeof pct, "%.0f", 100 * h.fill());
    add(std::string("conntrack table ") + pct + " % full (" + format_count(h.fill_entries) + " of " +
        format_count(h.fill_limit) + ")");
  }
  switch (episode.where) {
    case Where::isp: add("LAN calm"); break;
    case Where::lan_device: add(h.lan_up ? "WAN calm" : "probes calm"); break;
    case Where::router:
    case Where::unknown: break;
  }
  if (episode.counters.empty() && measured.empty()) return s + "the combined pattern of the counters was unusual.";
  s += measured;
  constexpr std::size_t kCountersInSummary = 3;
  std::size_t listed = 0;
  for (const MovedCounter& c : episode.counters) {
    if (c.multivariate_driver || is_measurement(c.name) || listed == kCountersInSummary) continue;
    s += (listed++ > 0 || !measured.empty() ? "; " : "") + describe_change(c, episode.start_wall_ns);
  }
  listed += measured.empty() ? 0 : 1;
  std::string drivers;
  for (const MovedCounter& c : episode.counters) {
    if (!c.multivariate_driver) continue;
    char z[32];
    std::snprintf(z, sizeof z, " (%+.1f sd)", c.peak_z);
    drivers += (drivers.empty() ? "" : ", ") + (c.name.empty() ? std::string("value") : c.name) + z;
  }
  if (!drivers.empty()) {
    s += listed > 0 ? "; also unusual together: " : "the combined pattern was unusual, driven by ";
    s += drivers;
  }
  return s + ".";
}

}  // namespace ctmon
