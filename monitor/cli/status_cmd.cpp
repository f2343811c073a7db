// ctmon status: is the daemon alive and sampling, what the database holds, and what needs a
// look. The exit code is the health check: 0 healthy (warnings allowed), 1 unhealthy (daemon not
// running, last sample stale, table missing or failing, store failing, database unreadable).
#include <sys/statvfs.h>
#include <sys/timex.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "core/time.h"
#include "monitor/cli/commands.h"
#include "monitor/cli/config_flags.h"
#include "monitor/cli/event_table.h"
#include "monitor/cli/sampling_facts.h"
#include "monitor/cli/terminal.h"
#include "monitor/cli/time_arg.h"
#include "monitor/clock.h"
#include "monitor/status/daemon_status.h"
#include "monitor/status/status_socket.h"
#include "monitor/store/database.h"
#include "monitor/store/event_store.h"
#include "monitor/store/meta_store.h"
#include "monitor/store/sample_reader.h"
#include "monitor/store/sqlite_handle.h"
#include "monitor/user_error.h"

namespace ctmon::cli {
namespace {

// A last sample older than this many intervals means the loop is stuck (the rate tracker's gap
// rule uses the same 3).
constexpr double kStaleIntervals = 3.0;
// Samples in RAM beyond this many commit intervals' worth mean commits keep failing.
constexpr double kRamBacklogCommits = 2.0;
constexpr double kDiskLowFraction = 0.05;
// A wall clock before this is a router that booted without RTC and has not synced yet.
constexpr std::int64_t kPlausibleWallClock_s = 1704067200;  // 2024-01-01T00:00:00Z

struct StatusOptions {
  bool json = false;
};


std::int64_t local_midnight_ns(std::int64_t now_ns) { return parse_time_arg("today", "today", now_ns); }

std::string format_bytes(double bytes) {
  if (bytes >= 1024.0 * 1024 * 1024) return fmt::format("{:.1f} GiB", bytes / (1024.0 * 1024 * 1024));
  if (bytes >= 1024.0 * 1024) return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024));
  if (bytes >= 1024.0) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.0f} B", bytes);
}

