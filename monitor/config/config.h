#pragma once
// ctmon's settings: built-in defaults, overridden by the TOML file (/etc/ctmon/ctmon.toml or
// --config), overridden by flags. Every key of the file is also a flag of the same name
// (`interval` <-> --interval, `influx.url` <-> --influx-url). The keys, their limits, help and
// flags are the table in monitor/config/config_keys.h; the initializers below are the defaults.

#include <optional>
#include <string>
#include <string_view>

namespace ctmon {

struct InfluxConfig {
  std::string url;            ///< empty: forwarding off
  std::string api = "v1";     ///< "v1" (/write?db=) or "v2" (/api/v2/write, token)
  std::string db = "ctmon";   ///< v1 database
  std::string rp;             ///< v1 retention policy; empty = the database's default
  std::string org;            ///< v2
  std::string bucket;         ///< v2
  std::string token_file;     ///< v2 token, read from this file (never from argv)
  std::string user;           ///< v1, optional
  std::string password_file;  ///< v1 password, read from this file
  std::string ca_file;        ///< TLS CA bundle; empty = the system's
  double timeout_s = 10;
  double pre_window_s = 15 * 60;   ///< rates sent from before an episode opened, in buckets
  double post_window_s = 5 * 60;   ///< and after it closed
  double heartbeat_s = 0;          ///< 0: off; else one point per counter per this period
  bool collectd_series = false;    ///< also write the seed setup's `nftables` series
};

/// Telling a person about episodes (monitor/notify/). Everything is off while its key is empty.
struct NotifyConfig {
  std::string exec;            ///< absolute path of a program run at each episode open and close
  double exec_timeout_s = 10;  ///< then SIGTERM, and SIGKILL 2 s later
  std::string url;             ///< webhook: POST each notification here (http:// or https://)
  std::string format = "auto"; ///< "json" (the events line), "ntfy" (plain text), "auto": see below
  std::string min_score = "0"; ///< a number 0..1 (a string so that TOML, flags and UCI agree)
  std::string kinds;           ///< comma-separated episode kinds; empty: every kind
  double min_gap_s = 0;        ///< at most one open notification per this long; 0: no limit
  bool on_close = false;       ///< also a notification when a notified episode closes
};

/// MQTT with Home Assistant discovery (monitor/mqtt/). Off while url is empty.
struct MqttConfig {
  std::string url;                 ///< mqtt://host[:port] (port 1883 when left out); empty: off
  std::string user;                ///< optional
  std::string password_file;       ///< the password, read from this file (never from argv or here)
  std::string client_id;           ///< empty: "ctmon-<host>"
  std::string base_topic;          ///< empty: "ctmon/<host>"
  std::string discovery_prefix = "homeassistant";
  bool discovery = true;           ///< publish Home Assistant discovery configs
  double rates_interval_s = 60;    ///< rates published at most this often; 0: never
};

/// Active probes (monitor/probe/, docs/measurements.md).
struct ProbeConfig {
  /// Comma-separated specs (wan:ADDR, lan:ADDR, NAME=ADDR, NAME=lan:ADDR), `auto` or `off`.
  std::string targets = "auto";
  std::string per_interval = "5";  ///< 1..20 (a string so that TOML, flags and UCI agree)
};

struct Config {
  std::string table = "ip:conntrack_stats";
  std::string db = "/var/lib/ctmon/ctmon.db";
  double interval_s = 5;             ///< seconds between samples
  double commit_interval_s = 300;    ///< seconds of samples a power cut may lose, at most
  /// Quiet time that closes an episode; a burst within it joins the episode (network_detectors).
  double episode_gap_s = 60;
  double retention_raw_s = 48 * 3600.0;
  double retention_rollup_s = 30 * 86400.0;
  bool install_rules = true;         ///< `ctmon run` installs the table when it is missing
  std::string host;                  ///< this router's name in InfluxDB and notifications; see host_name()
  bool syslog = false;               ///< log to syslog instead of stderr
  /// The daemon's pid file, written once at start; `ctmon status` asks the socket beside it
  /// (".sock" for ".status", monitor/status/status_socket.h). Keep both in RAM (/run).
  std::string status_file = "/run/ctmon/ctmon.status";
  /// ADDRESS:PORT of the Prometheus endpoint (GET /metrics); empty: off. See listen_address.h.
  std::string prometheus_listen;
  /// Read the conntrack table's entries, limit and drop statistics over ctnetlink with every
  /// sample (monitor/conntrack/); needs nf_conntrack_netlink, which the kernel loads on demand.
  bool conntrack_health = true;
  InfluxConfig influx;
  NotifyConfig notify;
  MqttConfig mqtt;
  ProbeConfig probe;

