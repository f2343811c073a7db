#include "monitor/config/config.h"

#include <cmath>
#include <functional>
#include <map>
#include <sstream>

#include <fmt/core.h>
#include <toml++/toml.h>

#include "monitor/user_error.h"

namespace ctmon {
namespace {

// Limits, with the reason each exists.
constexpr double kMinInterval_s = 0.05;   // below this the kernel dump itself dominates a core
constexpr double kMaxInterval_s = 30;     // coarser sampling misses the seconds-long stutters
constexpr double kMinCommitInterval_s = 1;
constexpr double kMaxCommitInterval_s = 3600;  // an hour of samples is the most a cut may lose

struct DurationRange {
  double min_s;
  double max_s;
};

[[noreturn]] void bad_value(const std::string& where, std::string_view key,
                            const std::string& value, const std::string& allowed) {
  throw UserError(fmt::format("{}: {} = {} is not allowed: {}", where, key, value, allowed));
}

std::string node_text(const toml::node& node) {
  std::ostringstream out;
  node.visit([&out](const auto& value) { out << value; });
  return out.str();
}

// One setter per key; each knows its key's type and limits.
using Setter = std::function<void(Config&, const toml::node&, const std::string& where)>;

Setter string_key(std::string Config::*field) {
  return [field](Config& config, const toml::node& node, const std::string& where) {
    if (!node.is_string()) bad_value(where, "", node_text(node), "a quoted string is expected");
    config.*field = *node.value<std::string>();
  };
}

Setter influx_string_key(std::string InfluxConfig::*field) {
  return [field](Config& config, const toml::node& node, const std::string& where) {
    if (!node.is_string()) bad_value(where, "", node_text(node), "a quoted string is expected");
    config.influx.*field = *node.value<std::string>();
  };
}

double duration_from(const toml::node& node, const std::string& where, std::string_view key,
                     DurationRange range) {
  std::optional<double> seconds;
  if (node.is_integer() || node.is_floating_point())
    seconds = node.value<double>();
  else if (node.is_string())
    seconds = parse_duration_s(*node.value<std::string>());
  const std::string allowed = fmt::format("a duration from {} to {} (seconds, or with a unit: "
                                          "500ms, 30s, 5m, 48h, 30d)",
                                          format_duration(range.min_s),
                                          format_duration(range.max_s));
  if (!seconds) bad_value(where, key, node_text(node), allowed);
  if (*seconds < range.min_s || *seconds > range.max_s)
    bad_value(where, key, node_text(node), allowed);
  return *seconds;
}

Setter duration_key(double Config::*field, std::string_view key, DurationRange range) {
  return [=](Config& config, const toml::node& node, const std::string& where) {
    config.*field = duration_from(node, where, key, range);
  };
}

Setter bool_key(bool Config::*field) {
  return [field](Config& config, const toml::node& node, const std::string& where) {
    if (!node.is_boolean()) bad_value(where, "", node_text(node), "true or false");
    config.*field = *node.value<bool>();
  };
}

const std::map<std::string, Setter, std::less<>>& setters() {
  static const std::map<std::string, Setter, std::less<>> table = {
      {"table", string_key(&Config::table)},
      {"db", string_key(&Config::db)},
      {"interval", duration_key(&Config::interval_s, "interval", {kMinInterval_s, kMaxInterval_s})},
      {"commit_interval", duration_key(&Config::commit_interval_s, "commit_interval",
                                       {kMinCommitInterval_s, kMaxCommitInterval_s})},
      {"retention_raw", duration_key(&Config::retention_raw_s, "retention_raw",
                                     {600, 365 * 86400.0})},
      {"retention_rollup", duration_key(&Config::retention_rollup_s, "retention_rollup",
                                        {3600, 10 * 365 * 86400.0})},
      {"install_rules", bool_key(&Config::install_rules)},
      {"host", string_key(&Config::host)},
      {"syslog", bool_key(&Config::syslog)},
      {"status_file", string_key(&Config::status_file)},
      {"influx.url", influx_string_key(&InfluxConfig::url)},
      {"influx.api", influx_string_key(&InfluxConfig::api)},
      {"influx.db", influx_string_key(&InfluxConfig::db)},
      {"influx.rp", influx_string_key(&InfluxConfig::rp)},
      {"influx.org", influx_string_key(&InfluxConfig::org)},
      {"influx.bucket", influx_string_key(&InfluxConfig::bucket)},
      {"influx.token_file", influx_string_key(&InfluxConfig::token_file)},
      {"influx.user", influx_string_key(&InfluxConfig::user)},
      {"influx.password_file", influx_string_key(&InfluxConfig::password_file)},
      {"influx.ca_file", influx_string_key(&InfluxConfig::ca_file)},
      {"influx.timeout", [](Config& config, const toml::node& node, const std::string& where) {
         config.influx.timeout_s = duration_from(node, where, "influx.timeout", {0.1, 600});
       }},
      {"influx.pre_window", [](Config& config, const toml::node& node, const std::string& where) {
         config.influx.pre_window_s = duration_from(node, where, "influx.pre_window", {0, 6 * 3600.0});
       }},
      {"influx.post_window", [](Config& config, const toml::node& node, const std::string& where) {
         config.influx.post_window_s = duration_from(node, where, "influx.post_window", {0, 6 * 3600.0});
       }},
      {"influx.heartbeat", [](Config& config, const toml::node& node, const std::string& where) {
         config.influx.heartbeat_s = duration_from(node, where, "influx.heartbeat", {0, 86400});
       }},
      {"influx.collectd_series", [](Config& config, const toml::node& node, const std::string& where) {
         if (!node.is_boolean()) bad_value(where, "influx.collectd_series", node_text(node), "true or false");
         config.influx.collectd_series = *node.value<bool>();
       }},
  };
  return table;
}

std::string known_keys() {
  std::string keys;
  for (const auto& [key, setter] : setters()) keys += (keys.empty() ? "" : ", ") + key;
  return keys;
}

void apply_table(Config& config, const toml::table& table, const std::string& prefix,
                 const std::string& path) {
  for (const auto& [key_node, node] : table) {
    const std::string key = prefix + std::string(key_node.str());
    const auto& source = node.source().begin;
    const std::string where = fmt::format("{}:{}", path, source.line);
    if (prefix.empty() && key == "influx" && node.is_table()) {
      apply_table(config, *node.as_table(), "influx.", path);
      continue;
    }
    const auto setter = setters().find(key);
    if (setter == setters().end())
      throw UserError(fmt::format("{}: unknown key '{}'; known keys: {}", where, key,
                                  known_keys()));
    try {
      setter->second(config, node, where);
    } catch (const UserError& e) {
      // string/bool setters do not know their key's name; put it in
      std::string message = e.what();
      if (const auto at = message.find(":  = "); at != std::string::npos)
        message.replace(at, 5, fmt::format(": {} = ", key));
      throw UserError(message);
    }
  }
}

}  // namespace

void load_config_file(Config& config, const std::string& path, bool required) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    if (!where && e.description().find("File could not be opened") != std::string_view::npos) {
      if (!required) return;
      throw UserError(fmt::format("config file {} cannot be read: check the path given to "
                                  "--config (without --config, {} is used when it exists)",
                                  path, kDefaultConfigPath));
    }
    throw UserError(fmt::format("{}:{}:{}: not valid TOML: {}", path, where.line, where.column,
                                e.description()));
  }
  apply_table(config, table, "", path);
  config.source = path;
}

