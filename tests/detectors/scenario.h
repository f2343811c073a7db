#pragma once
// A labelled synthetic home router: 18 conntrack counters with diurnal and weekly load, a shared
// load factor (so counters correlate as real ones do), over-dispersed Poisson noise, benign
// bursts, nightly jobs, counter resets, sampling gaps, wall-clock jumps, and injected episodes
// of every kind at 2x..20x. Fixed seeds make every run identical on every platform (own RNG, no
// <random> distributions, whose output is implementation-defined).
//
// The default ScenarioConfig is the "classic" scenario the detectors were first measured on; its
// samples do not change when features are added (new features draw from a second RNG stream and
// are off by default), so old figures stay comparable. `suite(seed, ...)` draws a household
// profile and the harder features (outages, loss, slow attacks, short storms, same-hour repeats,
// nightly jobs that wander and skip nights) per seed.
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

/// Whose router: base rates per counter group and the shape of the day and of the week.
enum class Profile {
  classic,       ///< the original busy home: evening peak, a little more at midday on weekends
  single,        ///< one person: small rates, late evening, little during weekdays
  family,        ///< large rates, afternoon and evening, busy weekends
  home_office,   ///< weekday working hours dominate, quieter evenings and weekends
  small_office,  ///< large weekday office hours, nearly idle nights and weekends
};
[[nodiscard]] const char* to_string(Profile p);

struct ScenarioConfig {
  std::uint64_t seed = 1;
  Profile profile = Profile::classic;
  double interval_s = 1.0;
  int days = 7;
  std::int64_t start_wall_s = 1717372800;  ///< Monday 2024-06-03 00:00 UTC
  std::int64_t local_offset_s = 0;         ///< local time = UTC + this (generator and Analyzer)
  int first_episode_day = 1;               ///< day 0 is for learning: no injected episodes
  double episodes_per_day = 6;
  double min_intensity = 2.0;
  double max_intensity = 20.0;
  bool nightly_job = true;                ///< the backup at 03:00 local (+ jitter), every night
  double nightly_start_jitter_s = 120;    ///< its start varies uniformly by up to this much
  double nightly_skip_probability = 0;    ///< a night it does not run
  bool second_nightly_job = false;        ///< a photo/cloud sync around 01:30, UDP-heavy, some nights
  double resets_per_day = 1;
  double gaps_per_day = 1;
  double clock_jumps_per_day = 1;
  double short_bursts_per_day = 40;  ///< benign 1-3 sample spikes of new connections
  double downloads_per_day = 6;      ///< benign 10-30 min rises of established traffic
  // Harder injected kinds (0 = none; the classic scenario has none).
  double outages_per_day = 0;        ///< WAN outage: fwd established falls 55-93 % for 2-10 min, reconnect storm
  double losses_per_day = 0;         ///< WAN loss: fwd new rises 1.3-1.6x for 30-60 s, established unchanged
  double slow_attacks_per_day = 0;   ///< slow scan or slow invalid burst: 5-10x of a small rate for 6-7 min
  double short_storms_per_day = 0;   ///< UDP storm of 15-55 s at 3x..20x
  int same_hour_repeats = 0;         ///< pairs: one anomaly, then the same at the same time the next day
};

/// A mixed scenario for seed `seed`: profile, local time zone, nightly jobs (wandering by tens of
/// minutes, skipping some nights) and every injected kind, drawn from the seed alone.
[[nodiscard]] ScenarioConfig suite(std::uint64_t seed, double interval_s, int days);

/// What was injected (the generator's own name); the detectors are judged on `expected` kind.
enum class Injection {
  wan_drop, invalid_burst, scan, udp_storm, conntrack_full,  // the classic kinds, 20 s..5 min
  wan_outage, wan_loss, slow_scan, slow_invalid_burst, short_udp_storm,
};
inline constexpr int kInjectionKinds = 10;
[[nodiscard]] const char* to_string(Injection i);

