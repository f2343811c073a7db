#pragma once
// `auto` probe targets, read from the kernel over rtnetlink (libmnl; no /proc, no `ip`):
//   wan  the default gateway of the main table, IPv4 first, else IPv6 (a link-local IPv6
//        gateway gets its interface as scope);
//   lan  the router's own address on an interface other than the default route's: private
//        ranges (10/8, 172.16/12, 192.168/16, fc00::/7) before others, IPv4 before IPv6;
//        loopback and link-local excluded.
// Either may be missing (a router without a default route yet, a box with one interface).

#include <optional>
#include <string>

#include "monitor/probe/probe_target.h"

namespace ctmon::probe {

struct DefaultTargets {
  std::optional<ProbeTarget> wan;
  std::optional<ProbeTarget> lan;
  std::string error;  ///< non-empty when the kernel could not be asked (then both are missing)
};

[[nodiscard]] DefaultTargets find_default_targets();

}  // namespace ctmon::probe
