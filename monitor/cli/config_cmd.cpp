// ctmon config check|example|keys: the effective configuration, the example files, the keys.
#include <fmt/core.h>

#include "monitor/cli/commands.h"
#include "monitor/cli/config_flags.h"
#include "monitor/config/config_example.h"

namespace ctmon::cli {

void add_config_command(CLI::App& app) {
  CLI::App* config = app.add_subcommand("config", "Inspect ctmon's configuration");
  config->require_subcommand(1);
  CLI::App* check = config->add_subcommand(
      "check",
      "Validate the config file (and any flags given) and print the effective configuration\n"
      "as TOML (the InfluxDB URL's user:password@ shown as ***@). Exits 1 with the offending\n"
      "key, value and what is allowed when it is wrong.");
  auto check_flags = std::make_shared<ConfigFlags>(check, ConfigScope::kAll);
  check->callback([check_flags] { fmt::print("{}", config_to_toml(check_flags->resolve())); });

  CLI::App* example = config->add_subcommand(
      "example",
      "Print an example config file listing every key with its help, what is allowed, whether\n"
      "SIGHUP applies it, and its default (commented out). No config file is read; flags given\n"
      "set their keys. packaging/ctmon.toml and packaging/openwrt/files/ctmon.config are its\n"
      "output (their first lines say with which flags).\n"
      "Example: ctmon config example --format uci --db /etc/ctmon/ctmon.db");
  auto format = std::make_shared<std::string>("toml");
  example->add_option("--format", *format, "toml (ctmon.toml) or uci (OpenWrt's /etc/config/ctmon)")
      ->check(CLI::IsMember({"toml", "uci"}))
      ->capture_default_str();
  auto example_flags = std::make_shared<ConfigFlags>(example, ConfigScope::kExample);
  example->callback([example_flags, format] {
    fmt::print("{}", config_example(example_flags->resolve(),
                                    *format == "uci" ? ExampleFormat::kUci : ExampleFormat::kToml));
  });

  CLI::App* keys = config->add_subcommand(
      "keys",
      "List every config key, one a line: KEY TYPE FLAG UCI-OPTION SIGHUP DEFAULT.\n"
      "TYPE is string, duration or bool; SIGHUP says whether a reload applies a change\n"
      "(applied) or it waits for the next start (restart). The OpenWrt init script reads it.");
  keys->callback([] { fmt::print("{}", config_keys_listing()); });
}

}  // namespace ctmon::cli
