#pragma once
// The one entry point the daemon and `ctmon replay` share: samples in, per-sample anomaly scores
// and episode transitions out.
//
//   Sample --RateTracker--> pps per counter --CounterModel (seasonal, level, robust, CUSUM)-->
//   evidence per counter --+ ShrinkageMahalanobis over all modelled counters (use_multivariate;
//   off in the network profile, see network())--> fused score
//   --EpisodeTracker--> opened / peak_updated / closed, classified (classify.h)
//
// Which counters count (the role of each name):
//
//   name                                      role     model (value, transform, noise floor)
//   <proto>_conntrack_<hook>_new, _invalid    primary  pps, sqrt, Poisson floor
//   <proto>_conntrack_fwd_established         falls    pps, sqrt, Poisson floor; alarms only
//                                                      when every forwarded established counter
//                                                      fell by 45 % at once (an outage:
//                                                      alarm_on_forwarded_falls)
//   <proto>_conntrack_<hook>_established      context  pps, sqrt, Poisson floor
//   probe_*_rtt_median_us, probe_*_jitter_us  primary  value, latency (log(1 + v/5 ms)),
//                                                      floor kLatencyNoiseFloor (RTT) or
//                                                      kJitterNoiseFloor; rises only
//   probe_*_loss                              primary  value, identity, floor kLossNoiseFloor,
//                                                      point alarm kLossPointAlarmSd; rises only
//   probe_*_rtt_min_us, probe_*_rtt_max_us    context  as RTT median
//   conntrack_entries                         context  value, log1p, floor kEntriesNoiseFloor
//   conntrack_stat_drop, _early_drop,         primary  events/s, sqrt, Poisson floor (usually 0:
//     _insert_failed                                   a sustained trickle of drops alarms)
//   conntrack_limit                           ignored  (read only for the table's fill)
//   other conntrack_stat_* and other names    ignored  (invalid: the nftables invalid counters
//                                                      say it with a direction; error,
//                                                      search_restart, clash_resolve,
//                                                      chain_toolong: busy-table noise)
//
// Context counters feed no alarm of their own; they are listed in episodes when they moved.
// Primary ones raise alarms; mean counters (probes, entries) and conntrack_stat_* stay out of
// the multivariate score: it is the joint pattern of the conntrack rates, in z units of one kind
// (Poisson-floored rates); probe z are deliberately deflated by an absolute minimum effect,
// their values come and go with lost probes, and a probe target appearing must not restart the
// covariance of the traffic counters. `score_all_counters` (the gauge profile) makes every
// counter feed the score with the configured model.
//
// A rise this time of day already saw, as a sustained rate, on 2 of the last 7 days neither
// alarms nor accumulates (recurrence.h): a nightly job stops alarming from its third night on,
// while a one-off anomaly, one vote of seven, is still found at the same hour tomorrow. A rise
// votes only once it has lasted 5 minutes (recurrence_pattern_min_s), so the short anomalies of
// other days never add up to a pattern; a job shorter than that keeps alarming.
//
// Pure: no I/O, no clock, no globals. Time comes in with each sample (monotonic for rates and
// durations, wall clock + local offset for time-of-day bins and episode times). Not thread-safe;
// one Analyzer per stream of samples.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/episode.h"
#include "core/sample.h"
#include "detectors/counter_model.h"
#include "detectors/episode_tracker.h"
#include "detectors/multivariate.h"
#include "detectors/rate_tracker.h"
#include "detectors/recurrence.h"

