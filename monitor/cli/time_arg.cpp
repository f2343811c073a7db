#include "monitor/cli/time_arg.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <limits>
#include <optional>
#include <string>

#include <fmt/core.h>

#include "core/time.h"
#include "monitor/user_error.h"

namespace ctmon::cli {
namespace {

std::int64_t local_midnight(std::int64_t wall_ns, int days_back) {
  const time_t seconds = static_cast<time_t>(wall_ns / kNsPerS);
  tm local{};
  localtime_r(&seconds, &local);
  local.tm_hour = local.tm_min = local.tm_sec = 0;
  local.tm_mday -= days_back;
  local.tm_isdst = -1;  // let mktime decide across a DST change
  return static_cast<std::int64_t>(mktime(&local)) * kNsPerS;
}

// Reads "YYYY-MM-DD", then optionally [T ]HH:MM[:SS[.frac]] and Z or ±HH:MM. Dates that do
// not exist (2026-02-30) and offsets past ±23:59 are refused rather than carried over.
std::optional<std::int64_t> parse_calendar(const std::string& text) {
  CivilDate date;
  int year = 0, hour = 0, minute = 0, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2u-%2u%n", &year, &date.month, &date.day, &consumed) != 3 ||
      consumed != 10)
    return std::nullopt;
  date.year = year;
  std::string rest = text.substr(10);
  double seconds = 0;
  if (!rest.empty()) {
    if (rest[0] != 'T' && rest[0] != ' ') return std::nullopt;
    int used = 0;
    if (std::sscanf(rest.c_str() + 1, "%2d:%2d%n", &hour, &minute, &used) != 2 || used != 5)
      return std::nullopt;
    rest = rest.substr(1 + used);
    if (!rest.empty() && rest[0] == ':') {
      if (std::sscanf(rest.c_str() + 1, "%lf%n", &seconds, &used) != 1 || used < 2 ||
          !(seconds >= 0 && seconds < 61))
        return std::nullopt;
      rest = rest.substr(1 + used);
    }
  }
  if (!is_valid_date(date) || hour < 0 || hour > 23 || minute < 0 || minute > 59) return std::nullopt;
  const auto whole_seconds = static_cast<int>(seconds);
  std::int64_t at_s = 0;
  if (rest.empty()) {  // local time: only the C library knows the zone's rules
    // A 32-bit time_t (Debian's mipsel and armhf) ends in 2038: mktime would wrap or fail there.
    // A day's margin covers every zone offset.
    const std::int64_t utc_s = days_from_civil(date) * kSecondsPerDay + hour * 3600 + minute * 60;
    if (utc_s - kSecondsPerDay < std::numeric_limits<time_t>::min() ||
        utc_s + kSecondsPerDay > std::numeric_limits<time_t>::max())
      return std::nullopt;
    tm when{};
    when.tm_year = year - 1900;
    when.tm_mon = static_cast<int>(date.month) - 1;
    when.tm_mday = static_cast<int>(date.day);
    when.tm_hour = hour;
    when.tm_min = minute;
    when.tm_sec = whole_seconds;
    when.tm_isdst = -1;
    at_s = mktime(&when);
    if (at_s == -1) return std::nullopt;  // not representable here (1969-12-31 23:59:59 UTC aside)
  } else {
    int offset_s = 0;
    if (rest != "Z" && rest != "z") {
      int offset_hours = 0, offset_minutes = 0, used = 0;
      if ((rest[0] != '+' && rest[0] != '-') || rest.size() != 6 ||
          std::sscanf(rest.c_str() + 1, "%2d:%2d%n", &offset_hours, &offset_minutes, &used) != 2 || used != 5 ||
          offset_hours < 0 || offset_hours > 23 || offset_minutes < 0 || offset_minutes > 59)
        return std::nullopt;
      offset_s = (rest[0] == '-' ? -1 : 1) * (offset_hours * 3600 + offset_minutes * 60);
    }
    at_s = days_from_civil(date) * kSecondsPerDay + hour * 3600 + minute * 60 + whole_seconds - offset_s;
  }
  // Past the year 2262 nanoseconds no longer fit: not a time, rather than one that wrapped.
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(at_s, kNsPerS, &ns) ||
      __builtin_add_overflow(ns, static_cast<std::int64_t>((seconds - whole_seconds) * 1e9), &ns))
    return std::nullopt;
  return ns;
}

std::optional<std::int64_t> parse_clock_time(const std::string& text, std::int64_t now_wall_ns) {
  int hour = 0, minute = 0, second = 0, used = 0;
  const int fields = std::sscanf(text.c_str(), "%2d:%2d%n:%2d%n", &hour, &minute, &used, &second,
                                 &used);
  if (fields < 2 || static_cast<std::size_t>(used) != text.size() || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 59)
    return std::nullopt;
  const time_t now_s = static_cast<time_t>(now_wall_ns / kNsPerS);
  tm local{};
  localtime_r(&now_s, &local);
  local.tm_hour = hour;
  local.tm_min = minute;
  local.tm_sec = second;
  local.tm_isdst = -1;
  std::int64_t at = static_cast<std::int64_t>(mktime(&local)) * kNsPerS;
  if (at > now_wall_ns) {  // "20:10" typed at 09:00 means last night
    local.tm_mday -= 1;
    local.tm_isdst = -1;
    at = static_cast<std::int64_t>(mktime(&local)) * kNsPerS;
  }
  return at;
}

}  // namespace

std::int64_t parse_time_arg(std::string_view flag, std::string_view text_view,
                            std::int64_t now_wall_ns) {
  const std::string text(text_view);
  if (text == "now") return now_wall_ns;
  if (text == "today") return local_midnight(now_wall_ns, 0);
  if (text == "yesterday") return local_midnight(now_wall_ns, 1);
  if (!text.empty() && text.find(':') == std::string::npos && text.find('-') == std::string::npos) {
    if (const auto ago = parse_duration_s(text);
        ago && std::isalpha(static_cast<unsigned char>(text.back())) != 0 && *ago < 9e9)
      return now_wall_ns - static_cast<std::int64_t>(*ago * 1e9);  // 9e9 s: 285 years
  }
  if (const auto at = parse_clock_time(text, now_wall_ns)) return *at;
  if (const auto at = parse_calendar(text)) return *at;
  throw UserError(fmt::format(
      "{} '{}' is not a time; accepted: 2h, 30m, 3d (that long ago), now, today, yesterday, "
      "20:10 (local, today), 2026-11-27, 2026-11-27 20:10 (local), 2026-11-27T20:10:00Z (RFC 3339)",
      flag, text));
}

std::string format_local_time(std::int64_t wall_ns, const char* pattern) {
  const time_t seconds = static_cast<time_t>(wall_ns / kNsPerS);
  tm local{};
  localtime_r(&seconds, &local);
  char buffer[64];
  if (std::strftime(buffer, sizeof buffer, pattern, &local) == 0) return {};
  return buffer;
}

}  // namespace ctmon::cli
