#include "monitor/config/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/core.h>
#include <toml++/toml.h>

#include "core/episode.h"
#include "core/time.h"
#include "monitor/config/config_keys.h"
#include "monitor/config/listen_address.h"
#include "monitor/user_error.h"

namespace ctmon {
namespace {

[[noreturn]] void bad_value(const std::string& where, std::string_view key,
                            const std::string& value, const std::string& allowed) {
  throw UserError(fmt::format("{}: {} = {} is not allowed: {}", where, key, value, allowed));
}

std::string node_text(const toml::node& node) {
  std::ostringstream out;
  node.visit([&out](const auto& value) { out << value; });
  return out.str();
}

// Sets `key` in `config` from its TOML node, or throws naming `where` (file:line), the key, the
// value and what is allowed.
void set_from_node(Config& config, const ConfigKey& key, const toml::node& node,
                   const std::string& where) {
  std::visit(
      [&](const auto& member) {
        using T = std::decay_t<decltype(member.of(config))>;
        if constexpr (std::is_same_v<T, bool>) {
          if (!node.is_boolean()) bad_value(where, key.name, node_text(node), key.allowed());
          member.of(config) = *node.value<bool>();
        } else if constexpr (std::is_same_v<T, double>) {
          std::optional<double> seconds;
          if (node.is_integer() || node.is_floating_point())
            seconds = node.value<double>();
          else if (node.is_string())
            seconds = parse_duration_s(*node.value<std::string>());
          if (!seconds) bad_value(where, key.name, node_text(node), key.allowed());
          member.of(config) = *seconds;
        } else if (key.check != nullptr && node.is_floating_point()) {
          // notify.min_score = 0.6 is kept as "0.6" (fmt's shortest form), not 0.59999999999999998.
          member.of(config) = fmt::format("{}", *node.value<double>());
        } else if (key.check != nullptr && node.is_integer()) {
          member.of(config) = node_text(node);  // notify.min_score = 1
        } else if (key.check != nullptr && node.is_array()) {
          // notify.kinds = ["wan_drop", "scan"] is kept as "wan_drop,scan".
          std::string joined;
          for (const toml::node& item : *node.as_array()) {
            if (!item.is_string()) bad_value(where, key.name, node_text(node), "a list of quoted strings is expected");
            joined += (joined.empty() ? "" : ",") + *item.value<std::string>();
          }
          member.of(config) = joined;
        } else {
          if (!node.is_string())
            bad_value(where, key.name, node_text(node), "a quoted string is expected");
          member.of(config) = *node.value<std::string>();
        }
      },
      key.member);
  if (const auto problem = key.problem(config))
    bad_value(where, key.name, node_text(node), *problem);
}

std::string known_keys() {
  std::vector<std::string_view> names;
  for (const ConfigKey& key : config_keys()) names.push_back(key.name);
  std::sort(names.begin(), names.end());
  std::string text;
  for (const std::string_view name : names) text += fmt::format("{}{}", text.empty() ? "" : ", ", name);
  return text;
}

bool is_section(std::string_view name) {
  return std::any_of(config_sections().begin(), config_sections().end(),
                     [name](const ConfigSection& s) { return !s.name.empty() && s.name == name; });
}

void apply_table(Config& config, const toml::table& table, const std::string& prefix,
                 const std::string& path) {
  for (const auto& [key_node, node] : table) {
    const std::string name = prefix + std::string(key_node.str());
    const std::string where = fmt::format("{}:{}", path, node.source().begin.line);
    if (prefix.empty() && node.is_table() && is_section(name)) {
      apply_table(config, *node.as_table(), name + ".", path);
      continue;
    }
    const ConfigKey* key = find_config_key(name);
    if (key == nullptr)
      throw UserError(fmt::format("{}: unknown key '{}'; known keys: {}", where, name,
                                  known_keys()));
    set_from_node(config, *key, node, where);
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
  for (const ConfigKey& key : config_keys())
    if (const auto problem = key.problem(config))
      throw UserError(fmt::format("{} = {} is not allowed: {}", key.name, key.toml_value(config),
                                  *problem));
  if (config.commit_interval_s < config.interval_s)
    throw UserError(fmt::format("commit_interval {} is shorter than interval {}: each commit "
                                "must hold at least one sample",
                                format_duration_exact(config.commit_interval_s),
                                format_duration_exact(config.interval_s)));
  if (config.retention_raw_s < 2 * config.commit_interval_s)
    throw UserError(fmt::format("retention_raw {} must hold at least two commit intervals ({})",
                                format_duration_exact(config.retention_raw_s),
                                format_duration_exact(2 * config.commit_interval_s)));
  if (config.db.empty())
    throw UserError("db is empty: give the path of the database file (e.g. --db "
                    "/var/lib/ctmon/ctmon.db)");
  if (!config.mqtt.url.empty()) {
    (void)parse_mqtt_url(config.mqtt.url);
    for (const auto& [key, topic] : {std::pair{"mqtt.base_topic", &config.mqtt.base_topic},
                                     std::pair{"mqtt.discovery_prefix", &config.mqtt.discovery_prefix}}) {
      if (key == std::string_view("mqtt.base_topic") && topic->empty()) continue;  // the default
      if (const std::string problem = topic_prefix_problem(*topic); !problem.empty())
        throw UserError(fmt::format("{} '{}': {}; give topic levels separated by '/', e.g. "
                                    "ctmon/gw1",
                                    key, *topic, problem));
    }
    if (!config.mqtt.password_file.empty() && config.mqtt.user.empty())
      throw UserError("mqtt.password_file is set but mqtt.user is empty: MQTT sends a password only "
                      "with a user name; set mqtt.user");
  }
  if (!config.notify.exec.empty())
    if (const std::string problem = executable_file_problem(config.notify.exec); !problem.empty())
      throw UserError(fmt::format("notify.exec '{}': {}; give the absolute path of an executable file "
                                  "(chmod +x; it is run without a shell, so a script needs a #! line)",
                                  config.notify.exec, problem));
  if (!config.prometheus_listen.empty())
    if (const auto parsed = parse_listen_address(config.prometheus_listen);
        const auto* problem = std::get_if<std::string>(&parsed))
      throw UserError(fmt::format("prometheus_listen '{}': {}", config.prometheus_listen, *problem));
}

std::string executable_file_problem(const std::string& path) {
  if (path.empty() || path.front() != '/') return "not an absolute path";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if (::access(path.c_str(), X_OK) != 0) return fmt::format("not executable ({})", std::strerror(errno));
  return "";
}

MqttBroker parse_mqtt_url(const std::string& url) {
  const auto bad = [&url](std::string_view why) {
    return UserError(fmt::format("mqtt.url '{}': {}; write mqtt://host or mqtt://host:port, e.g. "
                                 "mqtt://192.168.1.10:1883",
                                 redact_url(url), why));
  };
  constexpr std::string_view kScheme = "mqtt://";
  if (url.starts_with("mqtts://"))
    throw bad("TLS (mqtts://) is not supported; use a broker on your LAN over mqtt://");
  if (!url.starts_with(kScheme)) throw bad("it must start with mqtt://");
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find('@') != std::string_view::npos)
    throw bad("no user or password in the URL (set mqtt.user and mqtt.password_file)");
  if (rest.find_first_of("/?#") != std::string_view::npos) throw bad("a broker URL has no path");
  MqttBroker broker;
  std::string_view port;
  if (rest.starts_with('[')) {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) throw bad("an IPv6 address needs its closing ']'");
    broker.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':') throw bad("only :port may follow ']'");
    if (!rest.empty()) port = rest.substr(1);
  } else {
    const std::size_t colon = rest.find(':');
    broker.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (broker.host.empty()) throw bad("the host is missing");
  if (std::any_of(broker.host.begin(), broker.host.end(),
                  [](unsigned char c) { return c <= ' ' || c >= 0x7f || c == '[' || c == ']'; }))
    throw bad("the host holds a character no host name has");
  if (!port.empty() || (rest.ends_with(':'))) {
    int value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || error != std::errc{} || end != port.data() + port.size() || value < 1 || value > 65535)
      throw bad("the port must be a number from 1 to 65535");
    broker.port = value;
  }
  return broker;
}

