// "Seen on k of the last n days": a nightly job becomes familiar, a one-off anomaly does not.
#include "detectors/recurrence.h"

#include <catch2/catch.hpp>

namespace ctmon {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kDay0 = 20000 * kDay;  // a local midnight
std::int64_t at(int day, int hour, int minute) { return kDay0 + day * kDay + std::int64_t{hour} * 3600 + std::int64_t{minute} * 60; }
constexpr double kQuiet = 2;  // the usual rate, pps, of the hours around a job

// Monday to Friday (days 3-7 from kDay0, a Friday): one rate per quarter hour, rate(day, minute).
template <class Rate>
void learn_weekdays(RecurrenceMemory& memory, Rate rate) {
  for (int day = 3; day <= 7; ++day)
    for (int minute = 0; minute < 24 * 60; minute += 15) memory.observe(at(day, minute / 60, minute % 60), rate(day, minute));
}

}  // namespace

TEST_CASE("a job seen on two previous nights is familiar on the third, a few minutes off") {
  RecurrenceMemory memory{RecurrenceConfig{}};
  memory.observe(at(0, 3, 10), 40);
  CHECK_FALSE(memory.familiar(at(1, 3, 25), 40, kQuiet));  // once is an anomaly, not a pattern
  memory.observe(at(1, 3, 25), 42);
  CHECK(memory.familiar(at(2, 3, 20), 40, kQuiet));
  CHECK(memory.familiar(at(2, 3, 20), 44, kQuiet));         // within the margin of last night's 42
  CHECK_FALSE(memory.familiar(at(2, 3, 20), 80, kQuiet));   // twice as much was never seen
  CHECK_FALSE(memory.familiar(at(2, 14, 0), 40, kQuiet));   // nor at another time of day
}

TEST_CASE("a much bigger anomaly at the same hour is no vote for a smaller one") {
  // One evening a slow scan at 5 pps, the next a storm at 46 pps, both around 22:00: two days
  // saw 5 pps or more at that hour, but only one of them saw anything like it.
  // Meanwhile a nightly job at 03:00 runs at 20 pps one night and 40 the next.
  RecurrenceMemory memory{RecurrenceConfig{}};
  memory.observe(at(0, 3, 0), 20);
  memory.observe(at(0, 22, 0), 5);
  memory.observe(at(1, 3, 0), 40);
  memory.observe(at(1, 21, 45), 46);
  CHECK_FALSE(memory.familiar(at(2, 22, 20), 5, kQuiet));
  CHECK(memory.familiar(at(2, 3, 0), 20, kQuiet));  // a job whose rate wanders is the same job
}

TEST_CASE("a weekday's busy hours do not make a weekend's storm familiar, a job that stands out does") {
  // Day 8 is a Saturday. On the weekdays an office is busy from 08:00 to 18:00 (27 pps, but for
  // lulls at 11:15 and 14:15) and quiet otherwise (2 pps), but for a backup from 03:00 to 03:30
  // (16 pps).
  RecurrenceMemory memory{RecurrenceConfig{}};
  learn_weekdays(memory, [](int, int minute) {
    const int hour = minute / 60;
    // A quiet quarter hour on either side does not make lunchtime stand out like a job.
    const bool lull = minute == 11 * 60 + 15 || minute == 14 * 60 + 15;
    return hour >= 8 && hour < 18 && !lull ? 27.0 : hour == 3 && minute % 60 < 30 ? 16.0 : kQuiet;
  });
  CHECK(memory.familiar(at(7, 12, 45), 27, kQuiet));       // another weekday: its ordinary lunchtime
  CHECK_FALSE(memory.familiar(at(8, 12, 45), 27, kQuiet)); // a Saturday, the office empty: a storm
  CHECK(memory.familiar(at(8, 3, 10), 16, kQuiet));        // the backup runs on Saturdays too
}

