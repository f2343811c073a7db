#pragma once
// Time arithmetic every part of ctmon shares: unit constants, division that rounds toward minus
// infinity (times before 1970 exist and offsets can be negative), the proleptic Gregorian
// calendar, RFC 3339, and durations as people write them in flags and config files. Pure: no
// clock is read and no time zone is consulted here (local time belongs to the CLI).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ctmon {

inline constexpr std::int64_t kNsPerUs = 1'000;
inline constexpr std::int64_t kNsPerMs = 1'000'000;
inline constexpr std::int64_t kNsPerS = 1'000'000'000;
inline constexpr std::int64_t kSecondsPerDay = 86'400;

/// Floor of a / b for b > 0: -1 ns lies in second -1, not second 0 as `/` would say.
[[nodiscard]] constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

/// later - earlier in nanoseconds, saturated to the range of int64: a time restored from a
/// corrupt state or database may lie anywhere, and a difference must never overflow.
[[nodiscard]] constexpr std::int64_t ns_between(std::int64_t later, std::int64_t earlier) {
  std::int64_t difference = 0;
  if (__builtin_sub_overflow(later, earlier, &difference)) {
    return later > earlier ? INT64_MAX : INT64_MIN;
  }
  return difference;
}

/// A date of the proleptic Gregorian calendar; month 1-12, day 1-31.
struct CivilDate {
  std::int64_t year = 1970;
  unsigned month = 1;
  unsigned day = 1;

  friend bool operator==(const CivilDate&, const CivilDate&) = default;
};

/// Days since 1970-01-01 of `date` (negative before it). A day past the month's end counts on
/// into the next month (2026-02-30 is 2026-03-02): check is_valid_date first where that matters.
/// Algorithm: H. Hinnant, "chrono-Compatible Low-Level Date Algorithms".
[[nodiscard]] std::int64_t days_from_civil(const CivilDate& date);

/// The date `days` after 1970-01-01 (before it when negative); inverse of days_from_civil.
[[nodiscard]] CivilDate civil_from_days(std::int64_t days);

/// 28-31 for month 1-12 of `year`; 0 for a month outside 1-12.
[[nodiscard]] unsigned days_in_month(std::int64_t year, unsigned month);

/// Whether month and day exist in that year (2026-02-30 does not, 2024-02-29 does).
[[nodiscard]] bool is_valid_date(const CivilDate& date);

/// RFC 3339 UTC with a 'Z', whole seconds (the fraction is dropped, rounding toward the past):
/// "2024-06-03T14:02:11Z". Years beyond 9999 print with more digits.
[[nodiscard]] std::string rfc3339_utc(std::int64_t wall_ns);

/// Parses a duration: a number of seconds (`300`, `0.5`) or a number with a unit (`500ms`, `30s`,
/// `5m`, `48h`, `30d`). Returns nothing when the text is not one (signs, spaces, `nan`, `inf`,
/// other units).
[[nodiscard]] std::optional<double> parse_duration_s(std::string_view text);

/// The shortest exact way to write `seconds` in the units parse_duration_s reads: "5m", "48h",
/// "30d", "200ms", "7s", "0.25s". parse_duration_s(format_duration_exact(x)) == x. For config
/// files and messages about configured values.
[[nodiscard]] std::string format_duration_exact(double seconds);

/// A duration for a table column, at most 5 characters for anything under 100 days, whole units
/// truncated: "41s", "1m27s", "1h02m", "2d03h". Negative durations print as "0s".
[[nodiscard]] std::string format_duration_brief(std::int64_t ns);

}  // namespace ctmon
