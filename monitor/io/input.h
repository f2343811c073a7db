#pragma once
// An input of the daemon: something that produces readings of counters (the nftables counter
// source, which paces sampling) or adds its measurements to them (probes, conntrack health). The contract, beside part.h's:
//   - pump() runs when the input's descriptor is ready or its due time (want()) has passed; it
//     reads without blocking and hands every complete reading to the sink, in time order.
//   - The input names its counters in the daemon's one CounterCatalog (ids are never reused), so
//     the detectors and the store see one catalog whatever the inputs.
//   - What goes wrong outside (a table deleted, a target unreachable) is logged once per
//     condition (condition_log.h) and shown in report(); the input keeps trying. Only what makes
//     sampling impossible for good (no permission) throws ctmon::UserError, which stops the daemon.
//
// Adding an input: a folder under monitor/ with a class implementing this, and one line in
// monitor/daemon/registry.cpp that constructs it (or not, when it is off: an input that is off
// is never constructed and costs nothing).

#include <cstdint>

#include "core/sample.h"
#include "monitor/io/part.h"

namespace ctmon::io {

/// Where inputs hand their readings: the daemon feeds them to the detectors and the outputs.
class SampleSink {
 public:
  virtual ~SampleSink() = default;
  /// One complete reading; `sample.counters` is indexed by the ids of `catalog`.
  virtual void on_reading(const Sample& sample, const CounterCatalog& catalog) = 0;
};

class Input : public Part {
 public:
  /// Reads what is ready or due (see above). `catalog` is the daemon's, shared by all inputs.
  virtual void pump(std::int64_t now_mono_ns, CounterCatalog& catalog, SampleSink& sink) = 0;

  /// For an input that measures continuously beside the one that paces sampling (probes,
  /// conntrack health: docs/measurements.md): adds this input's cumulative totals as of now to
  /// `sample`, interning its names in `catalog` and growing `sample.counters` to fit. Called for
  /// every reading of the pacing input (the counter source), before the detectors and the store
  /// see it, so that every counter of one sample has the same timestamp: readings of their own
  /// would interleave half-empty samples and break every rate. Must not block beyond a kernel
  /// round trip. The pacing input itself adds nothing (the default).
  virtual void add_totals(Sample& sample, CounterCatalog& catalog, std::int64_t now_mono_ns) {
    (void)sample, (void)catalog, (void)now_mono_ns;
  }

  /// The interval at which this input produces readings, in seconds (0: no fixed interval);
  /// the detectors' memories are converted from seconds to samples with it.
  [[nodiscard]] virtual double interval_s() const { return 0; }
};

}  // namespace ctmon::io