std::string topic_prefix_problem(std::string_view topic) {
  if (topic.empty()) return "it is empty";
  if (topic.size() > 1024) return "it is longer than 1024 bytes";
  if (topic.find_first_of("+#") != std::string_view::npos)
    return "'+' and '#' are wildcards, not allowed in a topic ctmon publishes to";
  if (topic.find('\0') != std::string_view::npos) return "it holds a NUL byte";
  if (topic.front() == '$') return "topics starting with '$' belong to the broker";
  if (topic.front() == '/' || topic.back() == '/' || topic.find("//") != std::string_view::npos)
    return "it has an empty level (a leading, trailing or doubled '/')";
  return "";
}

std::string redact_url(std::string_view url) {
  const std::size_t scheme = url.find("://");
  const std::size_t host = scheme == std::string_view::npos ? 0 : scheme + 3;
  const std::size_t end = url.find_first_of("/?#", host);
  const std::size_t at = url.rfind('@', end == std::string_view::npos ? url.size() : end);
  if (at == std::string_view::npos || at < host) return std::string(url);
  return fmt::format("{}***{}", url.substr(0, host), url.substr(at));
}

std::string redact_url_and_query(std::string_view url) {
  std::string out = redact_url(url);
  const std::size_t query = out.find('?');
  if (query != std::string::npos) out.replace(query + 1, std::string::npos, "***");
  return out;
}

