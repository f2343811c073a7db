#pragma once
// Spike-gated forwarding: what of the sample stream goes to InfluxDB, and when.
//
// On a quiet day nothing is sent (optionally a heartbeat rollup). When an episode opens:
//   1. an event marker (`ctmon_event`, at the episode's start);
//   2. the pre-window: the moving counters' rates over `pre_window_ms` before the start,
//      downsampled into `bucket_ms` buckets (fields pps = mean rate, packets = packets counted);
//   3. the episode itself at full sampling resolution, one point per sample, until it closes;
//   4. at close, the marker again with the same measurement, tag set and timestamp (so InfluxDB
//      merges the fields) plus `time_end`, then the post-window, downsampled like the pre-window.
// Counters that join the episode later get the same backfill when they join.
//
// Point identity: every rate point is stamped with the time of the first sample it covers, so no
// two points of a series share a timestamp (a shared one would overwrite in InfluxDB) and
// re-planning the same samples gives the same points (re-sending is harmless). A series never
// gets the same sample twice: each counter remembers up to which sample it was sent.
//
// Memory: a RAM ring of the last `pre_window_ms + bucket_ms` of samples, at most
// `max_ring_samples` entries of 32 bytes per counter: 180 entries x 18 counters = 104 KB at the
// default 5 s interval; 1800 x 18 x 32 = 1 MB at the cap (0.5 s sampling).
//
// ForwardPlanner is pure (no I/O, no clock): samples in, lines out. Forwarder adds the durable
// outbox: lines are committed there before anything is sent.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/episode.h"
#include "core/sample.h"
#include "detectors/analyzer.h"
#include "monitor/influx/log_sink.h"
#include "monitor/io/condition_log.h"
#include "monitor/store/outbox.h"

namespace ctmon::influx {

inline constexpr std::string_view kRateMeasurement = "ctmon_rate";
inline constexpr std::string_view kEventMeasurement = "ctmon_event";
/// Probes and the conntrack table's health (docs/measurements.md): a value in its unit, not a rate.
inline constexpr std::string_view kValueMeasurement = "ctmon_value";
inline constexpr std::string_view kHeartbeatMeasurement = "ctmon_heartbeat";
inline constexpr std::string_view kCollectdMeasurement = "nftables";

struct ForwarderConfig {
  std::string host;                       ///< tag `host` of every point; must not be empty
  std::int64_t pre_window_ms = 15 * 60 * 1000;
  std::int64_t post_window_ms = 5 * 60 * 1000;
  std::int64_t bucket_ms = 10 * 1000;     ///< downsampling bucket of the pre/post windows
  /// 0 = off. Otherwise one `ctmon_heartbeat` point per counter per period (mean pps, packets),
  /// e.g. 3600000: 18 counters x 24 = 432 points/day, 0.8% of the 30 s collectd setup.
  std::int64_t heartbeat_ms = 0;
  /// Also write `nftables,host=,instance=,type=packets,type_instance=<counter> value=<cumulative
  /// packets as float>` beside every forwarded rate point and heartbeat, as Telegraf's collectd
  /// parser names the seed setup's series, so an existing dashboard keeps working.
  bool collectd_compat = false;
  std::string collectd_instance = "conntrack_stats";
  std::size_t max_ring_samples = 1800;
};

/// Pure planning. Not thread-safe.
class ForwardPlanner {
 public:
  explicit ForwardPlanner(ForwarderConfig config);

  /// Takes one sample and what the analyzer made of it; appends the lines now due to `out`
  /// (markers as OutboxClass::kMarker, everything else kSeries).
  void step(const Sample& sample, const StepResult& step, const CounterCatalog& catalog,
            std::vector<store::OutboxLine>& out);

  /// After a restart with an episode still open (the analyzer restored it): streams it on from
  /// the next sample, as if it had just opened (without rewriting the open marker).
  void resume(const Episode& open_episode);

  /// For an episode a crash left open and the store closed after the restart: appends the
  /// marker's close, the same point (measurement, tags, start time) with only `state` and
  /// `time_end`, which InfluxDB merges into the marker sent at the open.
  void close_marker(const Episode& closed, std::vector<store::OutboxLine>& out) const;

  /// Appends what is planned but waits for more samples (the post-window's last buckets, the
  /// heartbeat's partial period is NOT included: it would be a misleading mean). For shutdown.
  void finish(std::vector<store::OutboxLine>& out);

  [[nodiscard]] std::size_t ring_samples() const { return ring_.size(); }
  [[nodiscard]] const ForwarderConfig& config() const { return config_; }

 private:
  struct Cell {
    double pps = 0;              // NaN: no rate at this sample
    std::uint64_t packets = 0;   // counted since the previous sample
    std::uint64_t cumulative = 0;
    bool present = false;
  };
  struct Entry {
    std::int64_t wall_ns = 0;
    std::vector<Cell> cells;  // by CounterId
  };
  enum class Phase { kIdle, kOpen, kPost };

