#pragma once
// Probe targets as the user names them (`probe.targets`, `--probe SPEC`):
//
//   wan:ADDR  lan:ADDR  NAME=ADDR (WAN side)  NAME=wan:ADDR  NAME=lan:ADDR
//   auto      the default gateway (WAN) and the router's own LAN address (default_targets.h)
//   off       no probing
//
// ADDR is an IPv4 or IPv6 literal with an optional port (192.0.2.1:443, [2001:db8::1]:443); a
// port only matters for TCP connect timing, the fallback when ICMP is not allowed. Host names
// are refused: a name would need DNS at every start and would probe whatever the resolver says.

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/measurement.h"

namespace ctmon::probe {

/// An IPv4 or IPv6 address with an optional port (0: none).
struct ProbeAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::uint16_t port = 0;
  [[nodiscard]] int family() const { return storage.ss_family; }
  /// "192.0.2.1", "2001:db8::1" (no port).
  [[nodiscard]] std::string text() const;
};

struct ProbeTarget {
  ProbeSide side = ProbeSide::wan;
  std::string name;  ///< empty: the side's default target
  ProbeAddress address;
  std::string spec;  ///< as given, for messages
};

/// What `probe.targets` asks for.
struct ProbePlan {
  bool off = false;
  bool automatic = false;            ///< `auto` was given (alone or with explicit targets)
  std::vector<ProbeTarget> targets;  ///< explicit targets
};

/// Parses one ADDR (literal, optional port). Empty string on success, else why not.
[[nodiscard]] std::string parse_probe_address(std::string_view text, ProbeAddress& out);

/// Parses one SPEC. Throws UserError naming the spec and the expected form.
[[nodiscard]] ProbeTarget parse_probe_spec(std::string_view spec);

/// Parses the key's value: specs separated by commas (the form the config table keeps a list
/// in) or blanks (a UCI list read by the init script). Throws UserError for a bad spec, a duplicate target, or `off` mixed with targets.
[[nodiscard]] ProbePlan parse_probe_plan(std::string_view list);

/// For the config key's check: why `list` is not a valid probe.targets value, or "".
[[nodiscard]] std::string probe_targets_problem(std::string_view list);

/// probe.per_interval's check: why `text` is not a whole number from 1 to 20, or "".
[[nodiscard]] std::string per_interval_problem(std::string_view text);

/// "wan", "lan", "wan_google": the target's part of its counter names, for messages and status.
[[nodiscard]] std::string target_label(const ProbeTarget& target);

}  // namespace ctmon::probe
