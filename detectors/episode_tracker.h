#pragma once
// Turns a stream of per-sample anomaly scores into episodes with hysteresis:
//
//   idle -> pending   score >= open_score
//   pending -> open   open_samples samples >= open_score, with no sample below close_score in
//                     between, spanning at least min_duration_s (the first of them is the
//                     episode's start); unexplained_extra_samples more where one counter
//                     moved alone and the kind rules cannot say what it is (classify.h,
//                     rules_explain)
//   pending -> idle   a sample below close_score
//   open -> closed    close_samples consecutive samples below close_score AND merge_gap_s since
//                     the last sample at or above close_score; a burst inside that quiet stretch
//                     (a sample >= open_score) merges into the same episode. A weaker sample
//                     there counts as quiet: one late probe 25 s after a fault is not the fault
//                     going on, and would have stretched its end by as much.
//
// start = the first sample of the run that opened it, or earlier where a moved counter able to
// alarm had its CUSUM alarm before the episode opened: its change point (cusum.h), at most
// max_backdate_s back and never into the previous episode. A shift of 3-4x at 1 s crosses the
// CUSUM's alarm 6-12 samples after it began. end = the last sample in which a counter listed as
// moved and able to alarm (not CounterObservation::context) was still anomalous in its own rate
// (level z at least still_anomalous_z in the direction it moved), or where its CUSUM peaked if
// that is later, but not past its last sample at least half as far out as its peak rate: a weak
// shift's single samples rarely reach 4 sd, while its CUSUM grows until the shift ends; and a
// burst's small tail would feed the CUSUM for as long as it lasts.
// Not "the last sample at or above close_score": after a burst the CUSUM keeps the score up for
// as long again (it drains by its slack per sample), so a 40 s burst would end 45 s late.
// Episodes with no such sample (multivariate-only, whose drivers can be unusual together
// without one being far out) keep the last sample at or above close_score.
// Evidence per counter (peak rate, usual rate) is defined in core/episode.h (MovedCounter).
//
// Durations add up positive monotonic steps only, so neither a wall-clock jump nor a replay file
// stepping back can hold an episode open or close it early; start/end/peak are wall-clock.
// Samples marked ineligible (warm-up, resuming after a gap) count as quiet and never open one.
// The tracker is pure bookkeeping: scores and counter details come in, transitions go out. It
// asks the kind rules (classify.h) one thing only: whether a pending episode can be named yet.

#include <cstdint>
#include <vector>

#include "core/episode.h"
#include "detectors/state_codec.h"

namespace ctmon {

struct EpisodeConfig {
  double open_score = 0.5;
  double close_score = 0.2;
  std::uint32_t open_samples = 2;
  /// A single sample at or above this score opens at once, without waiting for open_samples:
  /// at 30 s sampling a 40 s storm is one or two samples, and waiting for a second one misses
  /// it or opens a minute late. Above 1: never (scores stay below 1).
  double open_now_score = 2.0;
  /// An episode of one counter that the kind rules cannot explain (classify.h, rules_explain)
  /// opens only after this many samples more than open_samples at or above open_score, however
  /// high its score: a lone rise of new connections for a sample or two is a page load, not
  /// trouble worth an episode. One the rules can name, or with a second counter moving (the
  /// corroboration AnalyzerConfig::corroborated_open_evidence asks for), opens as before.
  std::uint32_t unexplained_extra_samples = 0;
  std::uint32_t close_samples = 10;
  double merge_gap_s = 60.0;
  double min_duration_s = 0.0;
  /// A counter whose score reaches this during an episode is listed as having moved.
  double moved_score = 0.5;
  /// A moved counter is still anomalous (it extends the episode's end) while its level z is at
  /// least this in the direction it moved. 4 sd: Poisson noise passes it about once in 30000
  /// samples, so a quiet tail does not stretch the end, and a burst at twice the usual rate of a
  /// 20 pps counter (z about 4.5 at 1 s) still counts.
  double still_anomalous_z = 4.0;
  /// How far before the sample that began the run a CUSUM's change point may move the start.
  double max_backdate_s = 900.0;
  /// Episodes list at most this many counters, strongest first.
  std::uint32_t max_counters = 6;
  /// A peak update is reported only when the peak grew by at least this much.
  double peak_report_step = 0.02;
};

/// What happened to the current episode on this sample.
enum class EpisodeChange : std::uint8_t { none, opened, peak_updated, closed };

/// One counter's state on this sample, as the tracker needs it to describe an episode.
struct CounterObservation {
  CounterId id = 0;
  double pps = 0.0;
  double baseline_pps = 0.0;
  double score = 0.0;
  double z = 0.0;
  /// When the counter's CUSUM alarmed: the wall time its run began and peaked (cusum.h); 0 else.
  std::int64_t shift_start_wall_ns = 0;
  std::int64_t shift_peak_wall_ns = 0;
  /// Listed for its share of the multivariate score, not its own (core/episode.h).
  bool multivariate_driver = false;
  /// Context only (a probe's RTT min or max, established traffic on the router's own hooks): it
  /// is listed when it moved, but it cannot alarm, so it says neither when the episode starts
  /// nor when it ends. One slow probe reply 30 s after a burst raised the WAN RTT max far out
  /// while the burst's CUSUM still drained, and that sample became the end; the router's
  /// answers to a scan stopping with it started a CUSUM run on their fall, and a WAN loss a
  /// minute later was dated from the scan's end.
  bool context = false;
};

class EpisodeTracker {
 public:
  explicit EpisodeTracker(const EpisodeConfig& config) : config_(config) {}