nlohmann::json optional_json(const auto& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// Everything `status` found out; printed as text or JSON.
struct Report {
  std::vector<std::string> problems;  // make the exit code non-zero
  std::vector<std::string> warnings;
  nlohmann::json daemon = nlohmann::json::object();
  nlohmann::json database = nlohmann::json::object();
  nlohmann::json influx = nlohmann::json::object();
  nlohmann::json notify = nlohmann::json::array();
  nlohmann::json prometheus = nlohmann::json::object();
  nlohmann::json conntrack = nlohmann::json::object();
  nlohmann::json probes = nlohmann::json::array();
  std::vector<std::pair<std::string, std::string>> lines;  // label, text
};

// How long `status` waits for the daemon's answer: far longer than serving takes (microseconds),
// shorter than a person's patience. A daemon that does not answer in time is stuck or stopped.
constexpr std::int64_t kAnswerTimeout_ms = 3000;

// Whether episodes can open yet: a fresh daemon learns the router's traffic first, and a
// person looking at an empty `ctmon events` needs to know that it is not broken.
std::string detectors_line(const status::DaemonStatus& status) {
  if (status.learning_until_wall_ns != 0)
    return fmt::format("learning until {}: no episodes before then",
                       format_local_time(status.learning_until_wall_ns, "%H:%M"));
  return fmt::format("detecting, {} episode(s) opened since start{}", status.episodes_opened,
                     status.open_episode ? ", one open now" : "");
}

void check_daemon(const Config& config, const status::DaemonContact& contact, std::int64_t now, Report& r) {
  const std::optional<status::DaemonStatus>& status = contact.status;
  const bool running = contact.alive;
  nlohmann::json& d = r.daemon;
  d["status_file"] = config.status_file;
  d["socket"] = contact.socket_path;
  d["running"] = running;
  d["pid"] = optional_json(contact.pid);
  d["started"] = status ? nlohmann::json(rfc3339_utc(status->started_wall_ns)) : nlohmann::json(nullptr);
  d["interval_s"] = status ? nlohmann::json(status->interval_s) : nlohmann::json(nullptr);
  const bool sampled = status && status->source.last_sample_wall_ns > 0;
  d["last_sample"] = sampled ? nlohmann::json(rfc3339_utc(status->source.last_sample_wall_ns)) : nlohmann::json(nullptr);
  std::optional<double> age_s;
  if (sampled) age_s = static_cast<double>(now - status->source.last_sample_wall_ns) / 1e9;
  d["last_sample_age_s"] = age_s ? nlohmann::json(std::round(*age_s * 10) / 10) : nlohmann::json(nullptr);
  d["table"] = status ? nlohmann::json(status->source.table) : nlohmann::json(nullptr);
  d["table_state"] = status ? nlohmann::json(status::table_state_text(status->source.table_state, status->source.table_error))
                            : nlohmann::json(nullptr);
  d["store_state"] = status ? nlohmann::json(store::to_string(status->store.state)) : nlohmann::json(nullptr);
  const auto number = [&](auto member) { return status ? nlohmann::json(member(*status)) : nlohmann::json(nullptr); };
  d["counters"] = number([](const auto& s) { return s.source.counters; });
  d["samples"] = number([](const auto& s) { return s.samples; });
  d["missed_ticks"] = number([](const auto& s) { return s.source.missed_ticks; });
  d["samples_in_ram"] = number([](const auto& s) { return s.store.samples_in_ram; });
  d["samples_dropped"] = number([](const auto& s) { return s.store.samples_dropped; });
  d["episodes_opened"] = number([](const auto& s) { return s.episodes_opened; });
  d["open_episode"] = number([](const auto& s) { return s.open_episode; });
  d["detector_us_per_sample"] = number([](const auto& s) { return s.detector_us_per_sample; });
  // The mean netlink reading, beside the detectors' mean: what a sample costs, in two parts.
  d["reading_us_per_sample"] = number([](const auto& s) {
    return s.samples == 0 ? 0.0 : std::round(s.source.read_s_total / static_cast<double>(s.samples) * 1e8) / 100.0;
  });
  d["db"] = status ? nlohmann::json(status->store.db) : nlohmann::json(nullptr);
  d["learning_until"] = status && status->learning_until_wall_ns != 0
                            ? nlohmann::json(rfc3339_utc(status->learning_until_wall_ns))
                            : nlohmann::json(nullptr);

  if (!contact.pid_file_present && !status) {
    if (contact.outcome == status::Answer::Outcome::kDenied) {
      r.problems.push_back(contact.error);
      r.lines.emplace_back("daemon", "unknown (" + contact.error + ")");
      return;
    }
    r.problems.push_back(fmt::format("daemon not running: no status file at {} (start it: "
                                     "'systemctl start ctmon' or '/etc/init.d/ctmon start')",
                                     config.status_file));
    r.lines.emplace_back("daemon", "not running (no status file at " + config.status_file + ")");
    return;
  }
  if (!running) {
    r.problems.push_back(fmt::format("daemon not running: pid {} from {} is gone", contact.pid.value_or(0),
                                     config.status_file));
    r.lines.emplace_back("daemon", fmt::format("not running (pid {} is gone)", contact.pid.value_or(0)));
    return;
  }
  if (!status) {
    // Alive but silent: stuck or stopped, without a socket (a daemon older than this ctmon, or
    // one that could not create it), or answering nonsense.
    std::string why;
    switch (contact.outcome) {
      case status::Answer::Outcome::kNoAnswer:
        why = fmt::format("daemon (pid {}) does not answer: {} (stuck, or stopped?)", *contact.pid, contact.error);
        break;
      case status::Answer::Outcome::kDenied: why = contact.error; break;
      case status::Answer::Outcome::kAbsent:
        why = fmt::format("daemon (pid {}) runs but has no status socket at {} (see its log; a daemon older "
                          "than this ctmon has none: restart it)", *contact.pid, contact.socket_path);
        break;
      case status::Answer::Outcome::kAnswered: why = contact.error; break;
    }
    r.problems.push_back(why);
    r.lines.emplace_back("daemon", fmt::format("running, pid {}, not answering", *contact.pid));
    return;
  }
  r.lines.emplace_back("daemon", fmt::format("running, pid {}, started {}", *contact.pid, rfc3339_utc(status->started_wall_ns)));
  const double interval = status->interval_s;
  if (age_s) {
    std::string text = fmt::format("{} ago", format_duration_brief(static_cast<std::int64_t>(std::max(0.0, *age_s) * 1e9)));
    text += fmt::format(" (sampling every {})", format_interval(interval));
    r.lines.emplace_back("last sample", text);
    if (interval > 0 && *age_s > kStaleIntervals * interval)
      r.problems.push_back(fmt::format("last sample is stale: {:.0f} s old, more than {:g} intervals of {}",
                                       *age_s, kStaleIntervals, format_interval(interval)));
  } else {
    r.lines.emplace_back("last sample", "none yet");
  }
  r.lines.emplace_back("detectors", detectors_line(*status));
  const std::string& table = status->source.table;
  const std::string table_state = status::table_state_text(status->source.table_state, status->source.table_error);
  r.lines.emplace_back("table", fmt::format("{}: {}, {} counters", table, table_state, status->source.counters));
  switch (status->source.table_state) {
    case status::TableState::kOk: break;
    case status::TableState::kMissing:
      r.problems.push_back(fmt::format("table {} is missing: 'ctmon rules install' loads it", table));
      break;
    case status::TableState::kRulesMissing:
      r.problems.push_back(fmt::format("table {} has its counters but not all its rules (nft flush table?): the "
                                       "counters are frozen; 'ctmon rules install' restores the rules",
                                       table));
      break;
    case status::TableState::kNoCounters:
    case status::TableState::kUnreadable:
      r.problems.push_back(fmt::format("table {}: {}", table, table_state));
      break;
  }
  const std::string store_state = store::to_string(status->store.state);
  const std::uint64_t in_ram = status->store.samples_in_ram;
  const std::uint64_t dropped = status->store.samples_dropped;
  const double commit = status->store.commit_interval_s;
  r.lines.emplace_back("samples", fmt::format("{} taken, {} missed ticks, {} in RAM (committed every {}), {} dropped; store {}",
                                              status->samples, status->source.missed_ticks, in_ram,
                                              format_interval(commit), dropped, store_state));
  if (status->store.state != store::CommitCondition::kOk)
    r.problems.push_back("the daemon cannot store samples: " + store_state);
  if (interval > 0 && static_cast<double>(in_ram) > kRamBacklogCommits * commit / interval)
    r.warnings.push_back(fmt::format("{} samples wait in RAM, more than {:g} commit intervals' worth: commits are failing",
                                     in_ram, kRamBacklogCommits));
  if (dropped > 0) r.warnings.push_back(fmt::format("{} samples were dropped (RAM buffer full while the store failed)", dropped));
  std::error_code error;
  if (!std::filesystem::equivalent(status->store.db, config.db, error))
    r.warnings.push_back(fmt::format("the daemon writes {}, not {} (use --db or --config to match)", status->store.db, config.db));
}

void check_database(const Config& config, std::int64_t now, Report& r) {
  nlohmann::json& d = r.database;
  d["path"] = config.db;
  std::optional<store::Database> db;
  try {
    db.emplace(store::Database::open(config.db, store::reader_options()));
  } catch (const UserError& e) {
    r.problems.push_back(std::string("database: ") + e.what());
    r.lines.emplace_back("database", std::string("unreadable: ") + e.what());
    return;
  }
  try {
    const std::int64_t midnight = local_midnight_ns(now);
    const store::StoreStats stats = store::store_stats(*db, midnight);
    const store::SampleExtent extent = store::SampleReader(*db).extent();
    store::EventFilter today;
    today.since_wall_ns = midnight;
    const std::vector<store::EventRecord> events = store::EventStore(*db).list(today);
    const auto open = std::count_if(events.begin(), events.end(), [](const auto& e) { return !e.end_wall_ns; });
    d["size_bytes"] = stats.db_file_bytes;
    d["wal_bytes"] = stats.wal_file_bytes;
    d["raw_oldest"] = extent.oldest_raw_wall_ns ? nlohmann::json(rfc3339_utc(*extent.oldest_raw_wall_ns)) : nlohmann::json(nullptr);
    d["raw_newest"] = extent.newest_raw_wall_ns ? nlohmann::json(rfc3339_utc(*extent.newest_raw_wall_ns)) : nlohmann::json(nullptr);
    d["rollup_oldest"] = extent.oldest_rollup_wall_ns ? nlohmann::json(rfc3339_utc(*extent.oldest_rollup_wall_ns)) : nlohmann::json(nullptr);
    d["retention_raw_s"] = config.retention_raw_s;
    d["retention_rollup_s"] = config.retention_rollup_s;
    d["bytes_written_today"] = optional_json(stats.bytes_written_since);
    d["episodes_today"] = events.size();
    d["episodes_total"] = stats.events;
    r.lines.emplace_back("database", fmt::format("{}, {} (+ {} WAL)", config.db, format_bytes(static_cast<double>(stats.db_file_bytes)),
                                                 format_bytes(static_cast<double>(stats.wal_file_bytes))));
    std::string held = "no samples stored yet";
    if (extent.oldest_raw_wall_ns && extent.newest_raw_wall_ns)
      held = fmt::format("raw {} .. {} ({} of {} kept)", format_local_time(*extent.oldest_raw_wall_ns),
                         format_local_time(*extent.newest_raw_wall_ns),
                         format_duration_brief(*extent.newest_raw_wall_ns - *extent.oldest_raw_wall_ns),
                         format_duration_exact(config.retention_raw_s));
    if (extent.oldest_rollup_wall_ns)
      held += fmt::format("; minute rollups from {} ({} kept)", format_local_time(*extent.oldest_rollup_wall_ns),
                          format_duration_exact(config.retention_rollup_s));
    r.lines.emplace_back("holds", held);
    r.lines.emplace_back("written today", stats.bytes_written_since
                                              ? format_bytes(static_cast<double>(*stats.bytes_written_since))
                                              : std::string("nothing committed yet today"));
    r.lines.emplace_back("episodes today", fmt::format("{}{} ({} in all; 'ctmon events' lists them)", events.size(),
                                                       open > 0 ? fmt::format(", {} open", open) : "", stats.events));
  } catch (const store::SqliteError& e) {
    try {
      store::rethrow_as_user_error(config.db, e);
    } catch (const UserError& u) {
      r.problems.push_back(std::string("database: ") + u.what());
      r.lines.emplace_back("database", std::string("unreadable: ") + u.what());
    }
  }
  // Disk space where the database lives: SQLite needs room for the WAL to commit at all.
  const std::filesystem::path folder = std::filesystem::absolute(config.db).parent_path();
  if (struct statvfs fs{}; statvfs(folder.c_str(), &fs) == 0 && fs.f_blocks > 0) {
    const double free_fraction = static_cast<double>(fs.f_bavail) / static_cast<double>(fs.f_blocks);
    d["disk_free_bytes"] = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (free_fraction < kDiskLowFraction)
      r.warnings.push_back(fmt::format("disk almost full: {:.1f}% free ({}) on {}", free_fraction * 100,
                                       format_bytes(static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize)),
                                       folder.string()));
  }
}

