#pragma once
// Drives a ProbeInput the way the daemon's loop does (want, ppoll, pump) for a while, then takes
// one reading's totals: shared by the tests that send real probes.
#include <poll.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <vector>

#include "monitor/clock.h"
#include "monitor/probe/probe_input.h"

namespace ctmon::probe_test {

struct NoSink : io::SampleSink {
  void on_reading(const Sample&, const CounterCatalog&) override {}
};

// Runs the input's want/poll/pump loop for `seconds`, then one add_totals; returns its totals.
inline Sample drive(probe::ProbeInput& input, CounterCatalog& catalog, double seconds) {
  NoSink sink;
  const std::int64_t end = now_mono_ns() + static_cast<std::int64_t>(seconds * 1e9);
  for (int rounds = 0; rounds < 100'000 && now_mono_ns() < end; ++rounds) {
    std::vector<pollfd> fds;
    const std::int64_t now = now_mono_ns();
    const std::int64_t due = std::min(input.want(fds, now), end);
    const std::int64_t wait_ns = std::max<std::int64_t>(0, due - now);
    const timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000), static_cast<long>(wait_ns % 1'000'000'000)};
    (void)::ppoll(fds.data(), fds.size(), &timeout, nullptr);
    input.pump(now_mono_ns(), catalog, sink);
  }
  Sample sample;
  input.add_totals(sample, catalog, now_mono_ns());
  return sample;
}

}  // namespace ctmon::probe_test