  /// Feeds one sample. `counters` lists the counters worth recording this sample (any order):
  /// those at or above moved_score or flagged multivariate_driver become moved counters, and
  /// any listed one tells whether an already moved counter is still anomalous (so pass those
  /// with |z| >= still_anomalous_z too). `names` maps CounterId to name (the
  /// catalog's). `health` is what this sample's probe and conntrack measurements showed; the
  /// episode's health gathers it over the samples it records (any flag set in one of them, the
  /// fullest table). `open_at_once`: the caller judged this sample alone enough to open (it
  /// must still reach open_score). Returns what happened to the episode; episode() then holds
  /// its state.
  EpisodeChange observe(std::int64_t mono_ns, std::int64_t wall_ns, double score, bool eligible,
                        std::uint8_t detectors,
                        const std::vector<CounterObservation>& counters,
                        const std::vector<std::string>& names, const EpisodeHealth& health = {},
                        bool open_at_once = false);

  /// The open episode, or the one that just closed (until the next sample). Mutable so the
  /// caller can classify it in place.
  [[nodiscard]] Episode& episode() { return episode_; }
  [[nodiscard]] const Episode& episode() const { return episode_; }
  [[nodiscard]] bool is_open() const { return state_ == State::open; }

  /// For an episode someone else recorded as open since `start_wall_ns` (a crashed run, whose
  /// samples these detectors were fed again): the open episode starts there and goes on.
  void adopt_start(std::int64_t start_wall_ns);
  /// For when that record has no episode open: the open one is forgotten, never reported.
  void forget_open();

  void save(ByteWriter& out) const;
  void load(ByteReader& in);

 private:
  enum class State : std::uint8_t { idle, pending, open };
  void record(std::int64_t wall_ns, double score, std::uint8_t detectors,
              const std::vector<CounterObservation>& counters, const std::vector<std::string>& names,
              const EpisodeHealth& health);
  /// Moves the pending episode's start to the change point of a CUSUM that alarmed.
  void backdate_start(std::int64_t wall_ns, const std::vector<CounterObservation>& counters);

  EpisodeConfig config_;
  State state_ = State::idle;
  std::uint32_t run_ = 0;          // pending: samples >= open_score; open: quiet samples
  double run_s_ = 0.0;             // pending: time since the run started; open: quiet time
  std::int64_t previous_mono_ns_ = 0;
  bool have_previous_ = false;
  std::uint64_t next_id_ = 1;
  Episode episode_;
  Episode pending_;                // evidence gathered while pending, becomes episode_ on open
  std::int64_t rate_end_wall_ns_ = 0;    // last sample a moved counter was still anomalous; 0: none
  std::int64_t active_end_wall_ns_ = 0;  // last sample at or above close_score
  std::int64_t last_end_wall_ns_ = 0;    // the end of the last episode closed (not saved)
  // Per moved counter, its last sample at least half as far out as its peak (not saved: after a
  // restore the CUSUM's peak no longer moves the end).
  std::vector<std::pair<CounterId, std::int64_t>> half_peak_end_;
};

}  // namespace ctmon