TEST_CASE("a weekday's burst over its busy hours explains a weekend rise only as large as itself") {
  // Monday to Friday (days 3-7) an office is busy from 08:00 to 18:00 at 20 pps; on Tuesday and
  // Thursday something adds 10 pps from 12:30 to 13:00, standing out from the busy hours. On
  // Saturday the office is empty (2 pps).
  RecurrenceMemory memory{RecurrenceConfig{}};
  learn_weekdays(memory, [](int day, int minute) {
    const int hour = minute / 60;
    const bool burst = (day == 4 || day == 6) && hour == 12 && minute % 60 >= 30;
    return hour >= 8 && hour < 18 ? 20.0 + (burst ? 10 : 0) : kQuiet;
  });
  CHECK(memory.familiar(at(8, 12, 45), 12, kQuiet));        // 10 pps more: as much as on the weekdays
  CHECK_FALSE(memory.familiar(at(8, 12, 45), 27, kQuiet));  // 25 pps more: more than twice that
  CHECK(memory.familiar(at(7, 12, 45), 27, 20));            // on a weekday the rates alone decide
}

TEST_CASE("held peaks become votes when committed and none when dropped") {
  RecurrenceMemory memory{RecurrenceConfig{}};
  memory.hold(at(0, 3, 10), 40);
  memory.hold(at(0, 3, 20), 45);  // the next slot: its own peak
  memory.drop_held();
  memory.hold(at(1, 3, 10), 40);
  memory.commit_held();
  CHECK_FALSE(memory.familiar(at(2, 3, 15), 40, kQuiet));  // the dropped night is no vote
  memory.hold(at(2, 3, 10), 40);
  memory.hold(at(2, 3, 20), 45);
  memory.commit_held();
  CHECK(memory.familiar(at(3, 3, 20), 44, kQuiet));
  CHECK_FALSE(memory.familiar(at(3, 3, 20), 60, kQuiet));
}

TEST_CASE("a job that starts up to half an hour earlier or later is the same job") {
  RecurrenceMemory memory{RecurrenceConfig{}};
  memory.observe(at(0, 3, 35), 40);
  memory.observe(at(1, 3, 40), 40);
  CHECK(memory.familiar(at(2, 3, 10), 40, kQuiet));
  CHECK_FALSE(memory.familiar(at(2, 2, 40), 40, kQuiet));  // an hour earlier is another time of night
}

TEST_CASE("today's own peak is not a previous day, and old days are forgotten") {
  RecurrenceMemory memory{RecurrenceConfig{}};
  memory.observe(at(0, 3, 10), 40);
  memory.observe(at(1, 3, 10), 40);
  memory.observe(at(9, 3, 10), 40);  // a week later: days 0 and 1 fell out of the 7 remembered
  CHECK_FALSE(memory.familiar(at(9, 3, 12), 40, kQuiet));
  CHECK_FALSE(memory.familiar(at(10, 3, 12), 40, kQuiet));
  memory.observe(at(10, 3, 12), 40);
  CHECK(memory.familiar(at(11, 3, 12), 40, kQuiet));
}

TEST_CASE("a clock that reads a day already past records nothing") {
  RecurrenceMemory memory{RecurrenceConfig{}};
  memory.observe(at(0, 3, 10), 40);
  memory.observe(at(1, 3, 10), 40);
  // Years back (a router without RTC before NTP answers), on the day that shares day 0's row.
  memory.observe(at(-7 * 157, 3, 10), 5);
  memory.observe(at(1, 3, 40), 5);  // the clock is right again
  CHECK(memory.familiar(at(2, 3, 10), 40, kQuiet));
}

TEST_CASE("the memory survives a save and load, and refuses another shape") {
  RecurrenceMemory memory{RecurrenceConfig{}};
  memory.observe(at(0, 3, 10), 40);
  memory.observe(at(1, 3, 10), 40);
  ByteWriter out;
  memory.save(out);
  RecurrenceMemory restored{RecurrenceConfig{}};
  ByteReader in(out.bytes());
  restored.load(in);
  REQUIRE(in.ok());
  CHECK(restored.familiar(at(2, 3, 10), 40, kQuiet));

  RecurrenceConfig other;
  other.days = 3;
  RecurrenceMemory different{other};
  ByteReader again(out.bytes());
  different.load(again);
  CHECK_FALSE(again.ok());
}

TEST_CASE("rates are remembered on a one-byte log scale") {
  CHECK(encode_rate(0) == 0);
  CHECK(encode_rate(-3) == 0);
  CHECK(encode_rate(1) == 16);
  CHECK(encode_rate(1e9) == 255);
  CHECK(encode_rate(100) > encode_rate(90));
}

}  // namespace ctmon