  void push(const Sample& sample, const StepResult& step);
  void track(const Episode& episode, const CounterCatalog& catalog, std::vector<store::OutboxLine>& out,
             bool backfill);
  void backfill(CounterId id, std::int64_t start_ns, std::vector<store::OutboxLine>& out);
  void emit_full(CounterId id, const Entry& entry, std::vector<store::OutboxLine>& out);
  void emit_buckets(CounterId id, std::int64_t from_ns, std::int64_t before_ns, std::vector<store::OutboxLine>& out);
  void emit_rate(std::string_view measurement, CounterId id, std::int64_t time_ns, double pps,
                 std::uint64_t packets, std::optional<std::pair<std::int64_t, std::uint64_t>> cumulative,
                 std::vector<store::OutboxLine>& out);
  void emit_marker(const Episode& episode, std::vector<store::OutboxLine>& out);
  void heartbeat(const Entry& entry, std::vector<store::OutboxLine>& out);
  [[nodiscard]] std::int64_t& sent_until(CounterId id);

  ForwarderConfig config_;
  std::vector<std::string> names_;  // catalog names by id, as of the last sample
  std::deque<Entry> ring_;
  std::vector<std::uint64_t> previous_;       // cumulative packets of the previous sample
  std::vector<bool> previous_present_;
  Phase phase_ = Phase::kIdle;
  std::vector<CounterId> tracked_;
  std::vector<std::int64_t> sent_until_ns_;  // last sample sent per counter (inclusive)
  std::int64_t post_until_ns_ = 0;
  // Heartbeat accumulators.
  std::int64_t heartbeat_period_ = 0;  // period index of the samples being accumulated
  bool heartbeat_started_ = false;
  std::vector<double> hb_pps_sum_;
  std::vector<std::uint32_t> hb_pps_n_;
  std::vector<std::uint64_t> hb_packets_;
  std::vector<Cell> hb_last_;
  std::int64_t hb_last_ns_ = 0;
};

/// The planner plus the durable outbox. Lines are committed to the outbox at once when they
/// include a marker, otherwise at most every `enqueue_interval_ns` of monotonic time (30 s: one
/// SQLite commit per sample during an episode would cost flash for nothing), and by flush(),
/// which the daemon calls whenever the store commits samples (InfluxOutput): so every point of
/// a stored sample is in the outbox too. What a crash (kill -9, power cut) loses: the points of
/// the samples it loses (those not yet committed, at most one commit interval), and, after an
/// episode closed, the rest of its post-window (the planner's RAM ring, rebuilt from new samples
/// only). The open marker of an episode the crash left open is closed by the next start
/// (close_marker).
/// When SQLite refuses (disk full, locked), lines wait in RAM (at most kMaxPendingLines; the
/// oldest series lines go first, as in the outbox) and are retried on the next step.
class Forwarder {
 public:
  static constexpr std::size_t kMaxPendingLines = 50'000;
  static constexpr std::int64_t kDefaultEnqueueInterval_ns = 30'000'000'000;

  /// `outbox` must outlive the forwarder; `log` may be empty.
  Forwarder(store::Outbox& outbox, ForwarderConfig config, LogSink log,
            std::int64_t enqueue_interval_ns = kDefaultEnqueueInterval_ns);

  /// Plans `sample` and commits what is due. Never throws for storage failures.
  void step(const Sample& sample, const StepResult& step, const CounterCatalog& catalog,
            std::int64_t now_mono_ns, std::int64_t now_wall_ns);

  /// See ForwardPlanner::resume.
  void resume(const Episode& open_episode) { planner_.resume(open_episode); }

  /// See ForwardPlanner::close_marker; committed to the outbox at once, like every marker.
  void close_marker(const Episode& closed, std::int64_t now_wall_ns) {
    planner_.close_marker(closed, pending_);
    flush(now_wall_ns, false);
  }

  /// Commits everything planned (including the post-window's partial buckets when `final`).
  /// Returns false when lines could not be committed (they stay in RAM, lost at exit).
  bool flush(std::int64_t now_wall_ns, bool final);

  /// Lines planned and not yet committed to the outbox.
  [[nodiscard]] std::size_t pending() const { return pending_.size(); }
  /// Lines committed to the outbox so far (by this object), and evicted by its bound.
  [[nodiscard]] std::uint64_t enqueued() const { return enqueued_; }
  [[nodiscard]] std::uint64_t evicted() const { return evicted_; }

 private:
  store::Outbox& outbox_;
  ForwardPlanner planner_;
  LogSink log_;
  std::int64_t enqueue_interval_ns_;
  std::vector<store::OutboxLine> pending_;
  std::optional<std::int64_t> oldest_pending_mono_ns_;  // when the oldest pending line was planned
  ConditionLog<> queue_failure_;
  std::uint64_t enqueued_ = 0;
  std::uint64_t evicted_ = 0;
};

}  // namespace ctmon::influx
