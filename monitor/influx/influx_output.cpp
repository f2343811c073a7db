#include "monitor/influx/influx_output.h"

#include <cmath>

#include <fmt/core.h>

#include "monitor/clock.h"
#include "monitor/store/sqlite_handle.h"

namespace ctmon::influx {
namespace {

ForwarderConfig forwarder_config(const Config& config) {
  ForwarderConfig forward;
  forward.host = host_name(config);
  if (const auto colon = config.table.find(':'); colon != std::string::npos)
    forward.collectd_instance = config.table.substr(colon + 1);
  forward.pre_window_ms = std::llround(config.influx.pre_window_s * 1000);
  forward.post_window_ms = std::llround(config.influx.post_window_s * 1000);
  forward.heartbeat_ms = std::llround(config.influx.heartbeat_s * 1000);
  forward.collectd_compat = config.influx.collectd_series;
  return forward;
}

SenderConfig sender_config(const Config& config) {
  SenderConfig send;
  send.influx = config.influx;
  send.rejected_path = config.db + ".influx-rejected";
  return send;
}

}  // namespace

InfluxOutput::InfluxOutput(store::Database& db, const Config& config, LogSink log)
    : log_(std::move(log)), outbox_(db), forwarder_(outbox_, forwarder_config(config), log_),
      sender_(std::make_unique<Sender>(outbox_, sender_config(config), log_)) {
  if (log_)
    log_(Severity::kInfo,
         fmt::format("forwarding episodes to InfluxDB at {} ({} API) as host {}; {} lines queued from before",
                     loggable_url(config.influx.url), config.influx.api, forwarder_config(config).host,
                     outbox_.size()));
}

void InfluxOutput::start(const Analyzer& analyzer) {
  // An episode that is open after a restart is streamed on.
  if (const Episode* open = analyzer.open_episode()) forwarder_.resume(*open);
}

void InfluxOutput::on_sample(const io::SampleView& view) {
  forwarder_.step(view.sample, view.step, view.catalog, view.now_mono_ns, view.now_wall_ns);
}

void InfluxOutput::on_samples_durable(std::int64_t now_mono_ns, std::int64_t now_wall_ns) {
  (void)now_mono_ns;
  forwarder_.flush(now_wall_ns, false);
}

void InfluxOutput::on_episode_closed_at_restart(const Episode& episode) {
  forwarder_.close_marker(episode, now_wall_ns());
}

std::int64_t InfluxOutput::want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) {
  // New lines in the outbox: send them now rather than at the sender's next look.
  if (forwarder_.enqueued() != enqueued_seen_) return now_mono_ns;
  return sender_->want(fds, now_mono_ns);
}

void InfluxOutput::pump(std::int64_t now_mono_ns) {
  if (forwarder_.enqueued() != enqueued_seen_) {
    enqueued_seen_ = forwarder_.enqueued();
    sender_->notify_queued();
  }
  sender_->pump(now_mono_ns);
}

bool InfluxOutput::finish(const Analyzer& analyzer, std::int64_t now_mono_ns) {
  (void)analyzer;
  (void)now_mono_ns;
  // What is planned goes to the durable outbox, not to the network: the sender sends it after
  // the restart.
  if (!forwarder_.flush(now_wall_ns(), true) && log_)
    log_(Severity::kError,
         fmt::format("{} InfluxDB points could not be queued in the outbox and are lost", forwarder_.pending()));
  // Losing planned points is logged, but does not make the stop unclean: the samples are safe.
  return true;
}

void InfluxOutput::report(status::DaemonStatus& status) const {
  status.influx = sender_->status();
}

std::unique_ptr<InfluxOutput> make_output(const Config& config, store::Database& db, LogSink log) {
  if (config.influx.url.empty()) return nullptr;
  return std::make_unique<InfluxOutput>(db, config, std::move(log));
}

}  // namespace ctmon::influx
