#pragma once
// The two clocks ctmon reads, in nanoseconds. Monotonic time paces sampling and gives rates and
// durations (it never jumps); the wall clock stamps what is stored and shown (it may jump, e.g.
// when a router without RTC syncs NTP after boot). Only monitor/ reads clocks: detectors/ gets
// time as arguments.

#include <cstdint>
#include <ctime>

namespace ctmon {

inline std::int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline std::int64_t now_mono_ns() { return clock_ns(CLOCK_MONOTONIC); }
inline std::int64_t now_wall_ns() { return clock_ns(CLOCK_REALTIME); }

/// Seconds east of UTC of this machine's time zone at `wall_ns` (daylight saving included).
inline std::int64_t local_utc_offset_s(std::int64_t wall_ns) {
  const auto seconds = static_cast<time_t>(wall_ns / 1'000'000'000);
  tm local{};
  localtime_r(&seconds, &local);
  return local.tm_gmtoff;
}

}  // namespace ctmon