void validate_config(const Config& config) {
  auto check_duration = [](std::string_view key, double value, DurationRange range) {
    if (!(value >= range.min_s && value <= range.max_s))
      throw UserError(fmt::format("--{} {} is not allowed: a duration from {} to {}", key,
                                  format_duration(value), format_duration(range.min_s),
                                  format_duration(range.max_s)));
  };
  check_duration("interval", config.interval_s, {kMinInterval_s, kMaxInterval_s});
  check_duration("commit-interval", config.commit_interval_s,
                 {kMinCommitInterval_s, kMaxCommitInterval_s});
  if (config.commit_interval_s < config.interval_s)
    throw UserError(fmt::format("commit_interval {} is shorter than interval {}: each commit "
                                "must hold at least one sample",
                                format_duration(config.commit_interval_s),
                                format_duration(config.interval_s)));
  if (config.retention_raw_s < 2 * config.commit_interval_s)
    throw UserError(fmt::format("retention_raw {} must hold at least two commit intervals ({})",
                                format_duration(config.retention_raw_s),
                                format_duration(2 * config.commit_interval_s)));
  if (config.db.empty())
    throw UserError("db is empty: give the path of the database file (e.g. --db "
                    "/var/lib/ctmon/ctmon.db)");
  if (config.influx.api != "v1" && config.influx.api != "v2")
    throw UserError(fmt::format("influx.api = \"{}\" is not allowed: \"v1\" (InfluxDB 1.x "
                                "/write) or \"v2\" (InfluxDB 2.x /api/v2/write)",
                                config.influx.api));
}

