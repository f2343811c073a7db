#include "core/time.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/core.h>

namespace ctmon {

std::int64_t days_from_civil(const CivilDate& date) {
  const std::int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned m = date.month;
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + date.day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

CivilDate civil_from_days(std::int64_t days) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

unsigned days_in_month(std::int64_t year, unsigned month) {
  constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  return month == 2 && leap ? 29 : kDays[month - 1];
}

bool is_valid_date(const CivilDate& date) {
  return date.day >= 1 && date.day <= days_in_month(date.year, date.month);
}

std::string rfc3339_utc(std::int64_t wall_ns) {
  const std::int64_t s = floor_div(wall_ns, kNsPerS);
  const std::int64_t days = floor_div(s, kSecondsPerDay);
  const std::int64_t second_of_day = s - days * kSecondsPerDay;
  const CivilDate date = civil_from_days(days);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", date.year, date.month, date.day,
                     second_of_day / 3600, second_of_day % 3600 / 60, second_of_day % 60);
}

std::optional<double> parse_duration_s(std::string_view text) {
  std::size_t unit_at = 0;
  while (unit_at < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[unit_at])) != 0 || text[unit_at] == '.'))
    ++unit_at;
  if (unit_at == 0) return std::nullopt;
  const std::string number(text.substr(0, unit_at));
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(value)) return std::nullopt;
  const std::string_view unit = text.substr(unit_at);
  struct Unit {
    std::string_view name;
    double seconds;
  };
  for (const Unit u : {Unit{"", 1}, Unit{"ms", 1e-3}, Unit{"s", 1}, Unit{"m", 60}, Unit{"h", 3600},
                       Unit{"d", 86400}})
    if (unit == u.name) return value * u.seconds;
  return std::nullopt;
}

namespace {

// The shortest digits that read back as `value`, never in exponent form ("3e-05"), which
// parse_duration_s does not read.
std::string plain_number(double value) {
  std::array<char, 512> digits{};  // fixed notation of the largest double has 309 digits
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), value,
                                 std::chars_format::fixed).ptr;
  return std::string(digits.data(), end);
}

}  // namespace

std::string format_duration_exact(double seconds) {
  for (const auto& [unit, size] : {std::pair{"d", 86400.0}, {"h", 3600.0}, {"m", 60.0}})
    if (seconds >= size && std::fmod(seconds, size) == 0) return plain_number(seconds / size) + unit;
  if (seconds < 1 && std::fmod(seconds * 1000, 1) == 0) return plain_number(seconds * 1000) + "ms";
  return plain_number(seconds) + "s";
}

std::string format_duration_brief(std::int64_t ns) {
  const std::int64_t s = ns > 0 ? ns / kNsPerS : 0;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < kSecondsPerDay) return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
  return fmt::format("{}d{:02}h", s / kSecondsPerDay, s % kSecondsPerDay / 3600);
}

}  // namespace ctmon
