#pragma once
// One function per subcommand: it declares the subcommand's flags on `app` and sets its callback.
// Callbacks report user-caused failures by throwing ctmon::UserError (monitor/user_error.h);
// main() turns that into "ctmon: <message>" on stderr and the exit code.

#include <CLI/CLI.hpp>

namespace ctmon::cli {

void add_sample_command(CLI::App& app);
void add_collectd_command(CLI::App& app);
void add_rules_command(CLI::App& app);
void add_config_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_series_command(CLI::App& app);
void add_replay_command(CLI::App& app);
void add_events_command(CLI::App& app);
void add_status_command(CLI::App& app);
void add_show_command(CLI::App& app);
void add_correlate_command(CLI::App& app);

}  // namespace ctmon::cli
