#pragma once
// A best guess at what an episode was, from which counters moved and which way, following the
// conntrack facts in docs/events.md:
//
//   wan_drop        forwarded established traffic fell while new or invalid rose (connections
//                   stall, clients retry: SYN retransmits are `new`, late segments `invalid`)
//   conntrack_full  new rose for both tcp and udp at once (a table filling from every side)
//   udp_storm       udp new/established rose (forward or input), tcp did not lead
//   scan            tcp new rose on input (many connection attempts at the router itself)
//   invalid_burst   invalid counters led and established did not fall
//   unknown         anything else (including gauges with no conntrack names)
//
// Rules are tried in that order; the first that fits wins. The summary states the evidence in
// one sentence with the strongest counters' peak and baseline rates.

#include <string>

#include "core/episode.h"

namespace ctmon {

/// Returns the kind that best explains `episode.counters`.
[[nodiscard]] EpisodeKind classify_episode(const Episode& episode);

/// One human sentence for `episode` (uses its kind and counters), e.g.
/// "WAN drop: tcp_conntrack_fwd_established fell to 12 pps (usually 480); tcp_conntrack_fwd_new
///  rose to 95 pps (usually 20)."
[[nodiscard]] std::string summarize_episode(const Episode& episode);

}  // namespace ctmon
