#include "monitor/config/config_keys.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>

#include <fmt/core.h>
#include <toml++/toml.h>

#include "core/time.h"
#include "monitor/probe/probe_target.h"

namespace ctmon {
namespace {

constexpr double kMinute_s = 60;
constexpr double kHour_s = 3600;
constexpr double kDay_s = 86400;

template <class T>
constexpr ConfigMember<T> top(T Config::*member) {
  return {.top = member};
}
template <class T>
constexpr ConfigMember<T> influx(T InfluxConfig::*member) {
  return {.influx = member};
}
template <class T>
constexpr ConfigMember<T> notify(T NotifyConfig::*member) {
  return {.notify = member};
}
template <class T>
constexpr ConfigMember<T> mqtt(T MqttConfig::*member) {
  return {.mqtt = member};
}
template <class T>
constexpr ConfigMember<T> probe(T ProbeConfig::*member) {
  return {.probe = member};
}

constexpr std::array kInfluxApis = {
    ConfigChoice{"v1", "InfluxDB 1.x /write"},
    ConfigChoice{"v2", "InfluxDB 2.x /api/v2/write"},
};

constexpr std::array kNotifyFormats = {
    ConfigChoice{"auto", "ntfy when the host is ntfy.sh, else json"},
    ConfigChoice{"json", "the episode's events JSON line"},
    ConfigChoice{"ntfy", "ntfy's plain text with Title, Priority and Tags headers"},
};

constexpr unsigned kRunAndReaders = kFlagOfRun | kFlagOfReaders;
constexpr unsigned kRunAndReplay = kFlagOfRun | kFlagOfReplay;

// The limits, with the reason each exists:
// - interval: below 50 ms the kernel dump itself dominates a core; above 30 s sampling misses the
//   seconds-long stutters ctmon is for. Under 1 s is for tests and benchmarks.
// - commit_interval: an hour of samples is the most a power cut may lose.
// - retention_raw: at least 10 minutes (and two commit intervals, checked in validate_config) so
//   the ring has slots to turn over; retention_rollup: at least one hourly rollup block.
// - episode_gap: under 5 s a household's ordinary lulls would cut one disturbance into many
//   episodes; over an hour one bad evening is one episode already.
// - influx windows: 6 h of 10 s buckets is already ~2,000 points per counter per episode.
constexpr std::array kKeys = {
    ConfigKey{.name = "table", .member = top(&Config::table), .value_name = "FAMILY:NAME",
              .help = "nftables table of the counters, FAMILY:NAME (inet:conntrack_stats counts "
                      "IPv6 too)",
              .on_reload = OnReload::kApplied},
    ConfigKey{.name = "db", .member = top(&Config::db), .value_name = "PATH",
              .help = "SQLite database file; keep it on storage that survives a reboot",
              .flag_scopes = kRunAndReaders | kFlagOfReplay},
    ConfigKey{.name = "interval", .member = top(&Config::interval_s), .value_name = "DURATION",
              .help = "time between samples (under 1s only for tests and benchmarks)",
              .min_s = 0.05, .max_s = 30, .on_reload = OnReload::kApplied},
    ConfigKey{.name = "commit_interval", .member = top(&Config::commit_interval_s),
              .value_name = "DURATION",
              .help = "time between writes to flash; a power cut loses at most this much of the "
                      "raw samples",
              .min_s = 1, .max_s = kHour_s},
    ConfigKey{.name = "episode_gap", .member = top(&Config::episode_gap_s),
              .value_name = "DURATION",
              .help = "an episode closes after this long without an alarm (and at least 3 samples); "
                      "a burst within it joins the same episode, a later one is a new episode",
              .min_s = 5, .max_s = kHour_s, .flag_scopes = kRunAndReplay},
    ConfigKey{.name = "retention_raw", .member = top(&Config::retention_raw_s),
              .value_name = "DURATION", .help = "how long every sample is kept",
              .min_s = 10 * kMinute_s, .max_s = 365 * kDay_s},
    ConfigKey{.name = "retention_rollup", .member = top(&Config::retention_rollup_s),
              .value_name = "DURATION", .help = "how long minute rollups are kept",
              .min_s = kHour_s, .max_s = 10 * 365 * kDay_s},
    ConfigKey{.name = "install_rules", .member = top(&Config::install_rules),
              .help = "load the counter table when it is missing (false: wait for it to appear)",
              .on_reload = OnReload::kApplied,
              .flag_help = "never load the counter table; wait for it to appear instead"},
    ConfigKey{.name = "host", .member = top(&Config::host), .value_name = "NAME",
              .help = "this router's name in InfluxDB; empty: the hostname",
              .flag_scopes = kRunAndReplay},
    ConfigKey{.name = "syslog", .member = top(&Config::syslog),
              .help = "log to syslog (daemon facility) instead of stderr",
              .on_reload = OnReload::kApplied},
    ConfigKey{.name = "status_file", .member = top(&Config::status_file), .value_name = "PATH",
              .help = "the daemon's pid file, written once at start; it answers 'ctmon status' on "
                      "the socket beside it (.sock for .status); keep both in RAM",
              .flag_scopes = kRunAndReaders},
    ConfigKey{.name = "prometheus_listen", .member = top(&Config::prometheus_listen),
              .value_name = "ADDR:PORT",
              .help = "serve GET /metrics for Prometheus here: 192.168.1.1:9101, [fd00::1]:9101, "
                      "or :9101 for every address; empty: off",
              .flag_scopes = kRunAndReaders},
    ConfigKey{.name = "conntrack_health", .member = top(&Config::conntrack_health),
              .help = "with every sample, read the conntrack table's entries and limit and the "
                      "kernel's conntrack drop statistics (conntrack -C, -S) over netlink",
              .flag_help = "do not read the conntrack table's entries, limit and statistics"},
    ConfigKey{.name = "influx.url", .member = influx(&InfluxConfig::url), .value_name = "URL",
              .help = "http://host:8086 or https://...; empty: nothing is ever sent",
              .flag_scopes = kRunAndReplay, .check = influx_url_problem},
    ConfigKey{.name = "influx.api", .member = influx(&InfluxConfig::api), .value_name = "v1|v2",
              .help = "the write API", .choices = kInfluxApis, .flag_scopes = kRunAndReplay},
    ConfigKey{.name = "influx.db", .member = influx(&InfluxConfig::db), .value_name = "NAME",
              .help = "v1 database; it must exist", .flag_scopes = kRunAndReplay},
    ConfigKey{.name = "influx.rp", .member = influx(&InfluxConfig::rp), .value_name = "NAME",
              .help = "v1 retention policy; empty: the database's default",
              .flag_scopes = kRunAndReplay},
    ConfigKey{.name = "influx.org", .member = influx(&InfluxConfig::org), .value_name = "ORG",
              .help = "v2 organisation", .flag_scopes = kRunAndReplay},
    ConfigKey{.name = "influx.bucket", .member = influx(&InfluxConfig::bucket),
              .value_name = "BUCKET", .help = "v2 bucket", .flag_scopes = kRunAndReplay},
    ConfigKey{.name = "influx.token_file", .member = influx(&InfluxConfig::token_file),
              .value_name = "PATH",
              .help = "v2: file holding the API token (else the environment variable "
                      "CTMON_INFLUX_TOKEN; never given on the command line)",
              .flag_scopes = kRunAndReplay},
    ConfigKey{.name = "influx.user", .member = influx(&InfluxConfig::user), .value_name = "NAME",
              .help = "v1 user, optional; sent as HTTP Basic auth", .flag_scopes = kRunAndReplay},
    ConfigKey{.name = "influx.password_file", .member = influx(&InfluxConfig::password_file),
              .value_name = "PATH", .help = "v1: file holding the password",
              .flag_scopes = kRunAndReplay},
    ConfigKey{.name = "influx.ca_file", .member = influx(&InfluxConfig::ca_file),
              .value_name = "PATH", .help = "CA bundle for https; empty: the system's",
              .flag_scopes = kRunAndReplay},
    ConfigKey{.name = "influx.timeout", .member = influx(&InfluxConfig::timeout_s),
              .value_name = "DURATION", .help = "per HTTP request", .min_s = 0.1,
              .max_s = 10 * kMinute_s, .flag_scopes = kRunAndReplay},
    ConfigKey{.name = "influx.pre_window", .member = influx(&InfluxConfig::pre_window_s),
              .value_name = "DURATION",
              .help = "rates sent from before an episode opened, in 10 s buckets",
              .min_s = 0, .max_s = 6 * kHour_s, .flag_scopes = kRunAndReplay},
    ConfigKey{.name = "influx.post_window", .member = influx(&InfluxConfig::post_window_s),
              .value_name = "DURATION", .help = "rates sent from after an episode closed",
              .min_s = 0, .max_s = 6 * kHour_s, .flag_scopes = kRunAndReplay},
    ConfigKey{.name = "influx.heartbeat", .member = influx(&InfluxConfig::heartbeat_s),
              .value_name = "DURATION",
              .help = "also one point per counter per this period on quiet days, e.g. 1h; 0: off",
              .min_s = 0, .max_s = kDay_s, .flag_scopes = kRunAndReplay},
    ConfigKey{.name = "influx.collectd_series", .member = influx(&InfluxConfig::collectd_series),
              .help = "also write the collectd setup's 'nftables' series so old dashboards keep "
                      "working",
              .flag_scopes = kRunAndReplay},
    // notify.exec_timeout: a hook is a notification, not a job; an hour covers a slow mail relay.
    ConfigKey{.name = "notify.exec", .member = notify(&NotifyConfig::exec), .value_name = "PATH",
              .help = "program run (no shell, no arguments) when an episode opens and when it "
                      "closes, with the episode in CTMON_* variables and on stdin; empty: off"},
    ConfigKey{.name = "notify.exec_timeout", .member = notify(&NotifyConfig::exec_timeout_s),
              .value_name = "DURATION",
              .help = "the program is stopped after this long (SIGTERM, SIGKILL 2 s later)",
              .min_s = 0.1, .max_s = kHour_s},
    // notify.min_gap: a day is the longest a person would accept to hear nothing more.
    ConfigKey{.name = "notify.url", .member = notify(&NotifyConfig::url), .value_name = "URL",
              .help = "webhook: POST each notification here (http:// or https://; an ntfy topic "
                      "URL works); kept in the database until the receiver answers 2xx; empty: off",
              .check = notify_url_problem},
    ConfigKey{.name = "notify.format", .member = notify(&NotifyConfig::format),
              .value_name = "auto|json|ntfy", .help = "what the webhook's POST holds",
              .choices = kNotifyFormats},
    ConfigKey{.name = "notify.min_score", .member = notify(&NotifyConfig::min_score),
              .value_name = "SCORE",
              .help = "webhook: only episodes whose peak score reaches this (0 to 1; an episode "
                      "is notified when its peak first reaches it)",
              .check = min_score_problem},
    ConfigKey{.name = "notify.kinds", .member = notify(&NotifyConfig::kinds),
              .value_name = "KIND,...",
              .help = "webhook: only these episode kinds (wan_drop, invalid_burst, scan, "
                      "udp_storm, conntrack_full, unknown); empty: every kind",
              .check = kinds_problem},
    ConfigKey{.name = "notify.min_gap", .member = notify(&NotifyConfig::min_gap_s),
              .value_name = "DURATION",
              .help = "webhook: at most one episode notification per this long; those held back "
                      "are summed up in the next one; 0: no limit",
              .min_s = 0, .max_s = kDay_s},
    ConfigKey{.name = "notify.on_close", .member = notify(&NotifyConfig::on_close),
              .help = "webhook: also a notification when an episode it told about closes"},
    // mqtt.rates_interval: a router's uplink may be metered or slow; once a minute is what a
    // Home Assistant graph needs, and episodes are published the moment they change anyway.
    ConfigKey{.name = "mqtt.url", .member = mqtt(&MqttConfig::url), .value_name = "URL",
              .help = "the broker, mqtt://host[:port] (port 1883 when left out; no TLS); empty: "
                      "off"},
    ConfigKey{.name = "mqtt.user", .member = mqtt(&MqttConfig::user), .value_name = "NAME",
              .help = "user name at the broker, optional"},
    ConfigKey{.name = "mqtt.password_file", .member = mqtt(&MqttConfig::password_file),
              .value_name = "PATH",
              .help = "file holding the broker password (never given on the command line)"},
    ConfigKey{.name = "mqtt.client_id", .member = mqtt(&MqttConfig::client_id), .value_name = "ID",
              .help = "MQTT client id; empty: ctmon-<host>"},
    ConfigKey{.name = "mqtt.base_topic", .member = mqtt(&MqttConfig::base_topic),
              .value_name = "TOPIC",
              .help = "state topics go under it; empty: ctmon/<host> (host made topic-safe)"},
    ConfigKey{.name = "mqtt.discovery_prefix", .member = mqtt(&MqttConfig::discovery_prefix),
              .value_name = "TOPIC", .help = "Home Assistant's discovery prefix"},
    ConfigKey{.name = "mqtt.discovery", .member = mqtt(&MqttConfig::discovery),
              .help = "publish Home Assistant discovery configs (retained)",
              .flag_help = "publish no Home Assistant discovery configs, only the state topics"},
    ConfigKey{.name = "mqtt.rates_interval", .member = mqtt(&MqttConfig::rates_interval_s),
              .value_name = "DURATION",
              .help = "the forwarded rates are published as their mean over this period, and only "
                      "when they changed; 0: never",
              .min_s = 0, .max_s = kHour_s},
    // probe.per_interval: 20 probes per interval is still one every 50 ms at a 1 s interval,
    // which measures jitter well and stays far below what any target would call a flood.
    ConfigKey{.name = "probe.targets", .member = probe(&ProbeConfig::targets),
              .value_name = "SPEC",
              .help = "round-trip probes: wan:ADDR, lan:ADDR, NAME=ADDR (WAN side), NAME=lan:ADDR; "
                      "ADDR an IPv4/IPv6 address, with :PORT ([v6]:PORT) for TCP timing; auto: the "
                      "default gateway and this router's LAN address; off: none",
              .check = probe::probe_targets_problem, .flag_name = "--probe", .repeatable = true},
    ConfigKey{.name = "probe.per_interval", .member = probe(&ProbeConfig::per_interval),
              .value_name = "N",
              .help = "probes per target and sampling interval, spread evenly over it (1 to 20)",
              .check = probe::per_interval_problem},
};

constexpr std::array kSections = {
    ConfigSection{"", "", "where the counters are, how often they are read, how long kept"},
    ConfigSection{"influx", "InfluxDB", "forwarding of episodes (off unless influx.url is set)"},
    ConfigSection{"notify", "Notifications", "telling a person about episodes (each off unless set)"},
    ConfigSection{"mqtt", "MQTT", "episodes and rates to an MQTT broker, with Home Assistant "
                                  "discovery (off unless mqtt.url is set)"},
    ConfigSection{"probe", "Probes", "round-trip time, jitter and loss to a WAN-side and a "
                                     "LAN-side target (docs/measurements.md)"},
};

// Each key's section is one of kSections, and each section's keys are together, in kSections'
// order: the TOML writer prints a table header where the section changes.
constexpr bool keys_grouped_by_section() {
  std::size_t section = 0;
  for (const ConfigKey& key : kKeys) {
    const std::size_t dot = key.name.find('.');
    const std::string_view name = dot == std::string_view::npos ? "" : key.name.substr(0, dot);
    while (section < kSections.size() && kSections[section].name != name) ++section;
    if (section == kSections.size()) return false;
  }
  return true;
}
static_assert(keys_grouped_by_section());

// One line, always, and a literal ('...') string only for plain text: toml++'s default printer
// may choose a multi-line literal string, which ends early when the text holds three quotes in a
// row, and its literal strings carry control characters (a newline) raw, which TOML forbids there.
std::string toml_quoted(const std::string& text) {
  const bool plain = std::none_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f || c == '\'';
  });
  auto flags = toml::format_flags::allow_unicode_strings;
  if (plain) flags |= toml::format_flags::allow_literal_strings;
  std::ostringstream out;
  out << toml::toml_formatter{toml::value<std::string>(text), flags};
  return out.str();
}

}  // namespace

