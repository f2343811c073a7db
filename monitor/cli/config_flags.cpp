#include "monitor/cli/config_flags.h"

#include <fmt/core.h>

#include "monitor/user_error.h"

namespace ctmon::cli {

struct ConfigFlags::Values {
  std::optional<std::string> config_path, db, table, interval, commit_interval, retention_raw,
      retention_rollup, host, status_file;
  bool no_install_rules = false;
  bool syslog = false;
  std::optional<std::string> influx_url, influx_api, influx_db, influx_rp, influx_org,
      influx_bucket, influx_token_file, influx_user, influx_password_file, influx_ca_file,
      influx_timeout, influx_pre_window, influx_post_window, influx_heartbeat;
  bool influx_collectd_series = false;
};

namespace {

// --help shows what each value is (DURATION, PATH) instead of CLI11's generic TEXT.
void name_value_types(CLI::App* command) {
  const std::pair<const char*, const char*> types[] = {
      {"--config", "PATH"}, {"--db", "PATH"}, {"--status-file", "PATH"},
      {"--table", "FAMILY:NAME"}, {"--interval", "DURATION"}, {"--commit-interval", "DURATION"},
      {"--retention-raw", "DURATION"}, {"--retention-rollup", "DURATION"}, {"--host", "NAME"},
      {"--influx-url", "URL"}, {"--influx-token-file", "PATH"}, {"--influx-password-file", "PATH"},
      {"--influx-ca-file", "PATH"}, {"--influx-timeout", "DURATION"},
      {"--influx-pre-window", "DURATION"}, {"--influx-post-window", "DURATION"},
      {"--influx-heartbeat", "DURATION"}};
  for (const auto& [flag, type] : types)
    if (CLI::Option* option = command->get_option_no_throw(flag)) option->type_name(type);
}

}  // namespace

void ConfigFlags::add_influx_flags(CLI::App* command, Values& v) {
  auto* influx = command->add_option_group("InfluxDB", "forwarding of episodes (off unless --influx-url)");
  influx->add_option("--influx-url", v.influx_url, "e.g. http://192.0.2.10:8086");
  influx->add_option("--influx-api", v.influx_api, "v1 (/write?db=) or v2 (/api/v2/write)");
  influx->add_option("--influx-db", v.influx_db, "v1 database (default ctmon)");
  influx->add_option("--influx-rp", v.influx_rp, "v1 retention policy (default: the db's)");
  influx->add_option("--influx-org", v.influx_org, "v2 organisation");
  influx->add_option("--influx-bucket", v.influx_bucket, "v2 bucket");
  influx->add_option("--influx-token-file", v.influx_token_file,
                     "v2: file holding the API token (never given on the command line)");
  influx->add_option("--influx-user", v.influx_user, "v1 user");
  influx->add_option("--influx-password-file", v.influx_password_file,
                     "v1: file holding the password");
  influx->add_option("--influx-ca-file", v.influx_ca_file, "CA bundle for https (default: system's)");
  influx->add_option("--influx-timeout", v.influx_timeout, "HTTP timeout (default 10s)");
  influx->add_option("--influx-pre-window", v.influx_pre_window,
                     "rates sent from before an episode, in 10 s buckets (default 15m)");
  influx->add_option("--influx-post-window", v.influx_post_window,
                     "rates sent from after an episode (default 5m)");
  influx->add_option("--influx-heartbeat", v.influx_heartbeat,
                     "also one point per counter per period on quiet days, e.g. 1h (default off)");
  influx->add_flag("--influx-collectd-series", v.influx_collectd_series,
                   "also write the collectd setup's 'nftables' series so old dashboards keep working");
}

ConfigFlags::ConfigFlags(CLI::App* command, ConfigScope scope)
    : values_(std::make_shared<Values>()), scope_(scope) {
  Values& v = *values_;
  if (scope == ConfigScope::kReplay) {
    command->add_option("--config", v.config_path, "TOML config file to take the InfluxDB settings from");
    command->add_option("--db", v.db,
                        "also store the samples and episodes in this database, exactly as 'ctmon run' "
                        "would, so 'ctmon events' and 'ctmon series' work on the replayed data");
    command->add_option("--host", v.host, "this router's name in InfluxDB (default: hostname)");
    add_influx_flags(command, v);
    name_value_types(command);
    return;
  }
  command->add_option("--config", v.config_path,
                      fmt::format("TOML config file (default: {} when it exists)",
                                  kDefaultConfigPath));
  command->add_option("--db", v.db, "SQLite database file (default: /var/lib/ctmon/ctmon.db)");
  command->add_option("--status-file", v.status_file,
                      "the daemon's live state, rewritten every sample; keep it in RAM "
                      "(default /run/ctmon/ctmon.status)");
  if (scope == ConfigScope::kDatabase) {
    name_value_types(command);
    return;
  }

  command->add_option("--table", v.table,
                      "nftables table of the counters, FAMILY:NAME (default ip:conntrack_stats)");
  command->add_option("--interval", v.interval,
                      "time between samples: 1s to 30s (default 5s; down to 50ms for tests)");
  command->add_option("--commit-interval", v.commit_interval,
                      "time between writes to flash; a power cut loses at most this much "
                      "(default 5m)");
  command->add_option("--retention-raw", v.retention_raw,
                      "how long every sample is kept (default 48h)");
  command->add_option("--retention-rollup", v.retention_rollup,
                      "how long minute rollups are kept (default 30d)");
  command->add_flag("--no-install-rules", v.no_install_rules,
                    "never load the counter table; wait for it to appear instead");
  command->add_option("--host", v.host, "this router's name in InfluxDB (default: hostname)");
  command->add_flag("--syslog", v.syslog, "log to syslog (daemon facility) instead of stderr");

  add_influx_flags(command, v);
  name_value_types(command);
}

namespace {

constexpr const char* kDurationForms =
    "not a duration; write seconds (300, 0.5) or a number with a unit (500ms, 30s, 5m, 48h, 30d)";

double flag_duration(const std::string& flag, const std::string& text) {
  const auto seconds = parse_duration_s(text);
  if (!seconds) throw UserError(fmt::format("--{} {}: {}", flag, text, kDurationForms));
  return *seconds;
}

}  // namespace

Config ConfigFlags::resolve() const {
  const Values& v = *values_;
  Config config;
  if (v.config_path)
    load_config_file(config, *v.config_path, true);
  else if (scope_ != ConfigScope::kReplay)
    load_config_file(config, std::string(kDefaultConfigPath), false);

  if (v.db) config.db = *v.db;
  if (v.table) config.table = *v.table;
  if (v.interval) config.interval_s = flag_duration("interval", *v.interval);
  if (v.commit_interval)
    config.commit_interval_s = flag_duration("commit-interval", *v.commit_interval);
  if (v.retention_raw) config.retention_raw_s = flag_duration("retention-raw", *v.retention_raw);
  if (v.retention_rollup)
    config.retention_rollup_s = flag_duration("retention-rollup", *v.retention_rollup);
  if (v.no_install_rules) config.install_rules = false;
  if (v.host) config.host = *v.host;
  if (v.status_file) config.status_file = *v.status_file;
  if (v.syslog) config.syslog = true;
  auto set = [](std::string& field, const std::optional<std::string>& value) {
    if (value) field = *value;
  };
  set(config.influx.url, v.influx_url);
  set(config.influx.api, v.influx_api);
  set(config.influx.db, v.influx_db);
  set(config.influx.rp, v.influx_rp);
  set(config.influx.org, v.influx_org);
  set(config.influx.bucket, v.influx_bucket);
  set(config.influx.token_file, v.influx_token_file);
  set(config.influx.user, v.influx_user);
  set(config.influx.password_file, v.influx_password_file);
  set(config.influx.ca_file, v.influx_ca_file);
  if (v.influx_timeout) config.influx.timeout_s = flag_duration("influx-timeout", *v.influx_timeout);
  if (v.influx_pre_window)
    config.influx.pre_window_s = flag_duration("influx-pre-window", *v.influx_pre_window);
  if (v.influx_post_window)
    config.influx.post_window_s = flag_duration("influx-post-window", *v.influx_post_window);
  if (v.influx_heartbeat)
    config.influx.heartbeat_s = flag_duration("influx-heartbeat", *v.influx_heartbeat);
  if (v.influx_collectd_series) config.influx.collectd_series = true;
  validate_config(config);
  if (scope_ == ConfigScope::kReplay) config.db = v.db.value_or("");  // never a file's db
  return config;
}

CLI::Validator duration_in_seconds() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const std::optional<double> seconds = parse_duration_s(text);
        if (!seconds || *seconds < 0) return fmt::format("'{}' is {}", text, kDurationForms);
        text = fmt::format("{}", *seconds);
        return {};
      },
      "");
}

}  // namespace ctmon::cli
