#pragma once
// Times as people type them on a router's shell: --since 2h, --since yesterday, --until 20:10.

#include <cstdint>
#include <string_view>

namespace ctmon::cli {

/// Parses `text` as a point in time, relative to `now_wall_ns` and the local time zone (TZ):
///   2h, 30m, 3d, 90s      that long before now
///   now, today, yesterday  now; local midnight today; local midnight yesterday
///   20:10, 20:10:30        that local time today (yesterday when it is still to come)
///   2026-11-27             local midnight of that date
///   2026-11-27 20:10[:30]  local time (a 'T' may stand for the space)
///   2026-11-27T20:10:00Z   RFC 3339, with Z or an offset such as +01:00
/// Returns nanoseconds since the epoch. Throws UserError naming `flag`, the text and every
/// accepted form.
[[nodiscard]] std::int64_t parse_time_arg(std::string_view flag, std::string_view text,
                                          std::int64_t now_wall_ns);

/// `wall_ns` in local time, by strftime `pattern` ("2026-11-27 20:10:03" by default).
[[nodiscard]] std::string format_local_time(std::int64_t wall_ns,
                                            const char* pattern = "%Y-%m-%d %H:%M:%S");

}  // namespace ctmon::cli
