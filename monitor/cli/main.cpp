// ctmon: watch the kernel's conntrack-state counters for network jitter episodes.
#include <cstdio>
#include <exception>

#include <fmt/core.h>

#include "monitor/cli/commands.h"
#include "monitor/user_error.h"

int main(int argc, char** argv) {
  CLI::App app{
      "ctmon watches the kernel's nftables counters of conntrack states (new, established,\n"
      "invalid for tcp/udp on input/output/forward), keeps the samples in a flash-friendly\n"
      "SQLite ring buffer, and turns spikes into jitter episodes you can list on the router.\n",
      "ctmon"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ctmon 0.1.0");
  app.footer("Run 'ctmon <command> --help' for a command's options.");

  ctmon::cli::add_sample_command(app);
  ctmon::cli::add_collectd_command(app);
  ctmon::cli::add_rules_command(app);
  ctmon::cli::add_run_command(app);
  ctmon::cli::add_series_command(app);
  ctmon::cli::add_config_command(app);
  ctmon::cli::add_replay_command(app);
  ctmon::cli::add_events_command(app);
  ctmon::cli::add_status_command(app);
  ctmon::cli::add_show_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const ctmon::UserError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "ctmon: {}\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "ctmon: internal error: {} (please report this)\n", e.what());
    return 70;  // EX_SOFTWARE
  }
  return 0;
}