std::optional<double> parse_duration_s(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::size_t unit_at = 0;
  while (unit_at < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[unit_at])) != 0 || text[unit_at] == '.'))
    ++unit_at;
  if (unit_at == 0) return std::nullopt;
  const std::string number(text.substr(0, unit_at));
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(value)) return std::nullopt;
  const std::string_view unit = text.substr(unit_at);
  static const std::map<std::string_view, double, std::less<>> kUnits = {
      {"", 1}, {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
  const auto factor = kUnits.find(unit);
  if (factor == kUnits.end()) return std::nullopt;
  return value * factor->second;
}

std::string format_duration(double seconds) {
  for (const auto& [unit, size] : {std::pair{"d", 86400.0}, {"h", 3600.0}, {"m", 60.0}})
    if (seconds >= size && std::fmod(seconds, size) == 0) return fmt::format("{}{}", seconds / size, unit);
  if (seconds < 1 && std::fmod(seconds * 1000, 1) == 0) return fmt::format("{}ms", seconds * 1000);
  return fmt::format("{}s", seconds);
}

std::string config_to_toml(const Config& config) {
  auto quoted = [](const std::string& text) { return toml::value<std::string>(text); };
  std::ostringstream out;
  out << "# effective configuration (from " << config.source << ", then flags)\n";
  out << "table = " << quoted(config.table) << '\n';
  out << "db = " << quoted(config.db) << '\n';
  out << "interval = " << quoted(format_duration(config.interval_s)) << '\n';
  out << "commit_interval = " << quoted(format_duration(config.commit_interval_s)) << '\n';
  out << "retention_raw = " << quoted(format_duration(config.retention_raw_s)) << '\n';
  out << "retention_rollup = " << quoted(format_duration(config.retention_rollup_s)) << '\n';
  out << "install_rules = " << (config.install_rules ? "true" : "false") << '\n';
  out << "host = " << quoted(config.host) << '\n';
  out << "syslog = " << (config.syslog ? "true" : "false") << '\n';
  out << "status_file = " << quoted(config.status_file) << '\n';
  out << "\n[influx]\n";
  out << "url = " << quoted(config.influx.url) << '\n';
  out << "api = " << quoted(config.influx.api) << '\n';
  out << "db = " << quoted(config.influx.db) << '\n';
  out << "rp = " << quoted(config.influx.rp) << '\n';
  out << "org = " << quoted(config.influx.org) << '\n';
  out << "bucket = " << quoted(config.influx.bucket) << '\n';
  out << "token_file = " << quoted(config.influx.token_file) << '\n';
  out << "user = " << quoted(config.influx.user) << '\n';
  out << "password_file = " << quoted(config.influx.password_file) << '\n';
  out << "ca_file = " << quoted(config.influx.ca_file) << '\n';
  out << "timeout = " << quoted(format_duration(config.influx.timeout_s)) << '\n';
  out << "pre_window = " << quoted(format_duration(config.influx.pre_window_s)) << '\n';
  out << "post_window = " << quoted(format_duration(config.influx.post_window_s)) << '\n';
  out << "heartbeat = " << quoted(format_duration(config.influx.heartbeat_s)) << '\n';
  out << "collectd_series = " << (config.influx.collectd_series ? "true" : "false") << '\n';
  return out.str();
}

}  // namespace ctmon
