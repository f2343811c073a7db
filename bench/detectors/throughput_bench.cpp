// Detector throughput: samples of 18 counters per second through the whole Analyzer (rates,
// seasonal/level/robust/CUSUM per counter, fusion, episodes), single core; CTMON_MV=1 turns the
// multivariate score on, which the network profile leaves off, to see what it costs.
// Samples are generated first (tests/detectors/scenario.h) so only detector work is timed.
// Targets: >= 500,000 samples/s, <= 2 us per sample.
//
//   throughput_bench [samples] [repeats]      (defaults: 1,000,000 samples, best of 3)
//
// The daemon sleeps between samples and wakes to a cold machine. Two ways to see that cost
// apart from the detector arithmetic; with either, each observe() is timed alone (wall clock):
//   CTMON_EVICT_KB=N   write N KiB of other memory between samples (caches cold)
//   CTMON_SLEEP_US=N   sleep N us between samples (caches, predictors, idle CPU: all of it)
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <unistd.h>

#include "detectors/analyzer.h"
#include "tests/detectors/scenario.h"

namespace {
double seconds(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}
}  // namespace

int main(int argc, char** argv) {
  const long wanted = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
  ctmon::testing::ScenarioConfig sc;
  sc.days = static_cast<int>(wanted / 86400 + 1);
  ctmon::testing::ScenarioGenerator gen(sc);
  std::vector<ctmon::Sample> samples;
  samples.reserve(static_cast<std::size_t>(wanted));
  for (ctmon::Sample s; static_cast<long>(samples.size()) < wanted && gen.next(s);) samples.push_back(s);

  std::vector<char> evict;
  if (const char* kb = std::getenv("CTMON_EVICT_KB")) evict.resize(std::strtoul(kb, nullptr, 10) * 1024);
  const char* sleep_text = std::getenv("CTMON_SLEEP_US");
  const long sleep_us = sleep_text != nullptr ? std::atol(sleep_text) : 0;
  const bool cold = !evict.empty() || sleep_us > 0;  // time each sample alone
  double best_s = 1e300;
  std::uint64_t episodes = 0;
  for (int r = 0; r < repeats; ++r) {
    auto config = ctmon::AnalyzerConfig::network(sc.interval_s);
    if (const char* w = std::getenv("CTMON_WINDOW")) config.counter.robust_window_samples = std::strtoul(w, nullptr, 10);
    if (std::getenv("CTMON_MV")) config.use_multivariate = true;
    ctmon::Analyzer analyzer(config);
    episodes = 0;
    // CPU time of this process: other work on the machine does not count against the detectors.
    if (cold) {
      double timed_s = 0;
      for (const ctmon::Sample& s : samples) {
        std::fill(evict.begin(), evict.end(), static_cast<char>(s.mono_ns));
        if (sleep_us > 0) usleep(sleep_us);
        const double t0 = seconds(CLOCK_MONOTONIC);
        episodes += analyzer.observe(s, gen.catalog(), 0).change == ctmon::EpisodeChange::opened;
        timed_s += seconds(CLOCK_MONOTONIC) - t0;
      }
      best_s = std::min(best_s, timed_s);
      continue;
    }
    const double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (const ctmon::Sample& s : samples) {
      episodes += analyzer.observe(s, gen.catalog(), 0).change == ctmon::EpisodeChange::opened;
    }
    best_s = std::min(best_s, seconds(CLOCK_PROCESS_CPUTIME_ID) - c0);
  }
  const double n = static_cast<double>(samples.size());
  std::printf("%ssamples %zu x %zu counters, best of %d: %.3f s  ->  %.0f samples/s, %.3f us/sample (%llu episodes)\n",
              !cold ? "CPU time, " : "wall time of observe() alone, cold between samples: ", samples.size(),
              gen.catalog().size(), repeats, best_s, n / best_s, best_s / n * 1e6,
              static_cast<unsigned long long>(episodes));
  return 0;
}
