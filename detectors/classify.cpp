#include "detectors/classify.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace ctmon {

namespace {

// Evidence per (direction, state, proto, hook), summed over the counters that moved, weighted
// by their peak scores so the strongest movers decide.
struct Evidence {
  double fwd_established_down = 0;
  double new_up = 0, invalid_up = 0, established_down = 0;
  double tcp_new_up = 0, udp_new_up = 0, udp_up = 0, tcp_up = 0;
  double tcp_input_new_up = 0;
  double total = 0;
};

// The counters that moved within this long of the first one are the cause; later ones are its
// consequences (an outage's reconnect storm, the retries of a scan's victims, a lull after a
// burst) and do not decide the kind. One sample at any interval up to 10 s, the first sample
// beyond.
constexpr std::int64_t kFirstMoversNs = 10'000'000'000;

Evidence gather(const Episode& e) {
  Evidence ev;
  std::int64_t first = 0;
  for (const MovedCounter& c : e.counters)
    if (c.first_wall_ns != 0 && (first == 0 || c.first_wall_ns < first)) first = c.first_wall_ns;
  for (const MovedCounter& c : e.counters) {
    if (c.first_wall_ns != 0 && c.first_wall_ns > first + kFirstMoversNs) continue;
    const CounterName n = parse_counter_name(c.name);
    const double w = c.peak_score;
    ev.total += w;
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
    if (n.proto == "udp") ev.udp_up += w;
    if (n.proto == "tcp") ev.tcp_up += w;
  }
  return ev;
}

std::string format_rate(double pps) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(pps) >= 10 ? "%.0f" : "%.2g", pps);
  return buf;
}

}  // namespace

EpisodeKind classify_episode(const Episode& episode) {
  const Evidence ev = gather(episode);
  if (ev.total <= 0) return EpisodeKind::unknown;
  if (ev.fwd_established_down > 0) return EpisodeKind::wan_drop;
  if (ev.tcp_new_up > 0 && ev.udp_new_up > 0) return EpisodeKind::conntrack_full;
  if (ev.udp_up > 0 && ev.udp_up >= ev.tcp_up) return EpisodeKind::udp_storm;
  if (ev.tcp_input_new_up > 0 && ev.tcp_input_new_up >= 0.5 * ev.tcp_up) return EpisodeKind::scan;
  if (ev.invalid_up > 0 && ev.invalid_up >= ev.new_up && ev.established_down == 0) return EpisodeKind::invalid_burst;
  return EpisodeKind::unknown;
}

std::string describe_change(const MovedCounter& c, std::int64_t start_wall_ns) {
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
  const std::int64_t after_s = (c.peak_wall_ns - start_wall_ns) / 1'000'000'000;
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
    case EpisodeKind::unknown: s = "Unusual traffic: "; break;
  }
  if (episode.counters.empty()) return s + "the combined pattern of the counters was unusual.";
  constexpr std::size_t kCountersInSummary = 3;
  std::size_t listed = 0;
  for (const MovedCounter& c : episode.counters) {
    if (c.multivariate_driver || listed == kCountersInSummary) continue;
    s += (listed++ > 0 ? "; " : "") + describe_change(c, episode.start_wall_ns);
  }
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
