#pragma once
// InfluxDB as an output of the daemon (io/output.h): every sample goes through the spike-gated
// forwarder (forwarder.h) into the durable outbox in the database, which the sender (sender.h)
// drains over HTTP from the daemon's poll loop. Off (never constructed) when influx.url is empty.

#include <memory>
#include <string_view>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/influx/forwarder.h"
#include "monitor/influx/log_sink.h"
#include "monitor/influx/sender.h"
#include "monitor/io/output.h"
#include "monitor/store/database.h"
#include "monitor/store/outbox.h"

namespace ctmon::influx {

class InfluxOutput : public io::Output {
 public:
  /// Opens the outbox in `db` (which outlives this object) and reads the credentials; lines
  /// InfluxDB refuses are set aside in `<config.db>.influx-rejected`. Throws UserError for bad
  /// settings or unreadable credential files.
  InfluxOutput(store::Database& db, const Config& config, LogSink log);

  [[nodiscard]] std::string_view name() const override { return "influx"; }
  void start(const Analyzer& analyzer) override;
  void on_sample(const io::SampleView& view) override;
  /// Commits the planned points to the outbox with the samples they come from.
  void on_samples_durable(std::int64_t now_mono_ns, std::int64_t now_wall_ns) override;
  /// Queues the marker's close (state, time_end) for the episode a crash left open.
  void on_episode_closed_at_restart(const Episode& episode) override;
  std::int64_t want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) override;
  void pump(std::int64_t now_mono_ns) override;
  bool finish(const Analyzer& analyzer, std::int64_t now_mono_ns) override;
  void report(status::DaemonStatus& status) const override;

  /// The sender, for `ctmon replay --db`, which drains the outbox before it exits.
  [[nodiscard]] Sender& sender() { return *sender_; }

 private:
  LogSink log_;
  store::Outbox outbox_;
  Forwarder forwarder_;
  std::unique_ptr<Sender> sender_;
  std::uint64_t enqueued_seen_ = 0;  // forwarder_.enqueued() at the last pump
};

/// The InfluxDB output `config` asks for, or nullptr when forwarding is off (influx.url empty).
/// Throws UserError like InfluxOutput's constructor.
[[nodiscard]] std::unique_ptr<InfluxOutput> make_output(const Config& config, store::Database& db,
                                                        LogSink log);

}  // namespace ctmon::influx
