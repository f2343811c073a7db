#include "monitor/nft/table_ref.h"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/core.h>
#include <linux/netfilter.h>

#include "monitor/input_excerpt.h"
#include "monitor/user_error.h"

namespace ctmon::nft {
namespace {

static_assert(NFPROTO_IPV4 == 2, "TableRef's default nfproto_ is NFPROTO_IPV4");

constexpr std::array<std::pair<std::string_view, std::uint8_t>, 6> kFamilies{{
    {"ip", NFPROTO_IPV4},
    {"ip6", NFPROTO_IPV6},
    {"inet", NFPROTO_INET},
    {"arp", NFPROTO_ARP},
    {"bridge", NFPROTO_BRIDGE},
    {"netdev", NFPROTO_NETDEV},
}};

constexpr std::string_view kNameRule =
    "a table name starts with an ASCII letter and holds only ASCII letters, digits and '_' "
    "(e.g. ip:conntrack_stats)";

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// How an error names one character: itself when it can be seen, else what it is.
std::string describe(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (c == ' ') return "a space";
  if (c == '\n') return "a newline";
  if (c == '\t') return "a tab";
  if (byte >= 0x80) return fmt::format("byte 0x{:02x} (not ASCII)", byte);
  if (byte < 0x20 || byte == 0x7f) return fmt::format("control character 0x{:02x}", byte);
  return fmt::format("'{}'", c);
}

}  // namespace

TableRef parse_table_ref(std::string_view text) {
  std::string_view family = "ip";
  std::string_view name = text;
  if (const auto colon = text.find(':'); colon != std::string_view::npos) {
    family = text.substr(0, colon);
    name = text.substr(colon + 1);
  }
  const auto known = std::find_if(kFamilies.begin(), kFamilies.end(),
                                  [&](const auto& entry) { return entry.first == family; });
  if (known == kFamilies.end())
    throw UserError(fmt::format(
        "table '{}': unknown family '{}'; write FAMILY:NAME with FAMILY one of ip, ip6, inet, "
        "arp, bridge, netdev (e.g. ip:conntrack_stats)",
        input_excerpt(text), input_excerpt(family)));
  if (name.empty() || name.size() > kMaxTableNameLength)
    throw UserError(fmt::format("table '{}': the table name must be 1 to {} characters; {}",
                                input_excerpt(text), kMaxTableNameLength, kNameRule));
  for (std::size_t at = 0; at < name.size(); ++at) {
    const char c = name[at];
    if (is_letter(c) || (at > 0 && (is_digit(c) || c == '_'))) continue;
    throw UserError(fmt::format("table '{}': {} at position {} of the name is not allowed; {}",
                                input_excerpt(text), describe(c), at + 1, kNameRule));
  }
  return TableRef(std::string(known->first), known->second, std::string(name));
}

std::string family_name(std::uint8_t nfproto) {
  for (const auto& [keyword, number] : kFamilies)
    if (number == nfproto) return std::string(keyword);
  return fmt::format("family {}", nfproto);
}

}  // namespace ctmon::nft