void check_clock(std::int64_t now, Report& r) {
  if (now / kNsPerS < kPlausibleWallClock_s)
    r.warnings.push_back(fmt::format("the wall clock says {}: not set yet (no RTC, no NTP sync); episode times are wrong",
                                     rfc3339_utc(now)));
  timex tx{};
  // modes = 0 only reads; the kernel reports TIME_ERROR while its clock is unsynchronised.
  if (adjtimex(&tx) == TIME_ERROR)
    r.warnings.push_back("the clock is not synchronised (adjtimex reports TIME_ERROR): episode times may be off; "
                         "check NTP (sysntpd, systemd-timesyncd, chrony)");
}

// 65536 as "65,536": table sizes are read at a glance.
std::string with_thousands(std::uint64_t value) {
  std::string digits = std::to_string(value);
  for (std::size_t k = digits.size(); k > 3; k -= 3) digits.insert(k - 3, ",");
  return digits;
}

// A conntrack table this full drops new connections soon (the kernel drops at 100 %).
constexpr double kConntrackFullFraction = 0.9;

// Conntrack table health as the running daemon reads it. Trouble reading it is a warning: the
// counters are sampled whatever it does.
void check_conntrack(const std::optional<status::DaemonStatus>& status, Report& r) {
  if (!status || !status->conntrack) {
    r.conntrack["state"] = "off";
    return;
  }
  const status::ConntrackStatus& c = *status->conntrack;
  r.conntrack = status::to_json(*status).at("conntrack");
  if (c.state != "ok") {
    r.lines.emplace_back("conntrack", c.state == "waiting" ? "no reading yet" : c.state);
    if (!c.detail.empty()) r.warnings.push_back(c.detail);
    return;
  }
  std::string fill = c.entries ? with_thousands(*c.entries) : "? (not reported)";
  if (c.limit) fill += " of " + with_thousands(*c.limit);
  fill += " entries";
  if (c.entries && c.limit && *c.limit > 0) {
    const double fraction = static_cast<double>(*c.entries) / static_cast<double>(*c.limit);
    fill += fmt::format(" ({:.1f} %)", fraction * 100);
    if (fraction >= kConntrackFullFraction)
      r.warnings.push_back(fmt::format("the conntrack table is {:.0f} % full: at 100 % the kernel drops new "
                                       "connections; raise net.netfilter.nf_conntrack_max",
                                       fraction * 100));
  }
  r.lines.emplace_back("conntrack", fmt::format("{}, {} drop{} since start, {:.0f} us per reading", fill,
                                                with_thousands(c.drops), c.drops == 1 ? "" : "s", c.read_us));
  if (c.drops > 0)
    r.warnings.push_back(fmt::format("the kernel dropped {} packet(s) or connection(s) for want of room in the "
                                     "conntrack table since ctmon started (conntrack -S: drop, early_drop)",
                                     with_thousands(c.drops)));
}

