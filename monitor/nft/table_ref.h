#pragma once
// Which nftables table ctmon reads: a family and a name, written "family:name" on the command
// line and in the config (ip:conntrack_stats, the default; inet:conntrack_stats for IPv4+IPv6).

#include <cstdint>
#include <string>
#include <string_view>

namespace ctmon::nft {

struct TableRef {
  std::string family = "ip";  ///< nft's family keyword: ip, ip6, inet, arp, bridge, netdev
  std::string name = "conntrack_stats";

  /// The netlink family number (NFPROTO_*) of `family`.
  [[nodiscard]] std::uint8_t nfproto() const;
  /// "family name", as nft writes it ("ip conntrack_stats").
  [[nodiscard]] std::string display() const { return family + " " + name; }

  friend bool operator==(const TableRef&, const TableRef&) = default;
};

/// Parses "family:name" (or a bare "name", meaning family ip). Throws ctmon::UserError naming the
/// accepted families when the family is unknown or the name is empty or too long for the kernel.
[[nodiscard]] TableRef parse_table_ref(std::string_view text);

/// The nft family keyword of a netlink family number, or "family <n>" for one nft has no name for.
[[nodiscard]] std::string family_name(std::uint8_t nfproto);

}  // namespace ctmon::nft
