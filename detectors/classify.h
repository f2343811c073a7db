#pragma once
// A best guess at what an episode was and where its cause is, from explicit rules on its
// evidence: the counters that moved (core/episode.h) and what the probes and the conntrack
// table showed over the episode (EpisodeHealth). A counter is "up" when it rose (peak_z > 0),
// "down" when it fell; each counts with its peak score as weight w (a multivariate driver's
// weight is its low score, so drivers break no tie against counters that moved on their own).
// Names are `<proto>_conntrack_<hook>_<state>`; a probe metric is "up" when its RTT median,
// jitter or loss moved up (the ones that can alarm, detectors/analyzer.h). The same tables are
// in docs/events.md.
//
// kind:
//   order kind            condition (first that holds wins)
//   1     conntrack_full  measured: the table was >= 90 % full (entries / limit, fullest sample
//                         of the episode) OR conntrack_stat drop, early_drop or insert_failed
//                         moved up
//   2     wan_drop        some fwd established is down AND some new or invalid is up
//                         (connections stall, clients retry: SYN retransmits are `new`, late
//                         segments `invalid`)
//   3     scan            tcp input new is up AND w(tcp input new up) >= w(tcp fwd up) AND
//                         w(udp up) < w(tcp up). The scan's own invalid probes (ACK, FIN scans)
//                         and the router's answers (output) do not count against it; tried before
//                         the guess below, so a udp counter moving by chance during a scan of the
//                         router does not read as a table filling
//   4     conntrack_full  guessed, only when no conntrack health counter was read: some tcp new
//                         is up AND some udp new is up (a table filling from every side)
//   5     udp_storm       some udp counter is up AND w(udp up) >= w(tcp up)
//   6     invalid_burst   some invalid is up AND w(invalid up) >= w(new up) AND no established
//                         is down
//   7     unknown         no rule holds, no counter moved, or names outside the scheme (gauges,
//                         probes alone)
//
// where:
//   order where       condition (first that holds wins)
//   1     router      the table was >= 90 % full OR a drop statistic moved up (as kind 1)
//                     OR a WAN probe metric AND a LAN probe metric moved up (both sides of the
//                     router disturbed)
//   2     isp         a WAN probe metric moved up AND a LAN probe was read and stayed calm
//   3     lan_device  a LAN probe metric moved up AND a WAN probe was read and stayed calm
//   4     lan_device  some fwd new or fwd invalid is up AND no input new or invalid is up AND no
//                     established is down AND a probe was read and every probe stayed calm.
//                     The rules' counters do not split forwarded traffic by direction: a device
//                     behind the router flooding out (or being flooded) shows as forwarded new
//                     or invalid rising while the router's own input and the paths it probes are
//                     fine; this is the approximation of "one direction of forwarded traffic".
//   5     unknown     no rule holds. Without probes (conntrack counters alone) only rule 1 can
//                     hold: forwarded connections rising is as much a WAN losing packets
//                     (clients retry) as a LAN device, and nothing tells them apart.
//
// The summary states the evidence in one sentence: the measurements first ("WAN RTT jitter 85 ms
// vs 4 ms usual, WAN loss 30 % (usually 0 %), LAN calm", "conntrack table 92 % full (60,300 of
// 65,536)", "conntrack drops 12/s"), then per rate counter the peak rate, when it peaked
// (seconds after the start), the usual rate, and a ratio only where the usual rate makes one
// meaningful (core/episode.h, ratio_is_meaningful); multivariate drivers are named with their z.

#include <cstdint>
#include <string>

#include "core/episode.h"

namespace ctmon {

/// A table at least this full (entries / limit) is evidence of its own: the kernel starts early
/// drops near the limit, and node_exporter/Netdata alert at the same level.
inline constexpr double kTableFullFraction = 0.9;

/// Returns the kind that best explains `episode.counters` and `episode.health`.
[[nodiscard]] EpisodeKind classify_episode(const Episode& episode);

/// Whether the kind table above says what `episode` is: a kind other than unknown, or a probe
/// among its counters (its own measurement names the trouble). One counter of new connections
/// rising and nothing else is what a household does all day (a page load, a DNS flurry); such an
/// episode has to last longer before it opens (EpisodeConfig::unexplained_extra_samples).
[[nodiscard]] bool rules_explain(const Episode& episode);

/// Returns where the cause is, by the `where` table above.
[[nodiscard]] Where classify_where(const Episode& episode);

/// One human sentence for `episode` (uses its kind and counters), e.g.
/// "WAN drop: tcp_conntrack_fwd_established fell 98 % (from 480 to 12 pps), lowest 3 s in;
///  tcp_conntrack_fwd_new rose 4.8x (from 20 to 95 pps), peak 5 s in."
[[nodiscard]] std::string summarize_episode(const Episode& episode);

/// One counter's change in words, e.g. "udp_conntrack_fwd_new rose 48x (from 5.3 to 256 pps),
/// peak 12 s in", "... rose from about 0 to 180 pps, ...", "... fell 80 % (from 480 to 96 pps),
/// lowest 3 s in"; the time is counted from `start_wall_ns`. A probe or conntrack counter reads
/// in its own unit: "WAN RTT jitter 85 ms vs 4 ms usual", "WAN loss 30 % (usually 0 %)",
/// "conntrack drops 12/s".
[[nodiscard]] std::string describe_change(const MovedCounter& counter, std::int64_t start_wall_ns);

}  // namespace ctmon