struct InjectedEpisode {
  EpisodeKind kind = EpisodeKind::unknown;  ///< the kind a detector should report
  double intensity = 1.0;                   ///< factor of the main effect (outage: 1 / (1 - share))
  std::int64_t start_mono_ns = 0;
  std::int64_t end_mono_ns = 0;             ///< includes an outage's reconnect storm
  Injection injection = Injection::wan_drop;
  double outage_share = 0;                  ///< wan_outage: the share of fwd established that is lost
  std::int64_t fall_end_mono_ns = 0;        ///< wan_outage: the end of the fall (reconnect storm after)
  int repeat_pair = -1;                     ///< same-hour repeats: both of a pair share this number
  int repeat_index = 0;                     ///< 0 the first day, 1 the next day at the same time
};

enum class MarkerKind { nightly_job, reset, gap, clock_jump };
struct Marker {
  MarkerKind kind;
  int day = 0;  ///< nightly job: the night (0 = the first night)
  std::int64_t start_ns = 0;  ///< monotonic
  std::int64_t end_ns = 0;
  bool irregular_job = false;  ///< nightly job: the sync that runs only some nights, not the backup
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
  void plan_extra(std::vector<std::pair<double, double>>& busy);
  [[nodiscard]] double base_rate(CounterId c, double true_s) const;
  [[nodiscard]] double midnight_s(int day) const;  ///< local midnight of day `day`, scenario seconds

  ScenarioConfig config_;
  CounterCatalog catalog_;
  std::vector<double> level_pps_;
  std::vector<InjectedEpisode> episodes_;
  std::vector<Marker> markers_;
  std::vector<Bump> bumps_;
  Rng rng_;
  Rng extra_;  ///< planning of the newer features, so the classic draws stay as they were
  std::int64_t step_ = 0;
  std::int64_t steps_total_ = 0;
  std::vector<std::uint64_t> totals_;
  double shared_slow_ = 0.0;
  double shared_fast_ = 0.0;
};

/// Found / injected for one kind of injection, and how often the reported kind was the expected one.
struct KindFigures {
  int injected = 0, found = 0, kind_right = 0;
};

/// What the detectors did on a scenario, judged against its labels. An injection is found when a
/// reported episode overlaps it (up to 2 min after its end). Counts add up over scenarios with +=.
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
  std::vector<std::string> missed_descriptions;  ///< "day 2 10:00:05 wan_outage 4.1x 300s"
  std::vector<std::string> short_descriptions;   ///< faults <= 60 s: fault and episode length
  std::vector<std::string> wrong_kind_descriptions;  ///< found with another kind: the fault and the summary
  std::vector<std::string> late_outage_descriptions;  ///< WAN outages opened more than 30 s after the fall

  KindFigures by_injection[kInjectionKinds];      ///< indexed by Injection
  KindFigures by_expected[6];                     ///< indexed by EpisodeKind, over found injections
  std::vector<double> outage_open_delay_s;        ///< per found outage: open - fall start
  std::vector<int> nightly_alarms_by_night;       ///< false episodes opened at the backup, per night
  /// False episodes at the backup from its fourth run on: a night it skipped is no run, so this
  /// is "after it has recurred three times", where the calendar row also counts a job that ran
  /// on only one or two of the nights before.
  int nightly_alarms_after_run3 = 0;
  int irregular_job_alarms_after_night3 = 0;      ///< false episodes at the some-nights sync job
  int repeats = 0, repeats_found = 0;             ///< second of a same-hour pair / found
  int short_faults = 0;                           ///< injections of at most 60 s, found
  std::vector<double> short_length_error_intervals;  ///< |episode length - fault length| of those

  ScenarioReport& operator+=(const ScenarioReport& o);

  [[nodiscard]] double recall_3x() const { return injected_3x ? double(detected_3x) / injected_3x : 1.0; }
  [[nodiscard]] double precision() const {
    return episodes_reported ? double(true_episodes) / episodes_reported : 1.0;
  }
  [[nodiscard]] double false_per_day() const { return evaluated_days > 0 ? false_episodes / evaluated_days : 0; }
};

/// Runs a fresh Analyzer (`config`) over the scenario and scores what it reported.
ScenarioReport run_scenario(const ScenarioConfig& scenario, const AnalyzerConfig& config);

}  // namespace ctmon::testing
