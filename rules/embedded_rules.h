#pragma once
// The rule files of this folder, embedded byte for byte at build time (cmake/EmbedText.cmake).
#include <string_view>

namespace ctmon::rules_text {
/// rules/conntrack-counter.nft: table ip conntrack_stats, the 18 IPv4 counters.
extern const std::string_view kconntrack_counter_nft;
/// rules/conntrack-counter-inet.nft: table inet conntrack_stats, the same counters for IPv4+IPv6.
extern const std::string_view kconntrack_counter_inet_nft;
}  // namespace ctmon::rules_text