namespace ctmon {

struct AnalyzerConfig {
  RateConfig rates;
  CounterModelConfig counter;
  MultivariateConfig multivariate;
  bool use_multivariate = true;
  /// Wilson-Hilferty z of the Mahalanobis distance at which its evidence reaches 1. High: an
  /// episode the combined pattern raises alone names only weak drivers (2-3 sd each), and on a
  /// household's evening mix those were most of the false episodes at 5 s and 30 s.
  double multivariate_alarm_sd = 10.0;
  /// z-scores entering the multivariate vector are clipped to this, so one counter's huge spike
  /// (already scored on its own) does not dominate the distance.
  double multivariate_clip_sd = 6.0;
  /// The covariance skips unusual samples (an outage must not become the norm), but a pattern
  /// still unusual after this many samples in a row is learned anyway: otherwise a covariance
  /// that was wrong when scoring began would never learn again and alarm forever.
  std::uint32_t multivariate_relearn_samples = 600;
  /// The multivariate score stays silent until its covariance has learned this many samples per
  /// dimension (and multivariate.min_samples): a covariance of ~18 counters from 60 samples (5
  /// minutes at 5 s) is mostly noise, and its first score was a false episode on nearly every
  /// cold start at 5 s and 30 s. The counters' own detectors do not wait for it.
  double multivariate_samples_per_dimension = 20.0;
  EpisodeConfig episodes;
  /// A rise that this time of day saw on k of the last n days cannot alarm (recurrence.h): a
  /// nightly job stops alarming from its third night on.
  bool use_recurrence = false;
  RecurrenceConfig recurrence;
  double recurrence_smoothing_s = 60.0;
  /// A counter's rise becomes a vote of the recurrence memory only once it has lasted this long
  /// (until then its peaks are held, then recorded or forgotten): a nightly job runs for many
  /// minutes every night, while the anomalies of a few minutes on other days must not add up to
  /// "seen on 2 days" and hide today's. The rise ends after recurrence_calm_s without one.
  double recurrence_pattern_min_s = 300.0;
  double recurrence_calm_s = 60.0;
  /// Samples scored before any episode may open (a fresh Analyzer, not one restored from state).
  std::uint32_t warmup_samples = 600;
  /// Samples without alarms after a gap, a backwards time step or a restore.
  std::uint32_t resume_samples = 3;
  /// Every counter feeds the score, whatever its name (gauges, NAB series).
  bool score_all_counters = false;
  /// A series whose values are all non-negative integers is a count (requests, tweets, taxi
  /// rides per interval): its noise grows with its level as a Poisson count's does, so it is
  /// modelled on the square-root scale (Transform::sqrt) instead of the configured one. Judged
  /// on the values seen so far, so nothing looks ahead: the first fractional or negative value
  /// moves the series to the configured transform for good, and its alarms then wait
  /// warmup_samples while it relearns. Conntrack counters are rates and on that scale anyway.
  bool counts_on_sqrt_scale = false;
  /// Forwarded established traffic can raise an alarm by falling: the WAN going away (outage,
  /// heavy loss) is what the owner feels first. The test is the share: every forwarded
  /// established counter that carries traffic must have fallen to at most (1 - min_fall_share)
  /// of its expectation on the same sample (a WAN takes every protocol with it; one protocol
  /// falling alone is a download or a call that ended, and the night-time lull is expected by
  /// the time-of-day baseline). Given that, fall_alarm_sd is the |z| at which the fall reaches
  /// the alarm level: low, since z only has to say "beyond noise" once the share has spoken.
  bool alarm_on_forwarded_falls = false;
  /// One sample opens an episode at once, below the tracker's open_now_score, when its evidence
  /// is at least this and another traffic counter agrees: a second one risen by corroborating_z
  /// or more, or a joint fall of two or more forwarded established counters. Two counters out
  /// together on one sample are rarely noise, and at 30 s sampling a 20-40 s storm or the first
  /// minute of an outage is a single sample: waiting for a second one misses the storm and
  /// opens on an outage a minute late. 0: off (network() sets it from 2 s intervals up; a 1 s
  /// spike still needs its second second).
  double corroborated_open_evidence = 0.0;
  double corroborating_z = 4.0;
  /// 45 %, not half: the shallowest outages fall by 55 %, and a 30 s sample that the fall began
  /// in shows less. Outages opened within 30 s, tuning seeds of the labelled suite: seeds 21-60
  /// .925 -> .952 at 30 s and .942 -> .963 at 5 s, with 73 false episodes in 520 days instead of
  /// 70 at 30 s and as many as before at 5 s; seeds 1-20 .938 -> .981 at 30 s, .967 at 5 s
  /// either way, false episodes unchanged. At 40 % the false ones at 30 s rose by half. Asking
  /// 35 % of each counter and 45 % on average (one protocol can show less of a fall that began
  /// within the sample) opened 2 more of 260 outages within 30 s at 30 s, and cost 3 false
  /// episodes in 120 days at 5 s and 5 in 260 at 30 s (seeds 1-20).
  double min_fall_share = 0.45;
  double fall_alarm_sd = 1.5;
  /// The share is that of the rate over the last this many samples, the current one included:
  /// a WAN that is gone stays gone, while one short sample of a quiet counter (11 pps at 1 s is
  /// 11 packets) or a dip on top of a slow evening decline halves by chance. network() makes it
  /// three samples, or as many as fit in 10 s; 1: the current sample alone.
  std::uint32_t fall_window_samples = 1;
  /// The share is taken of the lower of two usual rates: the time-of-day expectation, and the
  /// rate that flowed before, an EWMA with this memory learned only while nothing has fallen.
  /// One counter falling alone does not stop it: held while that counter stayed 30 % below it,
  /// the end of a download (established back from 1.3-2x) became a fall to measure from, and
  /// false episodes rose from .15 to .25 a day at 1 s and .177 to .200 at 30 s (seeds 1-20).
  /// Held while any one counter has fallen by min_fall_share, the same: .150 -> .250 at 1 s,
  /// .075 -> .100 at 5 s, .177 -> .196 at 30 s (Friday start: .050 -> .100 at 1 s, .150 -> .173
  /// at 30 s), and no outage opened sooner. Held while every forwarded counter had fallen by
  /// half the share (a 57 % outage whose first 30 s sample showed 51 % taught it the outage's
  /// rate and opened nine minutes late): the longest delay at 30 s from a Friday start went
  /// from 540 to 180 s, but as many outages opened within 30 s as before, and false episodes at
  /// 30 s rose from .100 to .162 (Monday) and .088 to .150 (Friday); held at 70 % of the share,
  /// 360 s and .088 -> .100.
  double before_fall_memory_s = 120.0;
  /// Whether the falls role's time-of-day bins, while cold, borrow the other day type's
  /// (SeasonalConfig::borrow_other_day_type). network() says no: on the first Saturday a
  /// small office's weekday spread made a 90 % fall of its weekend traffic look like 0.5 sd.
  bool falls_borrow_other_day_type = true;

