#pragma once
// An output of the daemon: something every sample and every episode goes to after the
// detectors (the store and InfluxDB today; notifications, MQTT, Prometheus next). The contract,
// beside part.h's:
//   - start() runs once, after the detectors restored what they learned and before the first
//     sample: an episode still open from before a restart is handed over there.
//   - on_sample() runs for every sample, on_episode() when an episode opens, moves its peak or
//     closes (after on_sample() of the same sample). Both run inside the sampling tick: they
//     queue, and send from pump() (descriptors and due times from want()). Neither blocks.
//   - Failures outside (a server down, a disk full) are logged once per condition
//     (condition_log.h), shown in report(), and retried; nothing recorded is dropped silently.
//   - on_samples_durable() runs when the store has just committed samples: make durable what was
//     derived from them, so a crash loses no more of an output than of the samples themselves.
//   - on_episode_closed_at_restart() runs after start() for an episode that a crash left open
//     and the store closed at its last stored sample: bring what was sent about it up to date.
//   - finish() runs once at shutdown: make durable what is buffered (milliseconds, no network).
//
// Adding an output: a folder under monitor/ with a class implementing this, a factory returning
// nullptr when the configuration leaves it off (an output that is off is never constructed and
// costs nothing), and one line in monitor/daemon/registry.cpp calling that factory.

#include <cstdint>

#include "core/episode.h"
#include "core/sample.h"
#include "detectors/analyzer.h"
#include "monitor/io/part.h"

namespace ctmon::io {

/// One sample after the detectors, as every output sees it. Valid during the call only.
struct SampleView {
  const Sample& sample;
  const CounterCatalog& catalog;
  const StepResult& step;        ///< scores, rates and the episode change of this sample
  const Analyzer& analyzer;      ///< for what the detectors know beyond this sample
  std::int64_t now_mono_ns;      ///< paces commits and sends (the recording's clock in a replay)
  std::int64_t now_wall_ns;      ///< the real wall clock
};

class Output : public Part {
 public:
  /// Once, before the first sample; `analyzer` has its saved state restored.
  virtual void start(const Analyzer& analyzer) { (void)analyzer; }

  virtual void on_sample(const SampleView& view) = 0;

  /// `change` is opened, peak_updated or closed.
  virtual void on_episode(const Episode& episode, EpisodeChange change, const SampleView& view) {
    (void)episode;
    (void)change;
    (void)view;
  }

  /// The store just committed the samples fed so far (this one included).
  virtual void on_samples_durable(std::int64_t now_mono_ns, std::int64_t now_wall_ns) {
    (void)now_mono_ns;
    (void)now_wall_ns;
  }

  /// `episode` (open false; start_wall_ns, end_wall_ns, kind, summary and peak_score set; no
  /// counters) was left open by a crash and is now closed at the last sample the store kept.
  virtual void on_episode_closed_at_restart(const Episode& episode) { (void)episode; }

  /// Sends or writes what is ready or due; called when want()'s descriptors are ready or its due
  /// time passed.
  virtual void pump(std::int64_t now_mono_ns) { (void)now_mono_ns; }

  /// At shutdown, after the last sample. Returns false when something recorded could not be
  /// kept (the daemon then exits non-zero).
  virtual bool finish(const Analyzer& analyzer, std::int64_t now_mono_ns) {
    (void)analyzer;
    (void)now_mono_ns;
    return true;
  }
};

}  // namespace ctmon::io