// A "last success" time as the report prints it; 0 means it never happened.
std::string when_or_never(std::int64_t wall_ns) { return wall_ns > 0 ? format_local_time(wall_ns) : "never"; }

// InfluxDB forwarding as the running daemon's sender reports it (the daemon may have been given
// --influx-url on its command line, which this command cannot see).
void check_influx(const Config& config, const std::optional<status::DaemonStatus>& status, Report& r) {
  r.influx["url"] = config.influx.url.empty() ? nlohmann::json(nullptr) : nlohmann::json(redact_url(config.influx.url));
  const bool reported = status && status->influx;
  if (!reported && config.influx.url.empty()) {
    r.influx["state"] = "off";
    r.lines.emplace_back("InfluxDB", "forwarding: off");
    return;
  }
  if (!reported) {
    r.influx["state"] = "unknown";
    r.lines.emplace_back("InfluxDB", "forwarding configured; the daemon reports no sender state");
    return;
  }
  // The outbox keeps every point while InfluxDB fails: a warning, not ill health.
  const status::InfluxStatus& influx = *status->influx;
  r.influx = status::to_json(*status).at("influx");
  r.lines.emplace_back("InfluxDB", fmt::format("{}, {} lines queued, last success {}", influx.state, influx.queued,
                                               when_or_never(influx.last_success_wall_ns)));
  if (influx.state != "ok" && influx.state != "idle" && influx.state != "sending")
    r.warnings.push_back(fmt::format("InfluxDB: {}", influx.detail.empty() ? influx.state : influx.detail));
  if (influx.rejected_lines > 0)
    r.warnings.push_back(fmt::format("InfluxDB refused {} line(s); they are set aside in {}.influx-rejected",
                                     influx.rejected_lines, config.db));
}

