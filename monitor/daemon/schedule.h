#pragma once
// Sampling on absolute monotonic deadlines: tick k is due at start + k * interval, whatever
// happened before it, so the schedule never drifts. A tick that could not run on time is skipped
// and counted, never silently merged into the next one.

#include <cstdint>

namespace ctmon {

class TickSchedule {
 public:
  /// `start_ns` is the monotonic time of tick 0; `interval_ns` must be > 0.
  TickSchedule(std::int64_t start_ns, std::int64_t interval_ns)
      : start_ns_(start_ns), interval_ns_(interval_ns) {}

  struct Next {
    std::int64_t deadline_ns;  ///< when the next tick is due
    std::uint64_t missed;      ///< ticks whose deadline passed while the previous one was running
  };

  /// Given the monotonic time now, returns the next tick still in the future, and how many
  /// deadlines were skipped to reach it. Advances the schedule.
  Next advance(std::int64_t now_ns) {
    std::uint64_t next = last_ + 1;
    std::uint64_t missed = 0;
    if (now_ns >= start_ns_ + static_cast<std::int64_t>(next) * interval_ns_) {
      const auto due = static_cast<std::uint64_t>((now_ns - start_ns_) / interval_ns_) + 1;
      missed = due - next;
      next = due;
    }
    last_ = next;
    return {start_ns_ + static_cast<std::int64_t>(next) * interval_ns_, missed};
  }

  [[nodiscard]] std::int64_t interval_ns() const { return interval_ns_; }

 private:
  std::int64_t start_ns_;
  std::int64_t interval_ns_;
  std::uint64_t last_ = 0;  // index of the tick most recently handed out
};

}  // namespace ctmon
