#pragma once
// Conntrack table health as an input of the daemon (io/input.h): with every reading of the
// counter source it asks the kernel for the table's entries and limit and the per-CPU
// statistics (conntrack_reader.h), and adds them as counters (docs/measurements.md):
//   conntrack_entries, conntrack_limit   mean counters: packets = readings, bytes = Σ value
//   conntrack_stat_<stat>                rate counters: packets = the statistic summed over
//                                        CPUs, cumulative (invalid, insert_failed, drop,
//                                        early_drop, error, search_restart, clash_resolve,
//                                        chain_toolong: those the kernel reports)
// It has no samples and no descriptor of its own: the reading is synchronous inside add_totals,
// a few system calls (a few tens of µs), bounded by a short budget. When the kernel refuses
// (no CAP_NET_ADMIN) or has no ctnetlink, it logs that once with what to do, leaves its
// counters out of the samples (absent, never 0), and asks again once a minute, not per sample.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "monitor/conntrack/conntrack_reader.h"
#include "monitor/conntrack/conntrack_stats.h"
#include "monitor/io/condition_log.h"
#include "monitor/io/input.h"
#include "monitor/io/log_sink.h"

namespace ctmon::conntrack {

class ConntrackHealthInput : public io::Input {
 public:
  /// How a reading is made: ConntrackReader::read's contract (0 or an errno; `out` filled).
  using ReadFunction = std::function<int(ConntrackStats& out, std::int64_t budget_ns)>;

  /// Reads the kernel of the daemon's network namespace.
  explicit ConntrackHealthInput(io::LogSink log);
  /// Reads with `read` instead: for tests of what the kernel cannot be made to do (refuse, wrap).
  ConntrackHealthInput(io::LogSink log, ReadFunction read);

  [[nodiscard]] std::string_view name() const override { return "conntrack"; }
  /// Nothing: it reads only when the counter source does (add_totals).
  void pump(std::int64_t now_mono_ns, CounterCatalog& catalog, io::SampleSink& sink) override;
  void add_totals(Sample& sample, CounterCatalog& catalog, std::int64_t now_mono_ns) override;
  void report(status::DaemonStatus& status) const override;

 private:
  void read(std::int64_t now_ns);
  void on_failure(int error, std::int64_t now_ns);
  void put(Sample& sample, CounterCatalog& catalog);

  io::LogSink log_;
  ReadFunction read_;
  ConntrackStats last_;      // the last reading; reused
  bool last_ok_ = false;     // whether the last attempt succeeded (and put() has values)
  CumulativeStats stats_;
  struct Mean {
    std::uint64_t readings = 0;
    std::uint64_t sum = 0;
  };
  Mean entries_, limit_;
  std::optional<std::uint64_t> drops_at_start_;
  std::int64_t next_try_ns_ = 0;
  ConditionLog<int> trouble_;  // by errno
  std::uint64_t readings_ = 0;
  std::uint64_t failures_ = 0;
  std::int64_t read_ns_total_ = 0;
  // Counter ids, interned when the kernel first reports the value.
  std::optional<CounterId> entries_id_, limit_id_;
  std::array<std::optional<CounterId>, kStatCount> stat_ids_{};
};

/// The input, or nullptr when conntrack_health is off.
[[nodiscard]] std::unique_ptr<ConntrackHealthInput> make_input(const Config& config, io::LogSink log);

}  // namespace ctmon::conntrack
