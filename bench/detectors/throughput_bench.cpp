// Detector throughput: samples of 18 counters per second through the whole Analyzer (rates,
// seasonal/level/robust/CUSUM per counter, multivariate, fusion, episodes), single core.
// Samples are generated first (tests/detectors/scenario.h) so only detector work is timed.
// Targets (issue 4): >= 500,000 samples/s, <= 2 us per sample.
//
//   throughput_bench [samples] [repeats]      (defaults: 1,000,000 samples, best of 3)
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "detectors/analyzer.h"
#include "tests/detectors/scenario.h"

int main(int argc, char** argv) {
  const long wanted = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
  ctmon::testing::ScenarioConfig sc;
  sc.days = static_cast<int>(wanted / 86400 + 1);
  ctmon::testing::ScenarioGenerator gen(sc);
  std::vector<ctmon::Sample> samples;
  samples.reserve(static_cast<std::size_t>(wanted));
  for (ctmon::Sample s; static_cast<long>(samples.size()) < wanted && gen.next(s);) samples.push_back(s);

  double best_s = 1e300;
  std::uint64_t episodes = 0;
  for (int r = 0; r < repeats; ++r) {
    auto config = ctmon::AnalyzerConfig::network(sc.interval_s);
    if (const char* w = std::getenv("CTMON_WINDOW")) config.counter.robust_window_samples = std::strtoul(w, nullptr, 10);
    if (std::getenv("CTMON_NO_MV")) config.use_multivariate = false;
    ctmon::Analyzer analyzer(config);
    episodes = 0;
    // CPU time of this process: other work on the machine does not count against the detectors.
    timespec c0{}, c1{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    for (const ctmon::Sample& s : samples) {
      episodes += analyzer.observe(s, gen.catalog(), 0).change == ctmon::EpisodeChange::opened;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    best_s = std::min(best_s, static_cast<double>(c1.tv_sec - c0.tv_sec) + 1e-9 * static_cast<double>(c1.tv_nsec - c0.tv_nsec));
  }
  const double n = static_cast<double>(samples.size());
  std::printf("samples %zu x %zu counters, best of %d: %.3f s CPU  ->  %.0f samples/s, %.3f us/sample (%llu episodes)\n",
              samples.size(), gen.catalog().size(), repeats, best_s, n / best_s, best_s / n * 1e6,
              static_cast<unsigned long long>(episodes));
  return 0;
}
