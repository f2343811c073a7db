#include "monitor/status/daemon_status.h"

#include <array>
#include <cmath>

#include "core/time.h"

namespace ctmon::status {
namespace {

constexpr std::string_view kErrorPrefix = "error: ";

double seconds(std::int64_t wall_ns) { return static_cast<double>(wall_ns) / kNsPerS; }
std::int64_t nanoseconds(double seconds) { return std::llround(seconds * kNsPerS); }

const nlohmann::json& member(const nlohmann::json& object, const char* key, const char* where) {
  if (!object.is_object()) throw StatusFormatError(std::string(where) + " is not a JSON object");
  const auto it = object.find(key);
  if (it == object.end()) throw StatusFormatError(std::string("the key '") + key + "' is missing");
  return *it;
}

template <class T>
T get(const nlohmann::json& object, const char* key, const char* where = "the status") {
  const nlohmann::json& value = member(object, key, where);
  bool ok = false;
  if constexpr (std::is_same_v<T, std::string>)
    ok = value.is_string();
  else if constexpr (std::is_same_v<T, bool>)
    ok = value.is_boolean();
  else if constexpr (std::is_unsigned_v<T>)
    ok = value.is_number_unsigned();  // nlohmann parses a non-negative integer as unsigned
  else if constexpr (std::is_integral_v<T>)
    ok = value.is_number_integer();
  else
    ok = value.is_number();
  if (!ok) throw StatusFormatError(std::string("the key '") + key + "' has the wrong type");
  return value.get<T>();
}

TableState parse_table_state(const std::string& text, std::string& error) {
  if (text.starts_with(kErrorPrefix)) {
    error = text.substr(kErrorPrefix.size());
    return TableState::kUnreadable;
  }
  constexpr std::array kNamed = {TableState::kOk, TableState::kMissing, TableState::kNoCounters,
                                 TableState::kRulesMissing};
  for (const TableState state : kNamed)
    if (text == table_state_text(state, {})) return state;
  throw StatusFormatError("the key 'table_state' has an unknown value '" + text + "'");
}

store::CommitCondition parse_store_state(const std::string& text) {
  constexpr std::array kAll = {store::CommitCondition::kOk, store::CommitCondition::kBusy,
                               store::CommitCondition::kDiskFull, store::CommitCondition::kIoError,
                               store::CommitCondition::kOtherError};
  for (const store::CommitCondition condition : kAll)
    if (text == store::to_string(condition)) return condition;
  throw StatusFormatError("the key 'store_state' has an unknown value '" + text + "'");
}

}  // namespace

std::string table_state_text(TableState state, const std::string& error) {
  switch (state) {
    case TableState::kOk: return "ok";
    case TableState::kMissing: return "missing";
    case TableState::kNoCounters: return "no counters";
    case TableState::kRulesMissing: return "rules missing";
    case TableState::kUnreadable: return std::string(kErrorPrefix) + error;
  }
  return "?";
}

nlohmann::json to_json(const DaemonStatus& s) {
  nlohmann::json j = {
      {"pid", s.pid},
      {"started_ts", seconds(s.started_wall_ns)},
      {"interval_s", s.interval_s},
      {"samples", s.samples},
      {"episodes_opened", s.episodes_opened},
      {"open_episode", s.open_episode},
      {"detector_us_per_sample", s.detector_us_per_sample},
      {"detector_s_total", s.detector_s_total},
      {"learning_until_ts", seconds(s.learning_until_wall_ns)},
      {"table", s.source.table},
      {"table_state", table_state_text(s.source.table_state, s.source.table_error)},
      {"counters", s.source.counters},
      {"missed_ticks", s.source.missed_ticks},
      {"last_sample_ts", seconds(s.source.last_sample_wall_ns)},
      {"read_s_total", s.source.read_s_total},
      {"db", s.store.db},
      {"commit_interval_s", s.store.commit_interval_s},
      {"samples_in_ram", s.store.samples_in_ram},
      {"samples_dropped", s.store.samples_dropped},
      {"store_state", store::to_string(s.store.state)},
  };
  if (s.influx)
    j["influx"] = {{"state", s.influx->state},
                   {"detail", s.influx->detail},
                   {"queued", s.influx->queued},
                   {"last_success_ts", seconds(s.influx->last_success_wall_ns)},
                   {"retry_in_ms", s.influx->retry_in_ms},
                   {"sent_lines", s.influx->sent_lines},
                   {"rejected_lines", s.influx->rejected_lines}};
  if (!s.notifiers.empty()) {
    nlohmann::json notify = nlohmann::json::array();
    for (const NotifierStatus& n : s.notifiers)
      notify.push_back({{"name", n.name},
                        {"target", n.target},
                        {"state", n.state},
                        {"detail", n.detail},
                        {"queued", n.queued},
                        {"delivered", n.delivered},
                        {"failed", n.failed},
                        {"last_success_ts", seconds(n.last_success_wall_ns)},
                        {"last_error_ts", seconds(n.last_error_wall_ns)}});
    j["notify"] = std::move(notify);
  }
  if (s.prometheus)
    j["prometheus"] = {{"listen", s.prometheus->listen},
                       {"scrapes", s.prometheus->scrapes},
                       {"last_scrape_ts", seconds(s.prometheus->last_scrape_wall_ns)},
                       {"last_error", s.prometheus->last_error},
                       {"last_error_ts", seconds(s.prometheus->last_error_wall_ns)}};
  if (s.conntrack) {
    const auto optional = [](const std::optional<std::uint64_t>& value) {
      return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
    };
    j["conntrack"] = {{"state", s.conntrack->state},
                      {"detail", s.conntrack->detail},
                      {"entries", optional(s.conntrack->entries)},
                      {"limit", optional(s.conntrack->limit)},
                      {"drops", s.conntrack->drops},
                      {"readings", s.conntrack->readings},
                      {"failures", s.conntrack->failures},
                      {"read_us", s.conntrack->read_us}};
  }
  if (!s.probes.empty()) {
    nlohmann::json probes = nlohmann::json::array();
    for (const ProbeStatus& p : s.probes)
      probes.push_back({{"target", p.target},
                        {"address", p.address},
                        {"transport", p.transport},
                        {"state", p.state},
                        {"median_rtt_ms", p.median_rtt_ms},
                        {"max_rtt_ms", p.max_rtt_ms},
                        {"jitter_ms", p.jitter_ms},
                        {"loss", p.loss},
                        {"sent", p.sent}});
    j["probes"] = std::move(probes);
  }
  return j;
}

DaemonStatus daemon_status_from_json(const nlohmann::json& j) {
  DaemonStatus s;
  s.pid = get<std::int64_t>(j, "pid");
  s.started_wall_ns = nanoseconds(get<double>(j, "started_ts"));
  s.interval_s = get<double>(j, "interval_s");
  s.samples = get<std::uint64_t>(j, "samples");
  s.episodes_opened = get<std::uint64_t>(j, "episodes_opened");
  s.open_episode = get<bool>(j, "open_episode");
  s.detector_us_per_sample = get<double>(j, "detector_us_per_sample");
  s.detector_s_total = get<double>(j, "detector_s_total");
  if (j.contains("learning_until_ts")) s.learning_until_wall_ns = nanoseconds(get<double>(j, "learning_until_ts"));
  s.source.table = get<std::string>(j, "table");
  s.source.table_state = parse_table_state(get<std::string>(j, "table_state"), s.source.table_error);
  s.source.counters = get<std::uint64_t>(j, "counters");
  s.source.missed_ticks = get<std::uint64_t>(j, "missed_ticks");
  s.source.last_sample_wall_ns = nanoseconds(get<double>(j, "last_sample_ts"));
  s.source.read_s_total = get<double>(j, "read_s_total");
  s.store.db = get<std::string>(j, "db");
  s.store.commit_interval_s = get<double>(j, "commit_interval_s");
  s.store.samples_in_ram = get<std::uint64_t>(j, "samples_in_ram");
  s.store.samples_dropped = get<std::uint64_t>(j, "samples_dropped");
  s.store.state = parse_store_state(get<std::string>(j, "store_state"));
  if (j.contains("influx")) {
    const nlohmann::json& i = j.at("influx");
    InfluxStatus influx;
    influx.state = get<std::string>(i, "state", "influx");
    influx.detail = get<std::string>(i, "detail", "influx");
    influx.queued = get<std::uint64_t>(i, "queued", "influx");
    influx.last_success_wall_ns = nanoseconds(get<double>(i, "last_success_ts", "influx"));
    influx.retry_in_ms = get<std::int64_t>(i, "retry_in_ms", "influx");
    influx.sent_lines = get<std::uint64_t>(i, "sent_lines", "influx");
    influx.rejected_lines = get<std::uint64_t>(i, "rejected_lines", "influx");
    s.influx = influx;
  }
  if (j.contains("notify")) {
    const nlohmann::json& list = j.at("notify");
    if (!list.is_array()) throw StatusFormatError("the key 'notify' has the wrong type");
    for (const nlohmann::json& n : list) {
      NotifierStatus notifier;
      notifier.name = get<std::string>(n, "name", "notify");
      if (n.contains("target")) notifier.target = get<std::string>(n, "target", "notify");
      notifier.state = get<std::string>(n, "state", "notify");
      notifier.detail = get<std::string>(n, "detail", "notify");
      notifier.queued = get<std::uint64_t>(n, "queued", "notify");
      notifier.delivered = get<std::uint64_t>(n, "delivered", "notify");
      notifier.failed = get<std::uint64_t>(n, "failed", "notify");
      notifier.last_success_wall_ns = nanoseconds(get<double>(n, "last_success_ts", "notify"));
      notifier.last_error_wall_ns = nanoseconds(get<double>(n, "last_error_ts", "notify"));
      s.notifiers.push_back(std::move(notifier));
    }
  }
  if (j.contains("prometheus")) {
    const nlohmann::json& p = j.at("prometheus");
    PrometheusStatus prometheus;
    prometheus.listen = get<std::string>(p, "listen", "prometheus");
    prometheus.scrapes = get<std::uint64_t>(p, "scrapes", "prometheus");
    prometheus.last_scrape_wall_ns = nanoseconds(get<double>(p, "last_scrape_ts", "prometheus"));
    prometheus.last_error = get<std::string>(p, "last_error", "prometheus");
    prometheus.last_error_wall_ns = nanoseconds(get<double>(p, "last_error_ts", "prometheus"));
    s.prometheus = std::move(prometheus);
  }
  if (j.contains("conntrack")) {
    const nlohmann::json& c = j.at("conntrack");
    ConntrackStatus conntrack;
    const auto optional = [&c](const char* key) -> std::optional<std::uint64_t> {
      if (member(c, key, "conntrack").is_null()) return std::nullopt;
      return get<std::uint64_t>(c, key, "conntrack");
    };
    conntrack.state = get<std::string>(c, "state", "conntrack");
    conntrack.detail = get<std::string>(c, "detail", "conntrack");
    conntrack.entries = optional("entries");
    conntrack.limit = optional("limit");
    conntrack.drops = get<std::uint64_t>(c, "drops", "conntrack");
    conntrack.readings = get<std::uint64_t>(c, "readings", "conntrack");
    conntrack.failures = get<std::uint64_t>(c, "failures", "conntrack");
    conntrack.read_us = get<double>(c, "read_us", "conntrack");
    s.conntrack = std::move(conntrack);
  }
  if (j.contains("probes")) {
    const nlohmann::json& list = j.at("probes");
    if (!list.is_array()) throw StatusFormatError("the key 'probes' has the wrong type");
    for (const nlohmann::json& p : list) {
      ProbeStatus probe;
      probe.target = get<std::string>(p, "target", "probes");
      probe.address = get<std::string>(p, "address", "probes");
      probe.transport = get<std::string>(p, "transport", "probes");
      probe.state = get<std::string>(p, "state", "probes");
      probe.median_rtt_ms = get<double>(p, "median_rtt_ms", "probes");
      probe.max_rtt_ms = get<double>(p, "max_rtt_ms", "probes");
      probe.jitter_ms = get<double>(p, "jitter_ms", "probes");
      probe.loss = get<double>(p, "loss", "probes");
      probe.sent = get<std::uint64_t>(p, "sent", "probes");
      s.probes.push_back(std::move(probe));
    }
  }
  return s;
}

}  // namespace ctmon::status
