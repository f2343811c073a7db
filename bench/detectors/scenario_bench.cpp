// Prints how the detectors do on the labelled synthetic scenarios (tests/detectors/scenario.h):
// recall on episodes of 3x and more, precision, false episodes per quiet day, alarms at the
// nightly job after day 3 and at resets/gaps/clock jumps, median detection delay.
//
//   scenario_bench [days] [interval_s] [seeds] [first_seed]   (defaults: 14 days at 1 s, seeds 1..3)
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/detectors/scenario.h"

// CTMON_TUNE="slack=1.5,alarm=15,point=6,mv=8,open=2" tries other settings without a rebuild.
ctmon::AnalyzerConfig tuned(ctmon::AnalyzerConfig c) {
  const char* env = std::getenv("CTMON_TUNE");
  if (!env) return c;
  std::string spec = env;
  std::size_t pos = 0;
  while (pos < spec.size()) {
    const std::size_t comma = std::min(spec.find(',', pos), spec.size());
    const std::string item = spec.substr(pos, comma - pos);
    const std::size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    const double v = std::atof(item.c_str() + eq + 1);
    if (key == "slack") c.counter.cusum.slack_sd = v;
    if (key == "alarm") c.counter.cusum.alarm_sd = v;
    if (key == "point") c.counter.point_alarm_sd = v;
    if (key == "mv") c.multivariate_alarm_sd = v;
    if (key == "open") c.episodes.open_samples = static_cast<std::uint32_t>(v);
    if (key == "level") c.counter.level_memory_samples = v;
    if (key == "winsor") c.counter.winsor_sd = v;
    if (key == "window") c.counter.robust_window_samples = static_cast<std::size_t>(v);
    pos = comma + 1;
  }
  return c;
}

int main(int argc, char** argv) {
  const int days = argc > 1 ? std::atoi(argv[1]) : 14;
  const double interval_s = argc > 2 ? std::atof(argv[2]) : 1.0;
  const int seeds = argc > 3 ? std::atoi(argv[3]) : 3;
  const int first_seed = argc > 4 ? std::atoi(argv[4]) : 1;
  std::printf("%-5s %6s %9s %9s %9s %11s %9s %9s %11s %8s\n", "seed", "inj3x", "recall3x", "recall", "precision",
              "false/day", "job>=d3", "at_dist", "med_delay", "kind_ok");
  double recall_sum = 0, precision_sum = 0, false_sum = 0;
  for (int seed = first_seed; seed < first_seed + seeds; ++seed) {
    ctmon::testing::ScenarioConfig sc;
    sc.seed = static_cast<std::uint64_t>(seed);
    sc.days = days;
    sc.interval_s = interval_s;
    const auto rep = ctmon::testing::run_scenario(sc, tuned(ctmon::AnalyzerConfig::network(interval_s)));
    std::printf("%-5d %6d %9.3f %9.3f %9.3f %11.3f %9d %9d %11.1f %8.2f\n", seed, rep.injected_3x, rep.recall_3x(),
                rep.injected ? double(rep.detected_all) / rep.injected : 1.0, rep.precision(), rep.false_per_day(),
                rep.nightly_alarms_after_day3, rep.alarms_at_disturbances, rep.median_delay_intervals,
                rep.detected_3x ? double(rep.kind_correct_3x) / rep.detected_3x : 0.0);
    if (std::getenv("CTMON_BENCH_VERBOSE"))
      for (const auto& f : rep.false_descriptions) std::printf("  false: %s\n", f.c_str());
    if (std::getenv("CTMON_BENCH_VERBOSE")) {
      std::printf("  delays (intervals) of detected >=3x:");
      for (double d : rep.delays) std::printf(" %.0f", d);
      std::printf("\n");
    }
    recall_sum += rep.recall_3x();
    precision_sum += rep.precision();
    false_sum += rep.false_per_day();
  }
  std::printf("mean: recall3x %.3f  precision %.3f  false episodes per quiet day %.3f\n", recall_sum / seeds,
              precision_sum / seeds, false_sum / seeds);
  return 0;
}
