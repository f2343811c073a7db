#pragma once
// What happens to every sample, in the daemon and in `ctmon replay --db` alike:
//   detectors (Analyzer) -> the sample ring (SampleWriter) -> episodes into the events table.
// Episodes are written the moment they open and close, together with the samples buffered so
// far (a power cut never loses an episode nor the samples that show it); everything else is
// committed every commit interval. The detectors' learned state is saved at shutdown, when an
// episode closes, and hourly, and restored at start, so a restart needs no new warm-up.

#include <cstdint>
#include <memory>
#include <optional>

#include "detectors/analyzer.h"
#include "monitor/daemon/logger.h"
#include "monitor/influx/forwarder.h"
#include "monitor/io/condition_log.h"
#include "monitor/influx/sender.h"
#include "monitor/store/database.h"
#include "monitor/store/event_store.h"
#include "monitor/store/meta_store.h"
#include "monitor/store/sample_writer.h"
#include "monitor/store/state_store.h"

namespace ctmon {

struct PipelineStats {
  std::uint64_t samples = 0;
  std::uint64_t episodes_opened = 0;
  std::uint64_t episodes_closed = 0;
  /// Monotonic time spent in the detectors (Analyzer::observe) over all samples: the figure
  /// behind issue 4's "2 us of detector work per sample in the daemon", with the daemon's cold
  /// caches between samples, not a benchmark's hot loop.
  std::int64_t detector_ns = 0;
};

class Pipeline {
 public:
  /// Uses `db` (read-write; outlives the pipeline) and restores the detectors' saved state when
  /// it is compatible with `analyzer` (logging which way it went).
  Pipeline(store::Database& db, const AnalyzerConfig& analyzer,
           const store::SampleWriterOptions& writer, Logger& log);

  /// Feeds one sample. `local_offset_s` is the local time zone's offset from UTC at the
  /// sample (for the detectors' time-of-day baselines); `now_mono_ns` is the monotonic clock
  /// that paces commits (the sample's own mono_ns when replaying). Never throws for storage
  /// failures: they are logged once per condition and the data stays in RAM to be retried.
  const StepResult& feed(const Sample& sample, const CounterCatalog& catalog,
                         std::int64_t local_offset_s, std::int64_t now_mono_ns);

  /// Turns on InfluxDB forwarding (ARCHITECTURE.md "InfluxDB"): from now on every sample also
  /// goes through the spike-gated forwarder into the durable outbox of `db`, which a Sender
  /// drains. An episode that is open after a restart is streamed on.
  void enable_forwarding(const influx::ForwarderConfig& config);

  /// The outbox the forwarder fills; nullptr unless forwarding is enabled. Owned by the pipeline.
  [[nodiscard]] store::Outbox* outbox() const { return outbox_.get(); }

  /// Writes everything buffered and saves the detectors' state. For shutdown: milliseconds.
  /// Returns false when the final commit failed (the caller should exit non-zero: data lost).
  bool finish(std::int64_t now_mono_ns);

  [[nodiscard]] const PipelineStats& stats() const { return stats_; }
  [[nodiscard]] const store::SampleWriter& writer() const { return writer_; }
  [[nodiscard]] const Analyzer& analyzer() const { return analyzer_; }
  /// "ok", or why the last commit failed ("disk full", "database locked", ...).
  [[nodiscard]] const char* store_state() const { return store::to_string(store_condition_); }

 private:
  void record_episode(const Episode& episode, std::int64_t now_mono_ns, bool force_samples);
  void flush_pending_event();
  void report(const store::CommitResult& result);
  void save_state(std::int64_t wall_ns);

  store::Database& db_;
  Logger& log_;
  Analyzer analyzer_;
  store::SampleWriter writer_;
  store::EventStore events_;
  store::MetaStore meta_;
  store::StateStore state_;
  std::optional<std::int64_t> open_event_id_;       // events-table id of the open episode
  std::optional<store::EventRecord> pending_event_;  // written when the database lets us
  std::int64_t last_event_write_mono_ns_ = 0;
  std::int64_t last_state_save_mono_ns_ = 0;
  ConditionLog<> event_failure_;
  store::CommitCondition store_condition_ = store::CommitCondition::kOk;
  PipelineStats stats_;
  std::unique_ptr<store::Outbox> outbox_;         // with forwarding only
  std::unique_ptr<influx::Forwarder> forwarder_;
};

/// Forwarding to InfluxDB as configured (`config.influx.url` empty: off, returns nullptr):
/// enables the pipeline's forwarder and returns the Sender that drains its outbox (it must be
/// destroyed before the pipeline). The daemon and `ctmon replay --db` both start it here.
/// Lines InfluxDB refuses are set aside in `<db>.influx-rejected`. Throws UserError for bad
/// settings or unreadable credential files.
[[nodiscard]] std::unique_ptr<influx::Sender> start_forwarding(const Config& config, Pipeline& pipeline,
                                                               Logger& log);

/// The store's record of an episode: evidence as the events JSON's "counters" array.
[[nodiscard]] store::EventRecord to_event_record(const Episode& episode, std::int64_t event_id,
                                                 std::int64_t now_wall_ns);

}  // namespace ctmon
