#pragma once
// The counter source as an input of the daemon (io/input.h): reads the nftables named counters
// over netlink on absolute monotonic deadlines (schedule.h), and deals with the table coming
// and going: one log line when it goes, one when it is back; reinstalls it when allowed. The
// same for its rules: `nft flush table` keeps the counters, which then read frozen, so the
// input watches the kernel's ruleset change notifications (nft/ruleset_watch.h) and checks the
// rules when the table's rules change, never per sample.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/daemon/logger.h"
#include "monitor/daemon/schedule.h"
#include "monitor/io/condition_log.h"
#include "monitor/io/input.h"
#include "monitor/nft/netlink_source.h"
#include "monitor/nft/ruleset.h"

namespace ctmon {

class CounterInput : public io::Input {
 public:
  /// Opens the netlink source for `config.table` and installs the table when it is missing and
  /// install_rules is on. The first reading is due at once (`now_mono_ns`). Throws UserError for
  /// a bad table name, no permission, or a failed install.
  CounterInput(const Config& config, Logger& log, std::int64_t now_mono_ns);
  ~CounterInput() override;
  CounterInput(const CounterInput&) = delete;
  CounterInput& operator=(const CounterInput&) = delete;

  [[nodiscard]] std::string_view name() const override { return "counters"; }
  std::int64_t want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) override;
  /// One reading when its tick is due (a tick with no reading, the table being missing, is
  /// only logged and reported), then the next deadline; ticks that passed meanwhile are skipped,
  /// counted and logged.
  void pump(std::int64_t now_mono_ns, CounterCatalog& catalog, io::SampleSink& sink) override;
  void report(status::DaemonStatus& status) const override;
  /// A new table or install_rules re-opens the source (a bad table keeps the old one, logged);
  /// a new interval restarts the schedule from now.
  void reload(const Config& fresh) override;
  [[nodiscard]] double interval_s() const override { return interval_s_; }

 private:
  class Reader;
  std::unique_ptr<Reader> reader_;
  Logger& log_;
  std::string table_name_;
  bool install_rules_;
  double interval_s_;
  TickSchedule schedule_;
  std::int64_t deadline_ns_;
  std::uint64_t missed_ticks_ = 0;
  ConditionLog<> behind_;           // ticks were skipped and it has not kept up since
  std::uint64_t ticks_on_time_ = 0;  // since the last skipped tick
  std::int64_t last_sample_wall_ns_ = 0;
  std::int64_t read_ns_ = 0;  // in the readings that made samples
  Sample sample_;  // reused: no allocation per reading
};

}  // namespace ctmon