  /// Defaults for conntrack counters sampled every `interval_s` seconds: memories given in
  /// seconds/minutes are converted to samples here.
  [[nodiscard]] static AnalyzerConfig network(double interval_s);
  /// Profile for a single gauge-like series that is already a rate, a latency or a temperature
  /// (NAB files): identity transform (square root for counts), relative noise floor,
  /// onset-focused hysteresis.
  [[nodiscard]] static AnalyzerConfig gauge();
};

/// What observe() learned from one sample. Owned by the Analyzer, valid until the next call.
struct StepResult {
  /// Overall anomaly score in [0, 1]; 0 while !scored.
  double score = 0.0;
  /// False during warm-up, while resuming after a gap/restore, and on the first sample.
  bool scored = false;
  /// DetectorBit set at the alarm level on this sample (fusion.h).
  std::uint8_t detectors = 0;
  /// Per-counter scores in [0, 1], indexed by CounterId (0 for counters without a rate).
  std::vector<double> counter_scores;
  /// The rates this sample produced (pps, or the gauge values), indexed by CounterId.
  std::vector<double> counter_pps;
  /// What happened to the current episode; `episode` points at it when change != none.
  EpisodeChange change = EpisodeChange::none;
  const Episode* episode = nullptr;
};

/// Outcome of restore(): ok, or why the bytes were refused (the Analyzer is then unchanged).
struct RestoreStatus {
  bool ok = true;
  std::string error;
};

class Analyzer {
 public:
  explicit Analyzer(const AnalyzerConfig& config);

