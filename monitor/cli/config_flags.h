#pragma once
// The flags that mirror the config file's keys, and how a command turns them into a Config:
// built-in defaults, then the file (--config, else /etc/ctmon/ctmon.toml if it exists), then
// the flags given on the command line. The flags, their help and their checks are made from
// the key table (monitor/config/config_keys.h).

#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "monitor/config/config.h"

namespace ctmon::cli {

enum class ConfigScope {
  kDatabase,  ///< --config and --db: commands that only read the database
  kAll,       ///< every key: ctmon run, ctmon config check
  /// ctmon replay: --config, --db, --host and the InfluxDB flags. No config file is read unless
  /// --config names one, and the database is --db alone (empty when not given): replaying a test
  /// recording must never write into the live router's database or InfluxDB by default.
  kReplay,
  /// ctmon config example: every key, no --config, and no config file read: the built-in
  /// defaults changed only by the flags given.
  kExample,
};

class ConfigFlags {
 public:
  /// Declares the flags of `scope` on `command` (the keys' flags of that scope, and --config).
  /// The object must outlive parsing.
  ConfigFlags(CLI::App* command, ConfigScope scope);

  /// Defaults <- config file <- flags, validated. Throws UserError naming the bad key or flag,
  /// before anything (a database, a table) is created.
  [[nodiscard]] Config resolve() const;

 private:
  struct Values;
  std::shared_ptr<Values> values_;
  ConfigScope scope_;
};

/// For a command's own duration flags: accepts what every config duration accepts (500ms, 30s,
/// 5m, 48h, 30d or plain seconds) and hands CLI11 the seconds.
[[nodiscard]] CLI::Validator duration_in_seconds();

}  // namespace ctmon::cli
