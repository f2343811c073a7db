// parse_time_arg: every form the help text promises, and the error for everything else.
#include <cstdlib>
#include <ctime>
#include <string>

#include <catch2/catch.hpp>

#include "monitor/cli/time_arg.h"
#include "monitor/user_error.h"

namespace {

constexpr std::int64_t kS = 1'000'000'000;

// Central European time with its DST rule, spelled as a POSIX TZ so no tzdata is needed.
struct BerlinTime {
  BerlinTime() {
    const char* old = std::getenv("TZ");
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
  }
  ~BerlinTime() {
    if (had_)
      setenv("TZ", old_.c_str(), 1);
    else
      unsetenv("TZ");
    tzset();
  }
  BerlinTime(const BerlinTime&) = delete;
  BerlinTime& operator=(const BerlinTime&) = delete;
  bool had_ = false;
  std::string old_;
};

// 2026-11-27T14:30:00Z = 15:30 local (CET, UTC+1).
constexpr std::int64_t kNow = 1795789800LL * kS;

std::int64_t parse(const char* text) { return ctmon::cli::parse_time_arg("--since", text, kNow); }

}  // namespace

TEST_CASE("durations count back from now") {
  BerlinTime tz;
  CHECK(parse("2h") == kNow - 2 * 3600 * kS);
  CHECK(parse("30m") == kNow - 30 * 60 * kS);
  CHECK(parse("3d") == kNow - 3 * 86400 * kS);
  CHECK(parse("90s") == kNow - 90 * kS);
}

TEST_CASE("now, today and yesterday are now and local midnights") {
  BerlinTime tz;
  CHECK(parse("now") == kNow);
  CHECK(parse("today") == 1795734000LL * kS);      // 2026-11-27T00:00+01:00
  CHECK(parse("yesterday") == 1795647600LL * kS);  // 2026-11-26T00:00+01:00
}

TEST_CASE("a clock time is today's, or yesterday's when it is still to come") {
  BerlinTime tz;
  CHECK(parse("09:10") == 1795767000LL * kS);     // 2026-11-27T09:10+01:00
  CHECK(parse("09:10:30") == 1795767030LL * kS);
  CHECK(parse("20:10") == 1795720200LL * kS);     // 2026-11-26T20:10+01:00: last night
}

TEST_CASE("calendar dates and local date-times") {
  BerlinTime tz;
  CHECK(parse("2026-11-20") == 1795129200LL * kS);            // local midnight
  CHECK(parse("2026-11-20 00:50") == 1795132200LL * kS);
  CHECK(parse("2026-11-20T00:50") == 1795132200LL * kS);
  CHECK(parse("2026-11-20 00:50:30") == 1795132230LL * kS);
  CHECK(parse("2026-07-01 12:00") == 1782900000LL * kS);      // summer: UTC+2
}

TEST_CASE("RFC 3339 with Z or an offset") {
  BerlinTime tz;
  CHECK(parse("2026-11-20T00:50:00Z") == 1795135800LL * kS);
  CHECK(parse("2026-11-20T00:50:00z") == 1795135800LL * kS);
  CHECK(parse("2026-11-20T02:50:00+02:00") == 1795135800LL * kS);
  CHECK(parse("2026-11-19T19:20:00-05:30") == 1795135800LL * kS);
  CHECK(parse("2026-11-20T00:50:00.5Z") == 1795135800LL * kS + kS / 2);
  CHECK(parse("2024-02-29T00:00:00Z") == 1709164800LL * kS);  // a leap day exists
  CHECK(parse("2026-11-20T00:50:00+23:59") == 1795135800LL * kS - (23 * 3600 + 59 * 60) * kS);
}

TEST_CASE("anything else is refused with the flag, the text and every accepted form") {
  BerlinTime tz;
  const char* bad = GENERATE("", "2", "2x", "h", "-2h", "25:00", "12:60", "1:2:3:4", "noon",
                             "2026-13-01", "2026-11-32", "2026-11-20T24:00", "2026-11-20X10:00",
                             "2026-11-20T10:00+2", "2026-11-20T10:00:00Zulu", "20261120", "tomorrow",
                             // dates that do not exist, offsets past a day, signs inside fields
                             "2026-02-30", "2025-02-29", "2026-04-31 10:00", "2026-11-20T10:00+99:99",
                             "2026-11-20T10:00-24:00", "+99:99", ":-5", "12:-5", "2026-11-20T10:-5",
                             "2026-11-20T10:00:-1Z",
                             // beyond what nanoseconds since 1970 hold: refused, never wrapped
                             "6231-11-27 20:10", "9999-12-31T00:00:00Z", "99999999999d");
  CAPTURE(bad);
  try {
    (void)ctmon::cli::parse_time_arg("--until", bad, kNow);
    FAIL("accepted '" << bad << "'");
  } catch (const ctmon::UserError& e) {
    const std::string message = e.what();
    CHECK(message.find("--until '" + std::string(bad) + "'") != std::string::npos);
    for (const char* form : {"2h", "30m", "3d", "now", "today", "yesterday", "20:10", "2026-11-27",
                             "2026-11-27 20:10", "2026-11-27T20:10:00Z", "RFC 3339"})
      CHECK(message.find(form) != std::string::npos);
  }
}
