#pragma once
// What happens to every sample, in the daemon and in `ctmon replay --db` alike: the detectors
// (Analyzer), then every output in turn (io/output.h): the store first (store_output.h, always
// on), then the ones the configuration turns on (InfluxDB, ...), in the order they were added.

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "detectors/analyzer.h"
#include "monitor/daemon/logger.h"
#include "monitor/daemon/store_output.h"
#include "monitor/io/output.h"
#include "monitor/status/daemon_status.h"
#include "monitor/store/database.h"
#include "monitor/store/sample_writer.h"

namespace ctmon {

/// The detectors for conntrack counters sampled every `interval_s` (AnalyzerConfig::network),
/// with the episode gap of the configuration: merge_gap_s is the gap, and the quiet samples that
/// close an episode are capped so that they do not hold a short-gap episode open longer.
[[nodiscard]] AnalyzerConfig network_detectors(double interval_s, double episode_gap_s);

struct PipelineStats {
  std::uint64_t samples = 0;
  std::uint64_t episodes_opened = 0;
  std::uint64_t episodes_closed = 0;
  /// Monotonic time spent in the detectors (Analyzer::observe) over all samples, with the
  /// daemon's cold caches between samples, not a benchmark's hot loop.
  std::int64_t detector_ns = 0;
};

class Pipeline {
 public:
  /// Uses `db` (read-write; outlives the pipeline) for the store output, and restores the
  /// detectors' saved state when it is compatible with `analyzer` (logging which way it went),
  /// catching up on the samples stored after it (StoreOutput::restore) in the time zone
  /// `local_offset_s` gives.
  Pipeline(store::Database& db, const AnalyzerConfig& analyzer, const store::SampleWriterOptions& writer,
           Logger& log, const StoreOutput::LocalOffset& local_offset_s);

  /// Adds an output after the others and calls its start() (and on_episode_closed_at_restart()
  /// when the store closed an episode a crash had left open). Owned by the pipeline from now on.
  void add_output(std::unique_ptr<io::Output> output);

  /// Feeds one sample to the detectors and then to every output. `local_offset_s` is the local
  /// time zone's offset from UTC at the sample (for the detectors' time-of-day baselines);
  /// `now_mono_ns` is the monotonic clock that paces commits (the sample's own mono_ns when
  /// replaying). Never throws for storage or network failures: outputs log them once per
  /// condition and keep the data to retry.
  const StepResult& feed(const Sample& sample, const CounterCatalog& catalog,
                         std::int64_t local_offset_s, std::int64_t now_mono_ns);

  /// Rebuilds the detectors with `config` (a new sampling interval changes their memories in
  /// samples), carrying over what they learned when the saved state fits the new configuration.
  /// Returns true when it did; false means the detectors start learning again (warm-up), which
  /// the caller should say.
  bool reconfigure(const AnalyzerConfig& config);

  /// Finishes every output (writes everything buffered, saves the detectors' state). For
  /// shutdown: milliseconds. Returns false when something could not be saved (the caller should
  /// exit non-zero: data lost).
  bool finish(std::int64_t now_mono_ns);

  /// Fills the pipeline's and every output's part of `status` (learning_until_wall_ns included).
  void report(status::DaemonStatus& status) const;

  /// The outputs after the store, for the daemon's poll loop.
  [[nodiscard]] const std::vector<std::unique_ptr<io::Output>>& outputs() const { return outputs_; }
  [[nodiscard]] const PipelineStats& stats() const { return stats_; }
  [[nodiscard]] const store::SampleWriter& writer() const { return store_.writer(); }
  /// The samples not yet committed (the status socket's "samples").
  [[nodiscard]] status::LiveSamples live_samples() const { return store_.live_samples(); }
  [[nodiscard]] const Analyzer& analyzer() const { return *analyzer_; }
  /// See StoreOutput::files_moved: checked after every commit of the samples.
  [[nodiscard]] std::optional<std::string> store_files_moved() { return store_.files_moved(); }
  /// "ok", or why the last commit failed ("disk full", "database locked", ...).
  [[nodiscard]] const char* store_state() const { return store::to_string(store_.condition()); }

 private:
  void note_learning(std::int64_t wall_ns, std::int64_t local_offset_s);

  Logger& log_;
  std::unique_ptr<Analyzer> analyzer_;
  StoreOutput store_;
  std::vector<std::unique_ptr<io::Output>> outputs_;
  std::optional<Episode> closed_at_restart_;
  PipelineStats stats_;
  /// When the detectors' warm-up should end, from the last sample and the nominal interval;
  /// 0 once they detect. Said in the log when warm-up starts and ends, and in the status.
  std::int64_t learning_until_wall_ns_ = 0;
  bool learning_said_ = false;
};

}  // namespace ctmon