// Notifications as the running daemon reports them. A failing hook is a warning: the episode is
// recorded whatever the hook does.
void check_notify(const Config& config, const std::optional<status::DaemonStatus>& status, Report& r) {
  if (status && !status->notifiers.empty()) r.notify = status::to_json(*status).at("notify");
  if (!status || status->notifiers.empty()) {
    if (!config.notify.exec.empty())
      r.lines.emplace_back("Notify", "exec hook configured; the daemon reports no notifier");
    if (!config.notify.url.empty())
      r.lines.emplace_back("Notify", "webhook configured; the daemon reports no notifier");
    if (!config.mqtt.url.empty())
      r.lines.emplace_back("MQTT", "broker configured; the daemon reports no MQTT state");
    return;
  }
  for (const status::NotifierStatus& n : status->notifiers) {
    // MQTT has its own line: it is a connection (to a broker shown here), not a run per episode.
    if (n.name == "mqtt")
      r.lines.emplace_back("MQTT", fmt::format("{} ({}), {} published, {} queued, last ack {}", n.state, n.target,
                                               n.delivered, n.queued, when_or_never(n.last_success_wall_ns)));
    else
      // The webhook names its URL (redacted by the daemon): the owner sees where it posts.
      r.lines.emplace_back("Notify", fmt::format("{}: {}, {} delivered, {} failed, {} queued, last success {}{}", n.name,
                                                 n.state, n.delivered, n.failed, n.queued,
                                                 when_or_never(n.last_success_wall_ns),
                                                 n.name == "webhook" ? fmt::format(" ({})", n.target) : ""));
    if (!n.detail.empty()) r.warnings.push_back(fmt::format("notify {}: {}", n.name, n.detail));
  }
}