std::string_view ConfigKey::section() const {
  const std::size_t dot = name.find('.');
  return dot == std::string_view::npos ? std::string_view{} : name.substr(0, dot);
}

std::string_view ConfigKey::leaf() const {
  const std::size_t dot = name.find('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

std::string ConfigKey::flag() const {
  if (!flag_name.empty()) return std::string(flag_name);
  std::string flag(name);
  std::replace(flag.begin(), flag.end(), '.', '-');
  std::replace(flag.begin(), flag.end(), '_', '-');
  if (is_bool() && std::get<ConfigMember<bool>>(member).of(Config{})) return "--no-" + flag;
  return "--" + flag;
}

std::string ConfigKey::uci_option() const {
  std::string option(name);
  std::replace(option.begin(), option.end(), '.', '_');
  return option;
}

std::string ConfigKey::allowed() const {
  if (is_bool()) return "true or false";
  if (is_duration())
    return fmt::format("a duration from {} to {} (seconds, or with a unit: 500ms, 30s, 5m, 48h, "
                       "30d)",
                       format_duration_exact(min_s), format_duration_exact(max_s));
  if (choices.empty()) return "a quoted string is expected";
  std::string text;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) text += i + 1 == choices.size() ? " or " : ", ";
    text += fmt::format("\"{}\" ({})", choices[i].value, choices[i].meaning);
  }
  return text;
}

