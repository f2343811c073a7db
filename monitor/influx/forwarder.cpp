#include "monitor/influx/forwarder.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/core.h>

#include "core/measurement.h"
#include "core/time.h"
#include "monitor/influx/line_protocol.h"
#include "monitor/store/sqlite_handle.h"

namespace ctmon::influx {
namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min();
constexpr std::size_t kMaxTitleChars = 255;  // Grafana/InfluxDB 2 annotation summary limit


}  // namespace

ForwardPlanner::ForwardPlanner(ForwarderConfig config) : config_(std::move(config)) {
  config_.bucket_ms = std::max<std::int64_t>(config_.bucket_ms, 1);
  config_.pre_window_ms = std::max<std::int64_t>(config_.pre_window_ms, 0);
  config_.post_window_ms = std::max<std::int64_t>(config_.post_window_ms, 0);
  config_.max_ring_samples = std::max<std::size_t>(config_.max_ring_samples, 1);
}

std::int64_t& ForwardPlanner::sent_until(CounterId id) {
  if (id >= sent_until_ns_.size()) sent_until_ns_.resize(id + 1, kNever);
  return sent_until_ns_[id];
}

void ForwardPlanner::push(const Sample& sample, const StepResult& step) {
  const std::size_t n = sample.counters.size();
  if (previous_.size() < n) {
    previous_.resize(n, 0);
    previous_present_.resize(n, false);
  }
  Entry entry;
  entry.wall_ns = sample.wall_ns;
  entry.cells.resize(n);
  for (std::size_t id = 0; id < n; ++id) {
    const CounterTotals& t = sample.counters[id];
    Cell& cell = entry.cells[id];
    cell.present = t.present;
    cell.cumulative = t.packets;
    const double pps = id < step.counter_pps.size() ? step.counter_pps[id] : std::nan("");
    cell.pps = t.present && std::isfinite(pps) ? pps : std::nan("");
    if (t.present && previous_present_[id])
      // Smaller than before: the counter was reset (rules re-created) and counts from 0 again.
      cell.packets = t.packets >= previous_[id] ? t.packets - previous_[id] : t.packets;
    previous_[id] = t.packets;
    previous_present_[id] = t.present;
  }
  ring_.push_back(std::move(entry));
  const std::int64_t keep_ns = (config_.pre_window_ms + config_.bucket_ms) * kNsPerMs;
  while (ring_.size() > config_.max_ring_samples ||
         (ring_.size() > 1 && ring_.front().wall_ns < ring_.back().wall_ns - keep_ns))
    ring_.pop_front();
}

void ForwardPlanner::step(const Sample& sample, const StepResult& step, const CounterCatalog& catalog,
                          std::vector<store::OutboxLine>& out) {
  if (names_.size() != catalog.size()) names_ = catalog.names();
  push(sample, step);
  const Entry& current = ring_.back();
  if (config_.heartbeat_ms > 0) heartbeat(current, out);

  const Episode* episode = step.change != EpisodeChange::none ? step.episode : nullptr;
  if (step.change == EpisodeChange::opened && episode != nullptr) {
    if (phase_ == Phase::kPost)  // the previous post-window ends where the new pre-window begins
      for (const CounterId id : tracked_) emit_buckets(id, kNever, episode->start_wall_ns, out);
    phase_ = Phase::kOpen;
    tracked_.clear();
    emit_marker(*episode, out);
    track(*episode, catalog, out, true);
    return;
  }
  if (phase_ == Phase::kOpen) {
    if (episode != nullptr) track(*episode, catalog, out, true);  // counters that joined late
    for (const CounterId id : tracked_) emit_full(id, current, out);
    if (step.change == EpisodeChange::closed && episode != nullptr) {
      emit_marker(*episode, out);
      phase_ = Phase::kPost;
      post_until_ns_ = std::max(episode->end_wall_ns + config_.post_window_ms * kNsPerMs, current.wall_ns);
    }
    return;
  }
  if (step.change == EpisodeChange::closed && episode != nullptr) {
    // Opened before a restart that did not resume it: the open marker was sent then; close it
    // and send the post-window.
    tracked_.clear();
    track(*episode, catalog, out, false);
    for (const CounterId id : tracked_) emit_full(id, current, out);
    emit_marker(*episode, out);
    phase_ = Phase::kPost;
    post_until_ns_ = std::max(episode->end_wall_ns + config_.post_window_ms * kNsPerMs, current.wall_ns);
    return;
  }
  if (phase_ == Phase::kPost) {
    if (current.wall_ns > post_until_ns_) {
      for (const CounterId id : tracked_) emit_buckets(id, kNever, post_until_ns_ + 1, out);
      tracked_.clear();
      phase_ = Phase::kIdle;
    } else {
      // Buckets before the current sample's are complete.
      const std::int64_t bucket_ns = config_.bucket_ms * kNsPerMs;
      const std::int64_t bucket_start = floor_div(current.wall_ns, bucket_ns) * bucket_ns;
      for (const CounterId id : tracked_) emit_buckets(id, kNever, bucket_start, out);
    }
  }
}

