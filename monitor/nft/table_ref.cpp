#include "monitor/nft/table_ref.h"

#include <array>
#include <utility>

#include <fmt/core.h>
#include <linux/netfilter.h>

#include "monitor/user_error.h"

namespace ctmon::nft {
namespace {

constexpr std::array<std::pair<std::string_view, std::uint8_t>, 6> kFamilies{{
    {"ip", NFPROTO_IPV4},
    {"ip6", NFPROTO_IPV6},
    {"inet", NFPROTO_INET},
    {"arp", NFPROTO_ARP},
    {"bridge", NFPROTO_BRIDGE},
    {"netdev", NFPROTO_NETDEV},
}};

// NFT_NAME_MAXLEN in the kernel, including the terminating NUL.
constexpr std::size_t kMaxNameLength = 255;

}  // namespace

std::uint8_t TableRef::nfproto() const {
  for (const auto& [keyword, number] : kFamilies)
    if (keyword == family) return number;
  throw UserError(fmt::format("unknown nftables family '{}'", family));
}

TableRef parse_table_ref(std::string_view text) {
  TableRef ref;
  const auto colon = text.find(':');
  if (colon != std::string_view::npos) {
    ref.family = std::string(text.substr(0, colon));
    ref.name = std::string(text.substr(colon + 1));
  } else {
    ref.name = std::string(text);
  }
  bool known = false;
  for (const auto& entry : kFamilies) known = known || entry.first == ref.family;
  if (!known)
    throw UserError(fmt::format(
        "table '{}': unknown family '{}'; write FAMILY:NAME with FAMILY one of ip, ip6, inet, "
        "arp, bridge, netdev (e.g. ip:conntrack_stats)",
        text, ref.family));
  if (ref.name.empty() || ref.name.size() >= kMaxNameLength)
    throw UserError(fmt::format(
        "table '{}': the table name must be 1 to {} characters (e.g. ip:conntrack_stats)", text,
        kMaxNameLength - 1));
  return ref;
}

std::string family_name(std::uint8_t nfproto) {
  for (const auto& [keyword, number] : kFamilies)
    if (number == nfproto) return std::string(keyword);
  return fmt::format("family {}", nfproto);
}

}  // namespace ctmon::nft
