#include "core/time.h"

#include <limits>

#include <catch2/catch.hpp>

using namespace ctmon;

TEST_CASE("floor_div rounds toward minus infinity") {
  CHECK(floor_div(7, 2) == 3);
  CHECK(floor_div(-7, 2) == -4);
  CHECK(floor_div(-8, 2) == -4);
  CHECK(floor_div(-1, kNsPerS) == -1);
  CHECK(floor_div(0, kNsPerS) == 0);
  CHECK(floor_div(std::numeric_limits<std::int64_t>::min(), kNsPerS) ==
        std::numeric_limits<std::int64_t>::min() / kNsPerS - 1);
}

TEST_CASE("ns_between saturates instead of overflowing") {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  CHECK(ns_between(5, 3) == 2);
  CHECK(ns_between(3, 5) == -2);
  CHECK(ns_between(kMax, -1) == kMax);
  CHECK(ns_between(1'795'004'400'000'097'272, -7'428'367'636'854'678'536) == kMax);
  CHECK(ns_between(kMin, 1) == kMin);
  CHECK(ns_between(kMin, kMin) == 0);
}

TEST_CASE("the calendar converts both ways, across leap years and 1970") {
  CHECK(days_from_civil({1970, 1, 1}) == 0);
  CHECK(days_from_civil({1969, 12, 31}) == -1);
  CHECK(days_from_civil({2000, 3, 1}) == 11017);
  CHECK(civil_from_days(11016) == CivilDate{2000, 2, 29});
  CHECK(civil_from_days(-719468) == CivilDate{0, 3, 1});
  for (std::int64_t day = -800'000; day <= 3'000'000; day += 997) {
    INFO(day);
    const CivilDate date = civil_from_days(day);
    REQUIRE(is_valid_date(date));
    REQUIRE(days_from_civil(date) == day);
  }
}

TEST_CASE("is_valid_date knows month lengths and leap years") {
  CHECK(is_valid_date({2024, 2, 29}));
  CHECK(is_valid_date({2000, 2, 29}));
  CHECK_FALSE(is_valid_date({1900, 2, 29}));
  CHECK_FALSE(is_valid_date({2026, 2, 29}));
  CHECK_FALSE(is_valid_date({2026, 2, 30}));
  CHECK_FALSE(is_valid_date({2026, 4, 31}));
  CHECK(is_valid_date({2026, 12, 31}));
  CHECK_FALSE(is_valid_date({2026, 13, 1}));
  CHECK_FALSE(is_valid_date({2026, 0, 1}));
  CHECK_FALSE(is_valid_date({2026, 1, 0}));
  CHECK(days_in_month(2026, 2) == 28);
  CHECK(days_in_month(2026, 13) == 0);
}

TEST_CASE("RFC 3339 UTC timestamps are whole seconds with Z") {
  CHECK(rfc3339_utc(0) == "1970-01-01T00:00:00Z");
  CHECK(rfc3339_utc(1717372800LL * kNsPerS + 999'000'000) == "2024-06-03T00:00:00Z");
  CHECK(rfc3339_utc(951782400LL * kNsPerS) == "2000-02-29T00:00:00Z");
  CHECK(rfc3339_utc(-1) == "1969-12-31T23:59:59Z");
  CHECK(rfc3339_utc(-kNsPerS) == "1969-12-31T23:59:59Z");
  CHECK(rfc3339_utc(1795135839LL * kNsPerS) == "2026-11-20T00:50:39Z");
}

TEST_CASE("durations are seconds or a number with a unit") {
  CHECK(parse_duration_s("300") == 300);
  CHECK(parse_duration_s("0.2") == Approx(0.2));
  CHECK(parse_duration_s("500ms") == Approx(0.5));
  CHECK(parse_duration_s("5m") == 300);
  CHECK(parse_duration_s("48h") == 172800);
  CHECK(parse_duration_s("30d") == 2592000);
  for (const char* bad : {"", "5 m", "m", "-5", "+5", "5x", "nan", "inf", "1e3", "5mm", " 5"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration_s(bad));
  }
}

TEST_CASE("exact durations are the shortest text that parses back to the same value") {
  CHECK(format_duration_exact(300) == "5m");
  CHECK(format_duration_exact(0.2) == "200ms");
  CHECK(format_duration_exact(172800) == "2d");
  CHECK(format_duration_exact(7) == "7s");
  CHECK(format_duration_exact(90) == "90s");
  CHECK(format_duration_exact(1.5) == "1.5s");
  for (const double d : {0.05, 0.2, 1.0, 1.5, 7.0, 90.0, 300.0, 3600.0, 172800.0, 2592000.0})
    CHECK(parse_duration_s(format_duration_exact(d)) == d);
}

TEST_CASE("brief durations take at most five columns") {
  CHECK(format_duration_brief(41 * kNsPerS) == "41s");
  CHECK(format_duration_brief(87 * kNsPerS) == "1m27s");
  CHECK(format_duration_brief(3720 * kNsPerS) == "1h02m");
  CHECK(format_duration_brief((2 * 86400 + 3 * 3600) * kNsPerS) == "2d03h");
  CHECK(format_duration_brief(-5 * kNsPerS) == "0s");
  CHECK(format_duration_brief(999'999'999) == "0s");
}

TEST_CASE("a tiny duration prints in digits that read back, never in exponent form") {
  // 2.9951e-05 s is a valid heartbeat; a config file cannot hold "2.9951e-05s".
  for (const double seconds : {2.9951e-05, 1e-7, 0.0001234, 12345678.5}) {
    const std::string text = format_duration_exact(seconds);
    INFO(text);
    CHECK(text.find('e') == std::string::npos);
    CHECK(parse_duration_s(text) == seconds);
  }
  CHECK(format_duration_exact(2.9951e-05) == "0.000029951s");
}
