#pragma once
// A labelled synthetic home router: 18 conntrack counters with diurnal and weekly load, a shared
// load factor (so counters correlate as real ones do), over-dispersed Poisson noise, benign
// bursts, a nightly backup, counter resets, sampling gaps, wall-clock jumps, and injected
// episodes of every kind at 2x..20x. Fixed seeds make every run identical on every platform
// (own RNG, no <random> distributions, whose output is implementation-defined).
//
// Samples are produced one at a time (a week at 1 s would not fit in memory as a vector); the
// labels are planned up front and available from the start.

#include <cstdint>
#include <string>
#include <vector>

#include "core/episode.h"
#include "core/sample.h"
#include "detectors/analyzer.h"

namespace ctmon::testing {

struct ScenarioConfig {
  std::uint64_t seed = 1;
  double interval_s = 1.0;
  int days = 7;
  std::int64_t start_wall_s = 1717372800;  ///< Monday 2024-06-03 00:00 UTC
  std::int64_t local_offset_s = 0;         ///< local time = UTC + this (generator and Analyzer)
  int first_episode_day = 1;               ///< day 0 is for learning: no injected episodes
  double episodes_per_day = 6;
  double min_intensity = 2.0;
  double max_intensity = 20.0;
  bool nightly_job = true;
  double resets_per_day = 1;
  double gaps_per_day = 1;
  double clock_jumps_per_day = 1;
  double short_bursts_per_day = 40;  ///< benign 1-3 sample spikes of new connections
  double downloads_per_day = 6;      ///< benign 10-30 min rises of established traffic
};

struct InjectedEpisode {
  EpisodeKind kind = EpisodeKind::unknown;
  double intensity = 1.0;
  std::int64_t start_mono_ns = 0;
  std::int64_t end_mono_ns = 0;
};

enum class MarkerKind { nightly_job, reset, gap, clock_jump };
struct Marker {
  MarkerKind kind;
  int day = 0;
  std::int64_t start_ns = 0;  ///< monotonic
  std::int64_t end_ns = 0;
};

class ScenarioGenerator {
 public:
  explicit ScenarioGenerator(const ScenarioConfig& config);

  /// Next sample (counters interned in catalog() at construction). False after the last day.
  bool next(Sample& out);

  [[nodiscard]] const CounterCatalog& catalog() const { return catalog_; }
  [[nodiscard]] const std::vector<InjectedEpisode>& episodes() const { return episodes_; }
  [[nodiscard]] const std::vector<Marker>& markers() const { return markers_; }
  [[nodiscard]] const ScenarioConfig& config() const { return config_; }

 private:
  struct Rng {
    std::uint64_t state;
    std::uint64_t next_u64();
    double uniform();  // [0, 1)
    double normal();
    std::uint64_t poisson(double mean);
  };
  struct Bump {  // a benign or scheduled multiplicative change of some counters
    std::int64_t start_ns, end_ns;
    std::vector<std::pair<CounterId, double>> factor;  // multiplier of base rate
  };

  void plan();
  [[nodiscard]] double base_rate(CounterId c, double true_s) const;

  ScenarioConfig config_;
  CounterCatalog catalog_;
  std::vector<double> level_pps_;
  std::vector<InjectedEpisode> episodes_;
  std::vector<Marker> markers_;
  std::vector<Bump> bumps_;
  Rng rng_;
  std::int64_t step_ = 0;
  std::int64_t steps_total_ = 0;
  std::vector<std::uint64_t> totals_;
  double shared_slow_ = 0.0;
  double shared_fast_ = 0.0;
};

/// What the detectors did on a scenario, judged against its labels.
struct ScenarioReport {
  int injected = 0, injected_3x = 0;
  int detected_3x = 0, detected_all = 0;
  int episodes_reported = 0;
  int true_episodes = 0;          ///< reported episodes that overlap an injected one
  int false_episodes = 0;         ///< reported, overlapping nothing injected and no allowed event
  int nightly_alarms_after_day3 = 0;
  int alarms_at_disturbances = 0; ///< opened within 5 min after a reset, gap or clock jump
  int kind_correct_3x = 0;
  double evaluated_days = 0;
  double median_delay_intervals = 0;  ///< over detected injected episodes >= 3x
  std::vector<double> delays;
  std::vector<std::string> false_descriptions;  ///< "day 3 14:02:11 [point,cusum] <summary>"

  [[nodiscard]] double recall_3x() const { return injected_3x ? double(detected_3x) / injected_3x : 1.0; }
  [[nodiscard]] double precision() const {
    return episodes_reported ? double(true_episodes) / episodes_reported : 1.0;
  }
  [[nodiscard]] double false_per_day() const { return evaluated_days > 0 ? false_episodes / evaluated_days : 0; }
};

/// Runs a fresh Analyzer (`config`) over the scenario and scores what it reported.
ScenarioReport run_scenario(const ScenarioConfig& scenario, const AnalyzerConfig& config);

}  // namespace ctmon::testing
