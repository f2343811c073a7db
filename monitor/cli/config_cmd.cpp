// ctmon config check: validate the config file and flags, print the effective configuration.
#include <fmt/core.h>

#include "monitor/cli/commands.h"
#include "monitor/cli/config_flags.h"

namespace ctmon::cli {

void add_config_command(CLI::App& app) {
  CLI::App* config = app.add_subcommand("config", "Inspect ctmon's configuration");
  config->require_subcommand(1);
  CLI::App* check = config->add_subcommand(
      "check",
      "Validate the config file (and any flags given) and print the effective configuration\n"
      "as TOML. Exits 1 with the offending key, value and what is allowed when it is wrong.");
  auto flags = std::make_shared<ConfigFlags>(check, ConfigScope::kAll);
  check->callback([flags] { fmt::print("{}", config_to_toml(flags->resolve())); });
}

}  // namespace ctmon::cli