  /// Scores one sample of cumulative counters. `catalog` names sample.counters' ids and may have
  /// grown since the last call; `local_offset_s` is added to the wall clock to get local time
  /// (time-of-day bins). Returns the result, owned by the Analyzer until the next observe call.
  const StepResult& observe(const Sample& sample, const CounterCatalog& catalog, std::int64_t local_offset_s);

  /// Scores one sample of values that already are rates or gauges (NaN = absent), indexed by
  /// CounterId of `catalog`. Same result contract as observe().
  const StepResult& observe_values(std::int64_t mono_ns, std::int64_t wall_ns, std::span<const double> values,
                                   const CounterCatalog& catalog, std::int64_t local_offset_s);

  /// The open episode, if any (owned by the Analyzer).
  [[nodiscard]] const Episode* open_episode() const;

  /// Whether series `id` is modelled as a count, on the square-root scale
  /// (AnalyzerConfig::counts_on_sqrt_scale). False for a series not modelled (yet).
  [[nodiscard]] bool modelled_as_count(CounterId id) const;

  /// After a restart that fed these detectors the samples of a run that crashed: that run's
  /// record of its open episode wins over theirs, since the first of those samples was only a
  /// rate reference for them. `recorded_start_wall_ns`: the open episode starts there and goes
  /// on; nullopt (the run had none open): the open episode is forgotten, never reported.
  void settle_open_episode(std::optional<std::int64_t> recorded_start_wall_ns);

  /// Serialises everything learned (baselines, windows, covariance, warm-up progress, the open
  /// episode) into a versioned byte string for the store to keep.
  [[nodiscard]] std::string save_state() const;

  /// Replaces the learned state with one produced by save_state(). Refuses (ok == false, a
  /// one-line reason, the Analyzer unchanged) bytes of another format version, of a configuration
  /// with a different shape (bins, windows, transform), or that are truncated or corrupt.
  /// No warm-up follows a restore: the next sample is only a new rate reference (the downtime
  /// and the catalog's ids are unknown) and the resume_samples after it cannot alarm. Counters
  /// are matched by name, whatever ids the new catalog gives them.
  RestoreStatus restore_state(std::string_view bytes);

  /// Samples observed so far (survives save/restore).
  [[nodiscard]] std::uint64_t samples_seen() const { return samples_seen_; }
  /// Samples still to observe before an episode may open (0: detecting). Counts warm-up only:
  /// the few resume samples after a gap are too short to be worth telling anyone about.
  [[nodiscard]] std::uint64_t warmup_samples_left() const {
    return samples_seen_ > config_.warmup_samples ? 0 : config_.warmup_samples + 1 - samples_seen_;
  }
  [[nodiscard]] const AnalyzerConfig& config() const { return config_; }

  /// Format version written by save_state(); bumped whenever the layout changes.
  /// 2: episodes carry the rate-based end and multivariate drivers (episode_tracker.h).
  /// 3: episodes carry `where`, the health evidence and when each counter first moved; slots
  /// carry their recurrence memory (recurrence.h), the falls role, probe and conntrack counters.
  static constexpr std::uint32_t kStateVersion = 3;

