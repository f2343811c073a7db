#include "monitor/cli/collectd_notify.h"

#include <algorithm>

#include <fmt/core.h>

#include "core/time.h"

namespace ctmon::cli {
namespace {

// collectd reads one command per line: no control characters.
std::string one_line(std::string text) {
  std::replace_if(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; },
                  ' ');
  return text;
}

// An option value in collectd's quoted form: collectd splits a command at spaces, so a value
// with spaces (the message always has some) must be quoted, with '"' and '\' escaped.
std::string quoted(const std::string& value) {
  std::string out = "\"";
  for (const char c : one_line(value)) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

}  // namespace

EpisodeWatch::EpisodeWatch(const store::EventStore& events)
    : events_(events), next_id_(events.next_event_id()) {
  store::EventFilter open;
  open.open_only = true;
  for (const store::EventRecord& record : events_.list(open)) open_ids_.push_back(record.id);
}

std::vector<EpisodeTransition> EpisodeWatch::poll() {
  std::vector<EpisodeTransition> changes;
  std::vector<std::int64_t> still_open;
  for (const std::int64_t id : open_ids_) {
    std::optional<store::EventRecord> record = events_.get(id);
    if (!record) continue;  // deleted by hand: nothing to announce
    if (record->end_wall_ns)
      changes.push_back({std::move(*record), false});
    else
      still_open.push_back(id);
  }
  std::int64_t next_id = next_id_;
  const std::int64_t end_id = events_.next_event_id();
  for (; next_id < end_id; ++next_id) {
    std::optional<store::EventRecord> record = events_.get(next_id);
    if (!record) continue;
    changes.push_back({*record, true});
    if (record->end_wall_ns)
      changes.push_back({std::move(*record), false});
    else
      still_open.push_back(next_id);
  }
  // Only now: a read that threw above left the watch as it was.
  open_ids_ = std::move(still_open);
  next_id_ = next_id;
  return changes;
}

std::string putnotif_line(const EpisodeTransition& change, const std::string& host, const std::string& table_name) {
  const store::EventRecord& e = change.record;
  const std::int64_t at_ns = change.opened ? e.start_wall_ns : e.end_wall_ns.value_or(e.start_wall_ns);
  const std::string what =
      change.opened ? fmt::format("ctmon: jitter episode {} began: {}, score {:.2f}", e.id, e.kind, e.peak_score)
                    : fmt::format("ctmon: jitter episode {} ended after {}: {}, peak score {:.2f}", e.id,
                                  format_duration_brief(at_ns - e.start_wall_ns), e.kind, e.peak_score);
  return fmt::format("PUTNOTIF severity={} time={} host={} plugin=nftables plugin_instance={} type=episode "
                     "type_instance={} message={}\n",
                     change.opened ? "warning" : "okay", floor_div(at_ns, kNsPerS), quoted(host), quoted(table_name),
                     e.id, quoted(e.summary.empty() ? what : what + ": " + e.summary));
}

}  // namespace ctmon::cli