void ForwardPlanner::resume(const Episode& open_episode) {
  phase_ = Phase::kOpen;
  tracked_.clear();
  for (const MovedCounter& c : open_episode.counters)
    if (std::find(tracked_.begin(), tracked_.end(), c.id) == tracked_.end()) tracked_.push_back(c.id);
}

void ForwardPlanner::finish(std::vector<store::OutboxLine>& out) {
  if (phase_ != Phase::kPost) return;
  for (const CounterId id : tracked_) emit_buckets(id, kNever, post_until_ns_ + 1, out);
  tracked_.clear();
  phase_ = Phase::kIdle;
}

void ForwardPlanner::track(const Episode& episode, const CounterCatalog& catalog,
                           std::vector<store::OutboxLine>& out, bool with_backfill) {
  auto add = [&](CounterId id) {
    if (id >= catalog.size() || std::find(tracked_.begin(), tracked_.end(), id) != tracked_.end()) return;
    tracked_.push_back(id);
    if (with_backfill) backfill(id, episode.start_wall_ns, out);
  };
  for (const MovedCounter& c : episode.counters) add(c.id);
  // The probes and the table's fill go along with every episode, moved or not: a calm LAN probe
  // beside a disturbed WAN one is what says "isp" on a dashboard.
  for (CounterId id = 0; id < catalog.size(); ++id)
    if (counter_meaning(catalog.name(id)) == CounterMeaning::mean) add(id);
}

void ForwardPlanner::backfill(CounterId id, std::int64_t start_ns, std::vector<store::OutboxLine>& out) {
  emit_buckets(id, start_ns - config_.pre_window_ms * kNsPerMs, start_ns, out);
  for (const Entry& e : ring_)
    if (e.wall_ns >= start_ns) emit_full(id, e, out);
}

void ForwardPlanner::emit_full(CounterId id, const Entry& entry, std::vector<store::OutboxLine>& out) {
  if (entry.wall_ns <= sent_until(id) || id >= entry.cells.size() || !entry.cells[id].present) return;
  const Cell& c = entry.cells[id];
  emit_rate(kRateMeasurement, id, entry.wall_ns, c.pps, c.packets, std::pair{entry.wall_ns, c.cumulative}, out);
  sent_until(id) = entry.wall_ns;
}

void ForwardPlanner::emit_buckets(CounterId id, std::int64_t from_ns, std::int64_t before_ns,
                                  std::vector<store::OutboxLine>& out) {
  const std::int64_t bucket_ns = config_.bucket_ms * kNsPerMs;
  bool open = false;
  std::int64_t key = 0, first_ns = 0, last_ns = 0;
  double pps_sum = 0;
  std::uint32_t pps_n = 0;
  std::uint64_t packets = 0, cumulative = 0;
  const auto close = [&] {
    if (!open) return;
    emit_rate(kRateMeasurement, id, first_ns, pps_n > 0 ? pps_sum / pps_n : std::nan(""), packets,
              std::pair{last_ns, cumulative}, out);
    sent_until(id) = std::max(sent_until(id), last_ns);
    open = false;
  };
  const std::int64_t after_ns = sent_until(id);
  for (const Entry& e : ring_) {
    if (e.wall_ns <= after_ns || e.wall_ns < from_ns || e.wall_ns >= before_ns) continue;
    if (id >= e.cells.size() || !e.cells[id].present) continue;
    const Cell& c = e.cells[id];
    const std::int64_t k = floor_div(e.wall_ns, bucket_ns);
    if (open && k != key) close();
    if (!open) {
      open = true;
      key = k;
      first_ns = e.wall_ns;
      pps_sum = 0;
      pps_n = 0;
      packets = 0;
    }
    if (std::isfinite(c.pps)) {
      pps_sum += c.pps;
      ++pps_n;
    }
    packets += c.packets;
    last_ns = e.wall_ns;
    cumulative = c.cumulative;
  }
  close();
}