  /// Noise floor of RTT on the latency transform (y units). The smallest sustained change that
  /// can alarm is the CUSUM slack (1.5 sd): 0.15 in y, from a LAN's ~0 ms about 0.8 ms, from
  /// 10 ms about 2.4 ms; one interval alarms alone at 6 sd: 0.6 in y, 0 -> 4 ms, 10 -> 22 ms.
  /// So a LAN RTT from 0.05 to 0.1 ms (0.01 in y) never alarms.
  static constexpr double kLatencyNoiseFloor = 0.1;
  /// Noise floor of jitter on the latency transform. Jitter per interval is heavy-tailed: with
  /// a few probes per interval one reply 30 ms late (a home WAN has those every minute) makes
  /// the interval's jitter 10x the usual, and the next one's too (the chain crosses intervals).
  /// At 0.25 such a spike (1.3 in y from 2 ms) stays below a point alarm, and only a sustained
  /// jitter above about 2.3 ms more than usual can alarm, while a WAN RTT of 10 ms jumping to
  /// 10-150 ms (jitter 0.7 -> 47 ms, 2.2 in y) is 9 sd on its first interval.
  static constexpr double kJitterNoiseFloor = 0.25;
  /// Noise floor of the loss fraction: a sustained loss below 1.5 x 5 % = 7.5 % never alarms (a
  /// home WAN loses the odd probe).
  static constexpr double kLossNoiseFloor = 0.05;
  /// One interval's loss alone alarms at kLossPointAlarmSd x 5 % = 40 %: with three probes per
  /// interval (1 s sampling) one lost probe is 33 %, which must not open an episode in two
  /// intervals; a loss of 30 % builds up in the CUSUM within about ten intervals at 1 s, five at
  /// 5 s or 30 s.
  static constexpr double kLossPointAlarmSd = 8.0;
  /// Noise floor of conntrack_entries on log1p: 5 % (context only: listed, never alarms).
  static constexpr double kEntriesNoiseFloor = 0.05;

 private:
  /// The rate over the last `capacity` samples: packets and seconds summed, so a short sample
  /// weighs what it covers. Not saved with the state: it refills within its window.
  class WindowedRate {
   public:
    explicit WindowedRate(std::uint32_t capacity)
        : packets_(std::max<std::uint32_t>(capacity, 1), 0.0), seconds_(packets_.size(), 0.0) {}
    double add(double pps, double dt_s);  ///< the rate over the window, this sample included
    void clear();

   private:
    std::vector<double> packets_, seconds_;
    std::size_t next_ = 0;
    double packet_sum_ = 0.0, second_sum_ = 0.0;
  };
  /// primary: rises alarm; context: modelled, never alarms alone; falls: only falls alarm.
  enum class Role : std::uint8_t { ignored, context, primary, falls };
  /// What a slot's counter tells `where` and the measured kind (derived from its name).
  enum class Measurement : std::uint8_t { none, wan_probe, lan_probe, conntrack_drop, conntrack_other };
  /// The scale a slot's model works on: the configured transform, or counts on the square-root
  /// scale (AnalyzerConfig::counts_on_sqrt_scale); undecided until its first value.
  enum class Scale : std::uint8_t { configured, undecided, counts };
  struct Slot {
    std::string name;
    Role role;
    CounterModel model;
    RecurrenceMemory recurrence;
    double sustained_pps = 0.0;  // what recurrence remembers (AnalyzerConfig::recurrence_smoothing_s)
    WindowedRate recent{1};      // falls role: the rate over AnalyzerConfig::fall_window_samples
    double before_fall_pps = 0;  // falls role: AnalyzerConfig::before_fall_memory_s; 0: not yet
    std::int64_t rise_since_ns = -1;  // primary: the rise the recurrence memory holds; -1: none
    std::int64_t calm_since_ns = -1;  // within that rise: quiet since; -1: rising now
    Measurement measurement = Measurement::none;
    Scale scale = Scale::configured;  // AnalyzerConfig::counts_on_sqrt_scale
    std::uint32_t relearn_left = 0;   // samples before a slot that changed scale may alarm again
    bool mean = false;             // a mean counter: rises only when primary
    bool multivariate = true;      // feeds the multivariate score
  };

