#pragma once
// The one table of ctmon's settings. Every key of the TOML file is one row here; the file's
// parser, the flags of `ctmon run` (and of the commands that read part of the settings), the
// validation, `ctmon config check`, the example files (`ctmon config example`) and the OpenWrt
// UCI options (`ctmon config keys`) are all made from it, so they cannot drift apart.
//
// Adding a key: a member in Config or in one of its sections (InfluxConfig, NotifyConfig,
// MqttConfig; its initializer is the built-in default, which every generated text reads from
// Config{}), one row in config_keys.cpp, and the code that uses it; then regenerate packaging/ctmon.toml and packaging/openwrt/files/ctmon.config (the
// commands are at the top of each file; a test fails until they are regenerated).
//
// Names derived from a key (never spelled out elsewhere):
//   TOML   "influx.url" is `url` in the `[influx]` table;
//   flag   '.' and '_' become '-': --influx-url, --commit-interval; a bool key whose default is
//          true gets the flag --no-<name> (--no-install-rules), else --<name> (--syslog);
//   UCI    '.' becomes '_': option influx_url, option commit_interval.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "monitor/config/config.h"

namespace ctmon {

/// A member of Config holding a T, either directly or inside Config::influx, Config::notify or
/// Config::mqtt.
template <class T>
struct ConfigMember {
  T Config::*top = nullptr;
  T InfluxConfig::*influx = nullptr;
  T NotifyConfig::*notify = nullptr;
  T MqttConfig::*mqtt = nullptr;
  T ProbeConfig::*probe = nullptr;
  [[nodiscard]] T& of(Config& config) const {
    return top      ? config.*top
           : influx ? config.influx.*influx
           : notify ? config.notify.*notify
           : mqtt   ? config.mqtt.*mqtt
                    : config.probe.*probe;
  }
  [[nodiscard]] const T& of(const Config& config) const {
    return top      ? config.*top
           : influx ? config.influx.*influx
           : notify ? config.notify.*notify
           : mqtt   ? config.mqtt.*mqtt
                    : config.probe.*probe;
  }
};

/// What a running daemon does with a new value that SIGHUP read.
enum class OnReload {
  kApplied,       ///< the daemon switches to it
  kNeedsRestart,  ///< it takes effect at the next start
};

/// Which commands have the key's flag. Every key is a flag of `ctmon run` and `ctmon config`.
enum FlagScope : unsigned {
  kFlagOfRun = 1U << 0,
  kFlagOfReaders = 1U << 1,  ///< also events, series, show, status (they read the database)
  kFlagOfReplay = 1U << 2,   ///< also replay
};

/// One allowed value of a string key that takes a fixed set of values, and what it means.
struct ConfigChoice {
  std::string_view value;
  std::string_view meaning;
};

struct ConfigKey {
  /// The TOML key with its table: "interval", "influx.url".
  std::string_view name = {};
  /// A string, a duration in seconds (double) or a bool.
  std::variant<ConfigMember<std::string>, ConfigMember<double>, ConfigMember<bool>> member = {};
  /// What the value is, in --help: PATH, DURATION, URL...; empty for bools.
  std::string_view value_name = {};
  /// One line: what the key does (the meaning of an empty string, when it has one).
  std::string_view help = {};
  /// Durations: the inclusive range allowed.
  double min_s = 0;
  double max_s = 0;
  /// Strings with a fixed set of values: those values; empty: any string.
  std::span<const ConfigChoice> choices = {};
  OnReload on_reload = OnReload::kNeedsRestart;
  unsigned flag_scopes = kFlagOfRun;
  /// Bools whose flag sets the opposite of true (--no-...): what the flag does. Empty: `help`.
  std::string_view flag_help = {};
  /// Strings with a rule of their own (a URL, a number, a list): why a non-empty value breaks
  /// it, or "" when it is fine. The message says what is allowed.
  std::string (*check)(std::string_view value) = nullptr;
  /// The flag's name when the derived one does not read well ("--probe" for probe.targets).
  std::string_view flag_name = {};
  /// A list (kept comma-separated, like notify.kinds): its flag may be given several times, and
  /// the values are joined; UCI writes it as a `list`.
  bool repeatable = false;

  [[nodiscard]] bool is_duration() const { return member.index() == 1; }
  [[nodiscard]] bool is_bool() const { return member.index() == 2; }
  /// "influx" for "influx.url", "" for a top-level key.
  [[nodiscard]] std::string_view section() const;
  /// "url" for "influx.url".
  [[nodiscard]] std::string_view leaf() const;
  /// "--influx-url", "--no-install-rules", "--syslog" (see the naming rule above).
  [[nodiscard]] std::string flag() const;
  /// "influx_url".
  [[nodiscard]] std::string uci_option() const;
  /// What values are allowed, for error messages: "a duration from 50ms to 30s (...)",
  /// "true or false", "a quoted string is expected", "\"v1\" (...) or \"v2\" (...)".
  [[nodiscard]] std::string allowed() const;
  /// The value in `config` as TOML: "5s" quoted, strings quoted and escaped, true/false.
  [[nodiscard]] std::string toml_value(const Config& config) const;
  /// The value in `config` as plain text: 5s, the string itself, true/false.
  [[nodiscard]] std::string text_value(const Config& config) const;
  /// Whether `a` and `b` hold the same value for this key.
  [[nodiscard]] bool same(const Config& a, const Config& b) const;
  /// Why the value in `config` is not allowed (not finite, out of range, not a choice), or
  /// nothing when it is.
  [[nodiscard]] std::optional<std::string> problem(const Config& config) const;
};

/// A TOML table of keys, in the order the example files show them: "" (top level) first.
struct ConfigSection {
  std::string_view name;   ///< "influx"
  std::string_view title;  ///< "InfluxDB": the option group in --help
  std::string_view help;   ///< one line
};

/// Every key, top-level keys first, then each section's keys together.
[[nodiscard]] std::span<const ConfigKey> config_keys();
/// The sections, in the order of config_keys().
[[nodiscard]] std::span<const ConfigSection> config_sections();
/// The key named `name` ("influx.url"), or nullptr.
[[nodiscard]] const ConfigKey* find_config_key(std::string_view name);

/// The keys whose value differs between `old` and `fresh`, by name, in table order.
[[nodiscard]] std::vector<std::string> changed_keys(const Config& old, const Config& fresh);

/// For SIGHUP: the keys whose value differs between the running configuration `old` and the
/// re-read `fresh` and that a running daemon cannot switch to (OnReload::kNeedsRestart), by
/// name in table order ("db", "influx.url"); empty when every change can be applied live.
[[nodiscard]] std::vector<std::string> keys_needing_restart(const Config& old,
                                                            const Config& fresh);

}  // namespace ctmon