void ForwardPlanner::emit_rate(std::string_view measurement, CounterId id, std::int64_t time_ns, double pps,
                               std::uint64_t packets,
                               std::optional<std::pair<std::int64_t, std::uint64_t>> cumulative,
                               std::vector<store::OutboxLine>& out) {
  const std::string& name = id < names_.size() ? names_[id] : std::string();
  if (name.empty()) return;
  const std::int64_t count = static_cast<std::int64_t>(std::min<std::uint64_t>(packets, std::numeric_limits<std::int64_t>::max()));
  if (counter_meaning(name) == CounterMeaning::mean) {
    // A probe's RTT or the table's fill: the mean value over the bucket in the name's unit, and
    // how many observations it rests on. No collectd twin: it has no packet count to mirror.
    Point v;
    v.measurement = std::string(measurement == kRateMeasurement ? kValueMeasurement : measurement);
    v.tags = {{"host", config_.host}, {"counter", name}};
    v.fields = {{"value", pps}, {"count", FieldValue(count)}};
    v.time_ms = ns_to_ms(time_ns);
    if (auto line = to_line(v)) out.push_back({store::OutboxClass::kSeries, std::move(*line)});
    return;
  }
  const CounterName parts = parse_counter_name(name);
  Point p;
  p.measurement = std::string(measurement);
  p.tags = {{"host", config_.host}, {"counter", name}, {"proto", parts.proto}, {"hook", parts.hook},
            {"state", parts.state}};
  p.fields = {{"pps", pps}, {"packets", FieldValue(count)}};
  p.time_ms = ns_to_ms(time_ns);
  if (auto line = to_line(p)) out.push_back({store::OutboxClass::kSeries, std::move(*line)});
  if (config_.collectd_compat && cumulative) {
    // Telegraf's collectd parser writes every value as a float64: an integer here would be a
    // field type conflict with the existing series.
    Point c;
    c.measurement = std::string(kCollectdMeasurement);
    c.tags = {{"host", config_.host}, {"instance", config_.collectd_instance}, {"type", "packets"},
              {"type_instance", name}};
    c.fields = {{"value", static_cast<double>(cumulative->second)}};
    c.time_ms = ns_to_ms(cumulative->first);
    if (auto line = to_line(c)) out.push_back({store::OutboxClass::kSeries, std::move(*line)});
  }
}

void ForwardPlanner::emit_marker(const Episode& episode, std::vector<store::OutboxLine>& out) {
  const std::string kind(to_string(episode.kind));
  std::string counters;
  for (const MovedCounter& c : episode.counters) counters += (counters.empty() ? "" : ", ") + c.name;
  std::string title = fmt::format("ctmon: {} ({})", kind, counters.empty() ? "no counter" : counters);
  if (title.size() > kMaxTitleChars) title.resize(kMaxTitleChars);
  Point p;
  p.measurement = std::string(kEventMeasurement);
  p.tags = {{"host", config_.host}};  // nothing that could change between open and close
  p.fields = {{"title", title},
              {"text", episode.summary},
              {"tags", "ctmon," + kind},
              {"kind", kind},
              {"where", std::string(to_string(episode.where))},
              {"score", episode.peak_score},
              {"event_id", std::to_string(episode.id)},
              {"state", std::string(episode.open ? "open" : "closed")}};
  if (!episode.open) p.fields.emplace_back("time_end", FieldValue(ns_to_ms(episode.end_wall_ns)));
  p.time_ms = ns_to_ms(episode.start_wall_ns);
  if (auto line = to_line(p)) out.push_back({store::OutboxClass::kMarker, std::move(*line)});
}

void ForwardPlanner::close_marker(const Episode& closed, std::vector<store::OutboxLine>& out) const {
  Point p;
  p.measurement = std::string(kEventMeasurement);
  p.tags = {{"host", config_.host}};
  p.fields = {{"state", std::string("closed")}, {"time_end", FieldValue(ns_to_ms(closed.end_wall_ns))}};
  p.time_ms = ns_to_ms(closed.start_wall_ns);
  if (auto line = to_line(p)) out.push_back({store::OutboxClass::kMarker, std::move(*line)});
}