  void sync_slots(const CounterCatalog& catalog);
  [[nodiscard]] Role role_of(std::string_view name) const;
  [[nodiscard]] CounterModelConfig model_config(Role role, std::string_view name) const;
  [[nodiscard]] Slot make_slot(std::string name, Role role) const;
  /// Moves `slot` to the scale `value` calls for (AnalyzerConfig::counts_on_sqrt_scale).
  void choose_scale(Slot& slot, double value) const;
  /// Gives `slot` a fresh model for `scale`.
  void set_scale(Slot& slot, Scale scale) const;
  void note_health(const Slot& slot, double score, double z);
  void rebuild_multivariate();
  void add_multivariate_drivers();
  /// Feeds the slot's recurrence memory its sustained rate, holding a rise until it has lasted
  /// AnalyzerConfig::recurrence_pattern_min_s.
  void remember_rate(Slot& slot, bool rising, std::int64_t mono_ns, std::int64_t local_s) const;
  /// Local time for the recurrence memory: the wall clock's, unless it reads more than a day
  /// earlier than the last believed clock carried forward by the monotonic one (a clock stepped
  /// years back by a bad time source while the daemon runs). Then "the same time as on the last
  /// nights" is still known from the monotonic clock, and a nightly job that runs meanwhile must
  /// not look new. Smaller steps back (an operator's correction) are believed. After a restart the
  /// monotonic clock may have started over, so the first wall clock is believed.
  std::int64_t recurrence_time_of_day(std::int64_t local_s, std::int64_t mono_ns);
  /// Traffic counters (not mean counters) this sample put corroborating_z or more above usual.
  [[nodiscard]] int rising_counters() const;
  const StepResult& score_frame(const RateFrame& frame, std::int64_t mono_ns, std::int64_t wall_ns,
                                const CounterCatalog& catalog, std::int64_t local_offset_s);
  [[nodiscard]] std::uint64_t shape_fingerprint() const;
  bool load(std::string_view bytes, std::string& error);

  AnalyzerConfig config_;
  RateTracker rates_;
  std::vector<Slot> slots_;
  std::vector<std::int32_t> slot_of_id_;   // -1: not modelled
  std::vector<std::uint8_t> mean_of_id_;   // 1: a mean counter (core/measurement.h)
  bool any_mean_ = false;                  // else the rate tracker takes its plain path
  std::int32_t entries_id_ = -1;           // conntrack_entries, conntrack_limit: the fill
  std::int32_t limit_id_ = -1;
  std::vector<CounterId> conntrack_ids_;   // every conntrack_entries/_limit/_stat_* counter
  EpisodeHealth sample_health_;            // this sample's measurements, for the tracker
  std::vector<std::uint32_t> mv_slots_;    // slots feeding the multivariate score
  std::unique_ptr<ShrinkageMahalanobis> multivariate_;
  std::vector<double> mv_z_;
  std::vector<double> slot_z_;
  std::uint32_t mv_unusual_run_ = 0;  // consecutive samples the covariance did not learn
  std::vector<std::uint8_t> slot_valid_;
  EpisodeTracker tracker_;
  std::vector<CounterObservation> observations_;
  std::vector<CounterObservation> slot_seen_;  // this sample's observation of each slot
  struct FallCandidate {
    std::size_t id;
    std::int32_t s;
    CounterStep step;
    double recent_pps;  // over fall_window_samples
  };
  std::vector<FallCandidate> falls_;  // this sample's Role::falls steps, judged together
  std::uint64_t samples_seen_ = 0;
  bool have_wall_ = false;  // wall/mono of the previous sample, to notice wall-clock jumps
  std::int64_t previous_wall_ns_ = 0;
  std::int64_t previous_mono_ns_ = 0;
  /// Local time minus monotonic time at the last sample whose wall clock was believed
  /// (recurrence_time_of_day()). Not saved: after a restart the first clock is believed.
  std::optional<std::int64_t> believed_local_minus_mono_ns_;
  std::uint32_t resume_left_ = 0;
  StepResult result_;
};

}  // namespace ctmon