// The Prometheus endpoint as the running daemon reports it. A failure to serve is a warning:
// sampling goes on whatever a scraper does.
void check_prometheus(const Config& config, const std::optional<status::DaemonStatus>& status, Report& r) {
  if (!status || !status->prometheus) {
    r.prometheus["state"] = config.prometheus_listen.empty() ? "off" : "unknown";
    r.lines.emplace_back("Prometheus", config.prometheus_listen.empty()
                                           ? "off"
                                           : "configured; the daemon reports no endpoint");
    return;
  }
  const status::PrometheusStatus& p = *status->prometheus;
  r.prometheus = status::to_json(*status).at("prometheus");
  r.prometheus["state"] = "on";
  r.lines.emplace_back("Prometheus", fmt::format("http://{}/metrics, {} scrape(s), last {}", p.listen, p.scrapes,
                                                 when_or_never(p.last_scrape_wall_ns)));
  // A scrape answered since the last error means it passed (a burst of clients, say).
  if (!p.last_error.empty() && p.last_error_wall_ns >= p.last_scrape_wall_ns)
    r.warnings.push_back(fmt::format("Prometheus endpoint at {}: {}", when_or_never(p.last_error_wall_ns), p.last_error));
  else if (!p.last_error.empty())
    r.lines.emplace_back("", fmt::format("last error {}: {}", when_or_never(p.last_error_wall_ns), p.last_error));
}

