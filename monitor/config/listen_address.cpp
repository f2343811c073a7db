#include "monitor/config/listen_address.h"

#include <arpa/inet.h>

#include <charconv>

#include <fmt/core.h>

namespace ctmon {

std::string ListenAddress::text() const {
  switch (family) {
    case Family::kAny: return fmt::format(":{}", port);
    case Family::kIpv4: return fmt::format("{}:{}", host, port);
    case Family::kIpv6: return fmt::format("[{}]:{}", host, port);
  }
  return {};
}

std::variant<ListenAddress, std::string> parse_listen_address(std::string_view text) {
  constexpr std::string_view kExpected =
      "expected ADDRESS:PORT with a numeric address: 192.168.1.1:9101, [fd00::1]:9101, or :9101 for "
      "every address";
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return fmt::format("no port; {}", kExpected);
  const std::string_view port_text = text.substr(colon + 1);
  std::string_view host = text.substr(0, colon);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535)
    return fmt::format("port '{}' is not a number from 1 to 65535", port_text);

  ListenAddress address;
  address.port = static_cast<std::uint16_t>(port);
  if (host.empty()) return address;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return fmt::format("'{}': {}", host, kExpected);
    host = host.substr(1, host.size() - 2);
    in6_addr binary{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &binary) != 1)
      return fmt::format("'{}' is not a numeric IPv6 address", host);
    address.family = ListenAddress::Family::kIpv6;
  } else {
    in_addr binary{};
    if (host.find(':') != std::string_view::npos)
      return fmt::format("'{}': an IPv6 address goes in brackets, [{}]:{}", host, host, port);
    if (inet_pton(AF_INET, std::string(host).c_str(), &binary) != 1)
      return fmt::format("'{}' is not a numeric IPv4 address; {}", host, kExpected);
    address.family = ListenAddress::Family::kIpv4;
  }
  address.host = host;
  return address;
}

}  // namespace ctmon
