#include "monitor/prometheus/exposition.h"

#include <array>
#include <cmath>
#include <limits>

#include <fmt/core.h>

#include "core/measurement.h"
#include "core/time.h"

namespace ctmon::prometheus {
namespace {

double seconds(std::int64_t ns) { return static_cast<double>(ns) / kNsPerS; }

// One metric family: HELP and TYPE once, then its samples. HELP text escapes only backslash and
// line feed (the format's rule for it); ours are constants without either.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }

  /// `labels` already formatted (`a="x",b="y"`), or empty.
  void sample(std::string_view name, std::string_view labels, double value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += format_value(value);
    out_ += '\n';
  }

  void one(std::string_view name, std::string_view type, std::string_view help, double value) {
    family(name, type, help);
    sample(name, {}, value);
  }

 private:
  std::string& out_;
};

std::string label(std::string_view name, std::string_view value) {
  return fmt::format("{}=\"{}\"", name, escape_label_value(value));
}

constexpr std::array kStoreStates = {store::CommitCondition::kOk, store::CommitCondition::kBusy,
                                     store::CommitCondition::kDiskFull, store::CommitCondition::kIoError,
                                     store::CommitCondition::kOtherError};

// What the influx output reports as a working state: anything else is the name of a failure.
bool influx_up(const std::string& state) { return state == "ok" || state == "idle" || state == "sending"; }

// The nftables counters, as opposed to the measurements that travel as counters beside them
// (docs/measurements.md), which have families of their own below.
bool is_nft_counter(std::string_view name) { return !measurement_label(name); }

// Probes and the conntrack table's health. A mean counter is exactly a Prometheus summary
// without quantiles: _sum and _count, whose rates divide to the mean over any range. Probe
// times go out in seconds, the base unit the conventions ask for.
void measurements(Writer& w, const Snapshot& s) {
  struct ProbeFamily {
    std::string_view metric, family, help;
  };
  static constexpr std::array<ProbeFamily, 4> kProbeTimes = {{
      {"rtt_median_us", "ctmon_probe_rtt_median_seconds", "Median round-trip time of each interval's probes."},
      {"rtt_min_us", "ctmon_probe_rtt_min_seconds", "Lowest round-trip time of each interval's probes."},
      {"rtt_max_us", "ctmon_probe_rtt_max_seconds", "Highest round-trip time of each interval's probes."},
      {"jitter_us", "ctmon_probe_jitter_seconds", "Absolute difference between successive probes' round-trip times."},
  }};
  auto probe_labels = [](const ProbeCounterName& p) {
    return label("side", to_string(p.side)) + "," + label("target", p.target.empty() ? to_string(p.side) : p.target);
  };
  for (const ProbeFamily& f : kProbeTimes) {
    bool any = false;
    for (const CounterValue& c : s.counters) {
      const std::optional<ProbeCounterName> p = parse_probe_counter_name(c.name);
      if (!p || p->metric != f.metric) continue;
      if (!std::exchange(any, true)) w.family(f.family, "summary", f.help);
      w.sample(fmt::format("{}_sum", f.family), probe_labels(*p), static_cast<double>(c.totals.bytes) / 1e6);
      w.sample(fmt::format("{}_count", f.family), probe_labels(*p), static_cast<double>(c.totals.packets));
    }
  }
  // The loss counter's count is the probes sent and its sum the probes lost: two counters.
  for (const bool lost : {false, true}) {
    bool any = false;
    for (const CounterValue& c : s.counters) {
      const std::optional<ProbeCounterName> p = parse_probe_counter_name(c.name);
      if (!p || p->metric != "loss") continue;
      const std::string_view family = lost ? "ctmon_probe_lost_total" : "ctmon_probe_sent_total";
      if (!std::exchange(any, true))
        w.family(family, "counter", lost ? "Probes to each target that got no answer in time." : "Probes sent to each target.");
      w.sample(family, probe_labels(*p), static_cast<double>(lost ? c.totals.bytes : c.totals.packets));
    }
  }
  bool any_stat = false;
  constexpr std::string_view kStatPrefix = "conntrack_stat_";
  for (const CounterValue& c : s.counters) {
    if (c.name == "conntrack_entries" || c.name == "conntrack_limit") {
      const std::string family = "ctmon_" + c.name;
      w.family(family, "summary",
               c.name == "conntrack_entries" ? "Entries in the conntrack table, summed over the readings."
                                             : "The conntrack table's limit (nf_conntrack_max), summed over the readings.");
      w.sample(family + "_sum", {}, static_cast<double>(c.totals.bytes));
      w.sample(family + "_count", {}, static_cast<double>(c.totals.packets));
    } else if (std::string_view(c.name).starts_with(kStatPrefix)) {
      if (!std::exchange(any_stat, true))
        w.family("ctmon_conntrack_stat_total", "counter",
                 "The kernel's conntrack statistics (conntrack -S), summed over the CPUs.");
      w.sample("ctmon_conntrack_stat_total", label("stat", std::string_view(c.name).substr(kStatPrefix.size())),
               static_cast<double>(c.totals.packets));
    }
  }
}

void counters(Writer& w, const Snapshot& s) {
  // "ip:conntrack_stats": the family and the table are separate labels, so that one query can
  // sum over both families of a dual-stack router.
  const std::string& table = s.status.source.table;
  const std::size_t colon = table.find(':');
  const std::string where =
      label("family", colon == std::string::npos ? "" : table.substr(0, colon)) + "," +
      label("table", colon == std::string::npos ? table : table.substr(colon + 1)) + ",";
  w.family("ctmon_conntrack_packets_total", "counter",
           "Packets counted by each nftables counter of the conntrack table, as last sampled.");
  for (const CounterValue& c : s.counters)
    if (is_nft_counter(c.name))
      w.sample("ctmon_conntrack_packets_total", where + label("counter", c.name),
               static_cast<double>(c.totals.packets));
  w.family("ctmon_conntrack_bytes_total", "counter",
           "Bytes counted by each nftables counter of the conntrack table, as last sampled.");
  for (const CounterValue& c : s.counters)
    if (is_nft_counter(c.name))
      w.sample("ctmon_conntrack_bytes_total", where + label("counter", c.name),
               static_cast<double>(c.totals.bytes));
  w.one("ctmon_table_ok", "gauge",
        "1 when the last reading of the counter table succeeded with rules feeding it, else 0.",
        s.status.source.table_state == status::TableState::kOk ? 1 : 0);
}

void sampling(Writer& w, const Snapshot& s) {
  const status::DaemonStatus& d = s.status;
  w.one("ctmon_samples_total", "counter", "Samples taken and fed to the detectors since the daemon started.",
        static_cast<double>(d.samples));
  w.one("ctmon_missed_ticks_total", "counter",
        "Sampling ticks skipped because sampling fell behind, since the daemon started.",
        static_cast<double>(d.source.missed_ticks));
  // A summary without quantiles: its _sum and _count give the exact mean over any range
  // (rate(_sum) / rate(_count)), where a gauge would show one sample out of every scrape's dozen.
  w.family("ctmon_sample_duration_seconds", "summary",
           "Time spent per sample reading the counters and running the detectors.");
  w.sample("ctmon_sample_duration_seconds_sum", {}, d.source.read_s_total + d.detector_s_total);
  w.sample("ctmon_sample_duration_seconds_count", {}, static_cast<double>(d.samples));
  w.one("ctmon_sampling_interval_seconds", "gauge", "The sampling interval in force.", d.interval_s);
  w.one("ctmon_last_sample_timestamp_seconds", "gauge", "Unix time of the last sample; 0 before the first.",
        seconds(d.source.last_sample_wall_ns));
  w.one("ctmon_start_time_seconds", "gauge", "Unix time at which the daemon started.",
        seconds(d.started_wall_ns));
}

void episodes(Writer& w, const Snapshot& s) {
  w.one("ctmon_episode_open", "gauge", "1 while a jitter episode is open, else 0.", s.status.open_episode ? 1 : 0);
  w.family("ctmon_episodes_total", "counter", "Episodes opened since the daemon started, by kind when opened.");
  for (std::size_t k = 0; k < s.episodes.size(); ++k)
    w.sample("ctmon_episodes_total", label("kind", to_string(static_cast<EpisodeKind>(k))),
             static_cast<double>(s.episodes[k]));
}

void store(Writer& w, const Snapshot& s) {
  const status::StoreStatus& st = s.status.store;
  w.family("ctmon_store_state", "gauge",
           "1 for the outcome of the last commit to the database (ok, or why it failed), 0 for the others.");
  for (const store::CommitCondition condition : kStoreStates)
    w.sample("ctmon_store_state", label("state", store::to_string(condition)), condition == st.state ? 1 : 0);
  w.one("ctmon_store_samples_in_ram", "gauge", "Samples taken but not yet committed to the database.",
        static_cast<double>(st.samples_in_ram));
  w.one("ctmon_store_samples_dropped_total", "counter",
        "Samples lost to the RAM bound while commits failed, since the daemon started.",
        static_cast<double>(st.samples_dropped));
}

void influx(Writer& w, const Snapshot& s) {
  if (!s.status.influx) return;
  const status::InfluxStatus& i = *s.status.influx;
  w.one("ctmon_influx_up", "gauge", "1 when forwarding to InfluxDB works (or has nothing to send), 0 after a failure.",
        influx_up(i.state) ? 1 : 0);
  w.one("ctmon_influx_queued_lines", "gauge", "Lines in the InfluxDB outbox, waiting to be sent.",
        static_cast<double>(i.queued));
  w.one("ctmon_influx_sent_lines_total", "counter", "Lines InfluxDB accepted since the daemon started.",
        static_cast<double>(i.sent_lines));
  w.one("ctmon_influx_rejected_lines_total", "counter",
        "Lines InfluxDB refused (set aside, never retried) since the daemon started.",
        static_cast<double>(i.rejected_lines));
  w.one("ctmon_influx_last_success_timestamp_seconds", "gauge", "Unix time of the last accepted write; 0: never.",
        seconds(i.last_success_wall_ns));
}

void notifiers(Writer& w, const Snapshot& s) {
  if (s.status.notifiers.empty()) return;
  w.family("ctmon_notifications_delivered_total", "counter",
           "Notifications delivered since the daemon started, by notification output.");
  for (const status::NotifierStatus& n : s.status.notifiers)
    w.sample("ctmon_notifications_delivered_total", label("output", n.name), static_cast<double>(n.delivered));
  w.family("ctmon_notifications_failed_total", "counter",
           "Failed notification attempts since the daemon started, by notification output.");
  for (const status::NotifierStatus& n : s.status.notifiers)
    w.sample("ctmon_notifications_failed_total", label("output", n.name), static_cast<double>(n.failed));
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
  if (value == std::floor(value) && std::fabs(value) <= kExactIntegers)
    return fmt::format("{}", static_cast<std::int64_t>(value));
  return fmt::format("{}", value);  // the shortest text that reads back the same double
}

std::string render_metrics(const Snapshot& snapshot) {
  std::string out;
  out.reserve(4096 + snapshot.counters.size() * 256);
  Writer w(out);
  w.family("ctmon_build_info", "gauge", "Always 1; the labels say which ctmon answers.");
  w.sample("ctmon_build_info", label("version", snapshot.version), 1);
  counters(w, snapshot);
  measurements(w, snapshot);
  sampling(w, snapshot);
  episodes(w, snapshot);
  store(w, snapshot);
  influx(w, snapshot);
  notifiers(w, snapshot);
  if (snapshot.status.prometheus)
    w.one("ctmon_prometheus_scrapes_total", "counter", "Scrapes of /metrics answered, this one included.",
          static_cast<double>(snapshot.status.prometheus->scrapes));
  return out;
}

}  // namespace ctmon::prometheus
