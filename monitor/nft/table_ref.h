#pragma once
// Which nftables table ctmon reads: a family and a name, written "family:name" on the command
// line and in the config (ip:conntrack_stats, the default; inet:conntrack_stats for IPv4+IPv6).
//
// A table name reaches the kernel and, for `rules install`, the text nft parses: it is hostile
// until checked. So a TableRef can only be made by parse_table_ref (or be the default), which
// checks it; every TableRef in the program holds a name that is a single nft identifier token:
//
//   FAMILY  one of ip, ip6, inet, arp, bridge, netdev (nft's table families; ctmon's rule files
//           exist for ip and inet only, the others can still be read by `sample`, `run`, ...)
//   NAME    1 to 254 characters: an ASCII letter, then ASCII letters, digits and '_'.
//
// That is the safe subset of nft's own identifier rule (src/scanner.l: a letter, '_' or '.',
// then letters, digits, '/', '-', '_', '.'): no character nft reads as a separator, a quote, a
// comment, a variable or a block ('.', '/' and '-' are also operators, so they are left out).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace ctmon::nft {

/// The longest table name: the kernel's NFT_NAME_MAXLEN less the terminating NUL and one more,
/// so a name always fits whatever the kernel's version.
inline constexpr std::size_t kMaxTableNameLength = 254;

class TableRef {
 public:
  /// The default table, ip conntrack_stats.
  TableRef() = default;

  /// nft's family keyword: ip, ip6, inet, arp, bridge or netdev.
  [[nodiscard]] const std::string& family() const { return family_; }
  /// The table's name, a valid nft identifier (see the top of this file).
  [[nodiscard]] const std::string& name() const { return name_; }
  /// The netlink family number (NFPROTO_*) of family().
  [[nodiscard]] std::uint8_t nfproto() const { return nfproto_; }
  /// "family name", as nft writes it ("ip conntrack_stats").
  [[nodiscard]] std::string display() const { return family_ + " " + name_; }
  /// "family:name", as --table takes it ("ip:conntrack_stats").
  [[nodiscard]] std::string option_text() const { return family_ + ":" + name_; }

  friend bool operator==(const TableRef&, const TableRef&) = default;

 private:
  friend TableRef parse_table_ref(std::string_view text);
  TableRef(std::string family, std::uint8_t nfproto, std::string name)
      : family_(std::move(family)), name_(std::move(name)), nfproto_(nfproto) {}

  std::string family_ = "ip";
  std::string name_ = "conntrack_stats";
  std::uint8_t nfproto_ = 2;  // NFPROTO_IPV4, checked against <linux/netfilter.h> in the .cpp
};

/// Parses "family:name" (or a bare "name", meaning family ip) into a checked TableRef. Throws
/// ctmon::UserError, one line that quotes the input safely (input_excerpt), when the family is
/// unknown (naming the accepted families), or the name is empty, too long, or holds a character
/// outside the rule above (naming the character, its position and what is allowed).
[[nodiscard]] TableRef parse_table_ref(std::string_view text);

/// The nft family keyword of a netlink family number, or "family <n>" for one nft has no name for.
[[nodiscard]] std::string family_name(std::uint8_t nfproto);

}  // namespace ctmon::nft
