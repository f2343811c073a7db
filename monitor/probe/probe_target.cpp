#include "monitor/probe/probe_target.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/core.h>

#include "monitor/user_error.h"

namespace ctmon::probe {
namespace {

constexpr const char* kForms =
    "expected wan:ADDR, lan:ADDR, NAME=ADDR, NAME=wan:ADDR, NAME=lan:ADDR, auto or off, where "
    "ADDR is an IPv4 or IPv6 address with an optional port (192.0.2.1, 192.0.2.1:443, "
    "2001:db8::1, [2001:db8::1]:443) and NAME is 1-15 of a-z 0-9";

// Keeps a hostile spec printable and short in a one-line error.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 80)) {
    if (c >= 0x20 && c < 0x7f)
      out += c;
    else
      out += '?';
  }
  if (text.size() > 80) out += "...";
  return out;
}

bool parse_port(std::string_view text, std::uint16_t& port) {
  if (text.empty() || text.size() > 5) return false;
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535)
    return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

bool looks_like_hostname(std::string_view text) {
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  const auto name_char = [&letter](char c) {
    return letter(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
  };
  return !text.empty() && std::any_of(text.begin(), text.end(), letter) &&
         std::all_of(text.begin(), text.end(), name_char);
}

}  // namespace

std::string ProbeAddress::text() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(storage).sin_addr, buffer, sizeof buffer);
  else if (family() == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(storage).sin6_addr, buffer, sizeof buffer);
  return buffer;
}

std::string parse_probe_address(std::string_view text, ProbeAddress& out) {
  out = ProbeAddress{};
  std::string host;
  std::uint16_t port = 0;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return "an IPv6 address in [ ] lacks its ']'";
    host = std::string(text.substr(1, close - 1));
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || !parse_port(rest.substr(1), port))
        return "after [ADDR] only :PORT (1-65535) may follow";
    }
    in6_addr a6{};
    if (inet_pton(AF_INET6, host.c_str(), &a6) != 1) return "not an IPv6 address inside [ ]";
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const std::size_t colon = text.find(':');
    host = std::string(text.substr(0, colon));
    if (!parse_port(text.substr(colon + 1), port)) return "the port must be 1-65535";
  } else {
    host = std::string(text);
  }
  if (host.empty()) return "no address";
  if (host.find('%') != std::string::npos) return "scoped IPv6 addresses (%IFACE) are not supported";
  if (host.find('\0') != std::string::npos) return "not an address";
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) {
    auto& sin = reinterpret_cast<sockaddr_in&>(out.storage);
    sin.sin_family = AF_INET;
    sin.sin_addr = a4;
    sin.sin_port = htons(port);
    out.length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    auto& sin6 = reinterpret_cast<sockaddr_in6&>(out.storage);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr = a6;
    sin6.sin6_port = htons(port);
    out.length = sizeof(sockaddr_in6);
  } else if (looks_like_hostname(host)) {
    return "a host name; give an address (a name would need DNS at every start)";
  } else {
    return "not an IPv4 or IPv6 address";
  }
  out.port = port;
  return "";
}

ProbeTarget parse_probe_spec(std::string_view spec) {
  const auto bad = [&](std::string_view why) {
    return UserError(fmt::format("probe target '{}': {}; {}", printable(spec), why, kForms));
  };
  ProbeTarget target;
  target.spec = std::string(spec);
  std::string_view rest = spec;
  if (const std::size_t eq = rest.find('='); eq != std::string_view::npos) {
    target.name = std::string(rest.substr(0, eq));
    if (!valid_probe_target_name(target.name))
      throw bad("the name must be 1-15 of a-z 0-9");
    rest = rest.substr(eq + 1);
  }
  if (rest.starts_with("wan:")) {
    target.side = ProbeSide::wan;
    rest.remove_prefix(4);
  } else if (rest.starts_with("lan:")) {
    target.side = ProbeSide::lan;
    rest.remove_prefix(4);
  } else if (target.name.empty()) {
    throw bad("no side: start with wan: or lan:, or name it NAME=ADDR");
  }
  if (const std::string why = parse_probe_address(rest, target.address); !why.empty())
    throw bad(why);
  return target;
}

ProbePlan parse_probe_plan(std::string_view list) {
  ProbePlan plan;
  std::vector<std::string> labels;
  std::size_t start = 0;
  bool any = false;
  while (start <= list.size()) {
    std::size_t comma = list.find_first_of(", \t", start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(start, comma - start);
    start = comma + 1;
    if (item.empty()) {
      if (comma == list.size()) break;
      continue;
    }
    any = true;
    if (item == "off") {
      plan.off = true;
    } else if (item == "auto") {
      plan.automatic = true;
    } else {
      ProbeTarget target = parse_probe_spec(item);
      const std::string label = target_label(target);
      if (std::find(labels.begin(), labels.end(), label) != labels.end())
        throw UserError(fmt::format(
            "probe target '{}': a second target named {}; give each target on one side its own "
            "NAME (NAME=ADDR)", printable(item), label));
      labels.push_back(label);
      plan.targets.push_back(std::move(target));
    }
  }
  if (!any) plan.automatic = true;  // an empty list is the default
  if (plan.off && (plan.automatic || !plan.targets.empty()))
    throw UserError(fmt::format("probe targets '{}': 'off' cannot be given with targets or auto",
                                printable(list)));
  return plan;
}

std::string probe_targets_problem(std::string_view list) {
  try {
    (void)parse_probe_plan(list);
    return "";
  } catch (const UserError& e) {
    return e.what();
  }
}

std::string target_label(const ProbeTarget& target) {
  std::string label(to_string(target.side));
  if (!target.name.empty()) label += "_" + target.name;
  return label;
}

std::string per_interval_problem(std::string_view text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() || value < 1 || value > 20)
    return "a whole number of probes from 1 to 20 is expected";
  return "";
}

}  // namespace ctmon::probe