void ForwardPlanner::heartbeat(const Entry& entry, std::vector<store::OutboxLine>& out) {
  const std::int64_t period_ns = config_.heartbeat_ms * kNsPerMs;
  const std::int64_t period = floor_div(entry.wall_ns, period_ns);
  if (heartbeat_started_ && period != heartbeat_period_) {
    for (CounterId id = 0; id < hb_packets_.size(); ++id) {
      if (hb_pps_n_[id] == 0 && hb_packets_[id] == 0) continue;
      emit_rate(kHeartbeatMeasurement, id, heartbeat_period_ * period_ns,
                hb_pps_n_[id] > 0 ? hb_pps_sum_[id] / hb_pps_n_[id] : std::nan(""), hb_packets_[id],
                std::nullopt, out);
      if (config_.collectd_compat && hb_last_[id].present) {
        Point c;
        c.measurement = std::string(kCollectdMeasurement);
        c.tags = {{"host", config_.host}, {"instance", config_.collectd_instance}, {"type", "packets"},
                  {"type_instance", names_[id]}};
        c.fields = {{"value", static_cast<double>(hb_last_[id].cumulative)}};
        c.time_ms = ns_to_ms(hb_last_ns_);
        if (auto line = to_line(c)) out.push_back({store::OutboxClass::kSeries, std::move(*line)});
      }
    }
    heartbeat_started_ = false;
  }
  if (!heartbeat_started_) {
    heartbeat_started_ = true;
    heartbeat_period_ = period;
    hb_pps_sum_.assign(entry.cells.size(), 0.0);
    hb_pps_n_.assign(entry.cells.size(), 0);
    hb_packets_.assign(entry.cells.size(), 0);
    hb_last_.assign(entry.cells.size(), Cell{});
  }
  if (hb_packets_.size() < entry.cells.size()) {
    hb_pps_sum_.resize(entry.cells.size(), 0.0);
    hb_pps_n_.resize(entry.cells.size(), 0);
    hb_packets_.resize(entry.cells.size(), 0);
    hb_last_.resize(entry.cells.size(), Cell{});
  }
  for (CounterId id = 0; id < entry.cells.size(); ++id) {
    const Cell& c = entry.cells[id];
    if (!c.present) continue;
    if (std::isfinite(c.pps)) {
      hb_pps_sum_[id] += c.pps;
      ++hb_pps_n_[id];
    }
    hb_packets_[id] += c.packets;
    hb_last_[id] = c;
  }
  hb_last_ns_ = entry.wall_ns;
}

Forwarder::Forwarder(store::Outbox& outbox, ForwarderConfig config, LogSink log, std::int64_t enqueue_interval_ns)
    : outbox_(outbox), planner_(std::move(config)), log_(std::move(log)), enqueue_interval_ns_(enqueue_interval_ns) {}

void Forwarder::step(const Sample& sample, const StepResult& step, const CounterCatalog& catalog,
                     std::int64_t now_mono_ns, std::int64_t now_wall_ns) {
  const std::size_t before = pending_.size();
  planner_.step(sample, step, catalog, pending_);
  if (pending_.empty()) return;
  const bool marker = std::any_of(pending_.begin() + static_cast<std::ptrdiff_t>(before), pending_.end(),
                                  [](const store::OutboxLine& l) { return l.cls == store::OutboxClass::kMarker; });
  if (before == 0 && !oldest_pending_mono_ns_) oldest_pending_mono_ns_ = now_mono_ns;
  if (marker || now_mono_ns - oldest_pending_mono_ns_.value_or(now_mono_ns) >= enqueue_interval_ns_) {
    flush(now_wall_ns, false);
  }
}

bool Forwarder::flush(std::int64_t now_wall_ns, bool final) {
  if (final) planner_.finish(pending_);
  if (pending_.empty()) return true;
  try {
    evicted_ += outbox_.enqueue(pending_, now_wall_ns);
    enqueued_ += pending_.size();
    pending_.clear();
    oldest_pending_mono_ns_.reset();
    if (queue_failure_.clear() && log_) log_(Severity::kInfo, "influx: queueing points in the outbox works again");
    return true;
  } catch (const store::SqliteError& e) {
    if (queue_failure_.enter() && log_)
      log_(Severity::kError, fmt::format("influx: cannot queue {} points in the outbox ({}); kept in memory "
                                         "and retried",
                                         pending_.size(), e.what()));
    if (pending_.size() > kMaxPendingLines) {
      // Same eviction order as the outbox: series before markers, oldest first.
      std::size_t excess = pending_.size() - kMaxPendingLines;
      std::vector<store::OutboxLine> kept;
      kept.reserve(kMaxPendingLines);
      for (auto& l : pending_) {
        if (excess > 0 && l.cls == store::OutboxClass::kSeries) {
          --excess;
          continue;
        }
        kept.push_back(std::move(l));
      }
      pending_ = std::move(kept);
    }
    return false;
  }
}

}  // namespace ctmon::influx