std::string ConfigKey::toml_value(const Config& config) const {
  std::string text = text_value(config);
  return is_bool() ? text : toml_quoted(text);
}

std::string ConfigKey::text_value(const Config& config) const {
  return std::visit(
      [&config](const auto& m) -> std::string {
        const auto& value = m.of(config);
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, bool>)
          return value ? "true" : "false";
        else if constexpr (std::is_same_v<T, double>)
          return format_duration_exact(value);
        else
          return value;
      },
      member);
}

bool ConfigKey::same(const Config& a, const Config& b) const {
  return std::visit([&](const auto& m) { return m.of(a) == m.of(b); }, member);
}

std::optional<std::string> ConfigKey::problem(const Config& config) const {
  if (is_duration()) {
    const double seconds = std::get<ConfigMember<double>>(member).of(config);
    // Written so that NaN, which compares false to everything, fails too.
    if (!(seconds >= min_s && seconds <= max_s)) return allowed();
  } else if (!choices.empty()) {
    const std::string& value = std::get<ConfigMember<std::string>>(member).of(config);
    if (std::none_of(choices.begin(), choices.end(),
                     [&value](const ConfigChoice& c) { return c.value == value; }))
      return allowed();
  } else if (check != nullptr) {
    const std::string& value = std::get<ConfigMember<std::string>>(member).of(config);
    if (!value.empty())
      if (std::string why = check(value); !why.empty()) return why;
  }
  return std::nullopt;
}

std::span<const ConfigKey> config_keys() { return kKeys; }

std::span<const ConfigSection> config_sections() { return kSections; }

const ConfigKey* find_config_key(std::string_view name) {
  const auto* key = std::find_if(kKeys.begin(), kKeys.end(),
                                 [name](const ConfigKey& k) { return k.name == name; });
  return key == kKeys.end() ? nullptr : key;
}

std::vector<std::string> changed_keys(const Config& old, const Config& fresh) {
  std::vector<std::string> names;
  for (const ConfigKey& key : kKeys)
    if (!key.same(old, fresh)) names.emplace_back(key.name);
  return names;
}

std::vector<std::string> keys_needing_restart(const Config& old, const Config& fresh) {
  std::vector<std::string> names;
  for (const ConfigKey& key : kKeys)
    if (key.on_reload == OnReload::kNeedsRestart && !key.same(old, fresh))
      names.emplace_back(key.name);
  return names;
}

}  // namespace ctmon
