#include "monitor/daemon/schedule.h"

#include <catch2/catch.hpp>

using ctmon::TickSchedule;

TEST_CASE("ticks fall on start + k * interval however late each one ran") {
  TickSchedule schedule(1000, 100);
  CHECK(schedule.advance(1000).deadline_ns == 1100);
  // woke up 30 ns late: the next deadline is still on the grid, not 30 ns later
  const auto next = schedule.advance(1130);
  CHECK(next.deadline_ns == 1200);
  CHECK(next.missed == 0);
}

TEST_CASE("a tick that ran past the following deadlines counts them as missed") {
  TickSchedule schedule(0, 100);
  (void)schedule.advance(0);                 // tick 1 due at 100
  const auto next = schedule.advance(350);   // ticks 2 (200) and 3 (300) were passed
  CHECK(next.deadline_ns == 400);
  CHECK(next.missed == 2);
}

TEST_CASE("a deadline hit exactly is in the past, so the next one is handed out") {
  TickSchedule schedule(0, 100);
  (void)schedule.advance(0);
  const auto next = schedule.advance(200);
  CHECK(next.deadline_ns == 300);
  CHECK(next.missed == 1);
}