namespace {

// Why `url` cannot be an HTTP endpoint (not http:// or https://, no host, a space or a control
// character, which would reach curl and the logs), or empty; the advice ends with `example`.
std::string http_url_problem(std::string_view url, std::string_view example) {
  const auto lower = [](std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
  };
  const std::string expected = fmt::format("give an http:// or https:// URL, e.g. {}", example);
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; }))
    return fmt::format("it holds a space or a control character; {}", expected);
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return fmt::format("not a URL; {}", expected);
  const std::string scheme = lower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https")
    return fmt::format("the scheme {}:// is not supported; {}", scheme, expected);
  const std::size_t host = scheme_end + 3;
  const std::size_t end = url.find_first_of("/?#", host);
  std::string_view authority = url.substr(host, end == std::string_view::npos ? std::string_view::npos : end - host);
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty() || authority.front() == ':') return fmt::format("the URL names no host; {}", expected);
  return "";
}

}  // namespace

std::string notify_url_problem(std::string_view url) {
  return http_url_problem(url, "https://ntfy.sh/my-router-alerts");
}

std::string influx_url_problem(std::string_view url) {
  return http_url_problem(url, "http://192.168.1.10:8086");
}

std::string min_score_problem(std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !(value >= 0 && value <= 1))
    return "a score from 0 to 1 is expected (0.5, or 0 for every episode)";
  return "";
}

std::string kinds_problem(std::string_view text) {
  constexpr std::array kKinds = {EpisodeKind::wan_drop, EpisodeKind::invalid_burst, EpisodeKind::scan,
                                 EpisodeKind::udp_storm, EpisodeKind::conntrack_full, EpisodeKind::unknown};
  std::string names;
  for (const EpisodeKind kind : kKinds) names += fmt::format("{}{}", names.empty() ? "" : ", ", to_string(kind));
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    std::string_view name = text.substr(at, comma - at);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (std::none_of(kKinds.begin(), kKinds.end(), [name](EpisodeKind k) { return to_string(k) == name; }))
      return fmt::format("'{}' is not an episode kind; give a comma-separated list of {}", name, names);
    at = comma + 1;
  }
  return "";
}

Config redacted(const Config& config) {
  Config copy = config;
  copy.influx.url = redact_url(config.influx.url);
  copy.mqtt.url = redact_url(config.mqtt.url);  // refused with user info, but never shown with it
  copy.notify.url = redact_url_and_query(config.notify.url);
  return copy;
}

std::string host_name(const Config& config) {
  if (!config.host.empty()) return config.host;
  char name[256] = {};
  return gethostname(name, sizeof name - 1) == 0 && name[0] != '\0' ? name : "router";
}

std::string config_to_toml(const Config& config) {
  const Config shown = redacted(config);
  std::string out = fmt::format("# effective configuration (from {}, then flags)\n", config.source);
  std::string_view section;
  for (const ConfigKey& key : config_keys()) {
    if (key.section() != section) {
      section = key.section();
      out += fmt::format("\n[{}]\n", section);
    }
    out += fmt::format("{} = {}\n", key.leaf(), key.toml_value(shown));
  }
  return out;
}

}  // namespace ctmon