// The probe targets as the running daemon reports them: one line for all, "wan 192.0.2.1 icmp
// 12.3 ms median, 0 % loss; lan ...". An unreachable target is a warning: it is measured (loss 1).
void check_probes(const std::optional<status::DaemonStatus>& status, Report& r) {
  if (!status || status->probes.empty()) return;
  r.probes = status::to_json(*status).at("probes");
  std::string line;
  for (const status::ProbeStatus& p : status->probes) {
    line += fmt::format("{}{} {} {}", line.empty() ? "" : "; ", p.target, p.address, p.transport);
    if (p.median_rtt_ms >= 0) line += fmt::format(" {:.1f} ms median", p.median_rtt_ms);
    line += fmt::format(", {:.0f} % loss", p.loss * 100);
    if (p.state == "unreachable")
      r.warnings.push_back(fmt::format("probe {} {}: no answer", p.target, p.address));
  }
  r.lines.emplace_back("Probes", line);
}

void run_status(const Config& config, const StatusOptions& o) {
  const std::int64_t now = now_wall_ns();
  Report r;
  const status::DaemonContact contact = status::contact_daemon(config.status_file, kAnswerTimeout_ms);
  check_daemon(config, contact, now, r);
  check_conntrack(contact.status, r);
  check_database(config, now, r);
  check_influx(config, contact.status, r);
  check_notify(config, contact.status, r);
  check_prometheus(config, contact.status, r);
  check_probes(contact.status, r);
  check_clock(now, r);
  const bool healthy = r.problems.empty();
  if (o.json) {
    const nlohmann::json out = {{"healthy", healthy}, {"problems", r.problems}, {"warnings", r.warnings},
                                {"daemon", r.daemon}, {"database", r.database}, {"influx", r.influx},
                                {"notify", r.notify}, {"prometheus", r.prometheus}, {"conntrack", r.conntrack},
                                {"probes", r.probes}};
    fmt::print("{}\n", out.dump());
  } else {
    const Terminal term = detect_terminal();
    std::string text = healthy ? paint("healthy", "32", term.colour) : paint("UNHEALTHY", "1;31", term.colour);
    std::string out = fmt::format("ctmon: {}\n", text);
    for (const auto& [label, value] : r.lines) out += fmt::format("  {:<15}{}\n", label, value);
    const char* bullet = term.utf8 ? "\u2022" : "-";
    for (const auto& p : r.problems) out += fmt::format("{} {} {}\n", paint("problem:", "1;31", term.colour), bullet, p);
    for (const auto& w : r.warnings) out += fmt::format("{} {} {}\n", paint("warning:", "33", term.colour), bullet, w);
    fmt::print("{}", fit_width(out, out.size(), term.utf8));
  }
  std::fflush(stdout);
  if (!healthy)
    throw UserError(fmt::format("unhealthy: {}{}", r.problems.front(),
                                r.problems.size() > 1 ? fmt::format(" (and {} more)", r.problems.size() - 1) : ""));
}

}  // namespace

void add_status_command(CLI::App& app) {
  auto options = std::make_shared<StatusOptions>();
  CLI::App* cmd = app.add_subcommand(
      "status",
      "Is the daemon alive and sampling (last sample age against the interval), what the database\n"
      "holds, bytes written to flash today, episodes today, InfluxDB forwarding, notifications, the\n"
      "Prometheus endpoint, the conntrack table's fill and drops, and warnings\n"
      "(table missing, clock not synchronised, disk almost full).\n"
      "Exit code 0 when healthy, 1 when not (daemon not running, last sample older than 3\n"
      "intervals, table missing, store failing): usable as a health check.");
  auto flags = std::make_shared<ConfigFlags>(cmd, ConfigScope::kDatabase);
  cmd->add_flag("--json", options->json, "one JSON object: healthy, problems, warnings, daemon, database, influx, notify, prometheus, conntrack, probes");
  cmd->callback([flags, options] { run_status(flags->resolve(), *options); });
}

}  // namespace ctmon::cli
