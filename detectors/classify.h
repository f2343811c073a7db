#pragma once
// A best guess at what an episode was, from explicit rules on its evidence (the counters that
// moved, core/episode.h). A counter is "up" when it rose (peak_z > 0), "down" when it fell; each
// counts with its peak score as weight w (a multivariate driver's weight is its low score, so
// drivers break no tie against counters that moved on their own). Names are
// `<proto>_conntrack_<hook>_<state>`. The same table is in docs/events.md.
//
//   order kind            condition (first that holds wins)
//   1     wan_drop        some fwd established is down AND some new or invalid is up
//                         (connections stall, clients retry: SYN retransmits are `new`, late
//                         segments `invalid`)
//   2     conntrack_full  some tcp new is up AND some udp new is up (a table filling from every
//                         side)
//   3     udp_storm       some udp counter is up AND w(udp up) >= w(tcp up)
//   4     scan            tcp input new is up AND w(tcp input new up) >= 0.5 w(tcp up)
//   5     invalid_burst   some invalid is up AND w(invalid up) >= w(new up) AND no established
//                         is down
//   6     unknown         no rule holds, no counter moved, or names outside the scheme (gauges)
//
// The summary states the evidence in one sentence: per counter the peak rate, when it peaked
// (seconds after the start), the usual rate, and a ratio only where the usual rate makes one
// meaningful (core/episode.h, ratio_is_meaningful); multivariate drivers are named with their z.

#include <cstdint>
#include <string>

#include "core/episode.h"

namespace ctmon {

/// Returns the kind that best explains `episode.counters`.
[[nodiscard]] EpisodeKind classify_episode(const Episode& episode);

/// One human sentence for `episode` (uses its kind and counters), e.g.
/// "WAN drop: tcp_conntrack_fwd_established fell 98 % (from 480 to 12 pps), lowest 3 s in;
///  tcp_conntrack_fwd_new rose 4.8x (from 20 to 95 pps), peak 5 s in."
[[nodiscard]] std::string summarize_episode(const Episode& episode);

/// One counter's change in words, e.g. "udp_conntrack_fwd_new rose 48x (from 5.3 to 256 pps),
/// peak 12 s in", "... rose from about 0 to 180 pps, ...", "... fell 80 % (from 480 to 96 pps),
/// lowest 3 s in"; the time is counted from `start_wall_ns`.
[[nodiscard]] std::string describe_change(const MovedCounter& counter, std::int64_t start_wall_ns);

}  // namespace ctmon