  /// Where the settings came from, for `ctmon config check` and error messages.
  std::string source = "built-in defaults";
};

inline constexpr std::string_view kDefaultConfigPath = "/etc/ctmon/ctmon.toml";

/// Reads `path` over `config`. When `required` is false a missing file is fine (the built-in
/// defaults stand); a file that exists is always parsed. Throws UserError naming the file, the
/// line, the key, the value and what is allowed, for syntax errors, unknown keys and bad values.
void load_config_file(Config& config, const std::string& path, bool required);

/// Checks every key against its limits (NaN and infinities included) and the combinations that
/// cannot work, whatever set the values; throws UserError naming the key, the value and what
/// is allowed.
void validate_config(const Config& config);

/// Why `path` cannot be run as a program (not absolute, missing, not a regular file, not
/// executable), or empty when it can. For notify.exec, at start and by `ctmon config check`.
[[nodiscard]] std::string executable_file_problem(const std::string& path);

/// Where mqtt.url points.
struct MqttBroker {
  std::string host;  ///< a name or an address (IPv6 without brackets)
  int port = 1883;
};

/// Reads mqtt.url: "mqtt://host" or "mqtt://host:port" (IPv6 in brackets), nothing else (no
/// user info: the password comes from mqtt.password_file; no path; mqtts:// is not supported).
/// Throws UserError saying what is wrong and what to write instead.
[[nodiscard]] MqttBroker parse_mqtt_url(const std::string& url);

/// Why `topic` cannot be a topic prefix that ctmon appends levels to (empty, a wildcard '+' or
/// '#', an empty level, a leading '$', a NUL byte, over 1024 bytes), or empty when it can.
[[nodiscard]] std::string topic_prefix_problem(std::string_view topic);

/// The effective configuration as a TOML file that load_config_file reads back unchanged, except
/// that the InfluxDB URL's credentials are redacted (redact_url): it is printed and logged.
[[nodiscard]] std::string config_to_toml(const Config& config);

/// `url` with its user info (`user:password@`) replaced by `***@`; unchanged when it has none.
/// Everything that prints or logs a URL of the config shows this instead.
[[nodiscard]] std::string redact_url(std::string_view url);

/// redact_url(url) with the query string also replaced ("?***"), for URLs that carry a token
/// there (ntfy's ?auth=, webhook receivers): notify.url is always shown this way.
[[nodiscard]] std::string redact_url_and_query(std::string_view url);

/// Why `url` cannot be the webhook's URL (not http:// or https://, no host, a space or a control
/// character), or empty.
[[nodiscard]] std::string notify_url_problem(std::string_view url);

/// The same for the InfluxDB server (influx.url).
[[nodiscard]] std::string influx_url_problem(std::string_view url);

/// Why `text` is not a score from 0 to 1, or empty when it is one (notify.min_score).
[[nodiscard]] std::string min_score_problem(std::string_view text);

/// Why `text` is not a comma-separated list of episode kinds, or empty (notify.kinds).
[[nodiscard]] std::string kinds_problem(std::string_view text);

/// A copy of `config` fit to print or log: every credential it may hold redacted (today the
/// user info of influx.url and mqtt.url, and the user info and query string of notify.url; the
/// InfluxDB token and the passwords are only ever file names).
[[nodiscard]] Config redacted(const Config& config);

/// The name ctmon gives this router in what it sends out: `host` when set, else the system's
/// hostname, else "router".
[[nodiscard]] std::string host_name(const Config& config);

}  // namespace ctmon
