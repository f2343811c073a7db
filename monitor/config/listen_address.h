#pragma once
// `prometheus_listen`: where the Prometheus endpoint listens, parsed without touching a socket
// so that `ctmon config check` catches a typo before the daemon starts.
//
//   192.168.1.1:9101   one IPv4 address (a router's LAN address: the usual choice)
//   [fd00::1]:9101     one IPv6 address, in brackets as in URLs
//   :9101              every address, IPv6 and IPv4 (the exporters' convention); on a router that
//                      includes the WAN side unless the firewall drops it
// Only numeric addresses: a name would need DNS, which may not be up when the daemon starts.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace ctmon {

struct ListenAddress {
  enum class Family { kAny, kIpv4, kIpv6 };
  Family family = Family::kAny;
  std::string host;  ///< the address without brackets; empty for kAny
  std::uint16_t port = 0;

  /// "192.168.1.1:9101", "[fd00::1]:9101", ":9101".
  [[nodiscard]] std::string text() const;
};

/// The address, or why `text` is not one (one line, without the key's name).
[[nodiscard]] std::variant<ListenAddress, std::string> parse_listen_address(std::string_view text);

}  // namespace ctmon
