// ctmon: watch the kernel's conntrack-state counters for network jitter episodes.
#include <cstdio>
#include <exception>
#include <string>

#include <fmt/core.h>

#include "monitor/cli/commands.h"
#include "monitor/user_error.h"

namespace {

// The command whose arguments were being parsed: the deepest subcommand CLI11 recognised.
const CLI::App* innermost(const CLI::App& app) {
  const CLI::App* current = &app;
  for (auto subcommands = current->get_subcommands(); !subcommands.empty();
       subcommands = current->get_subcommands())
    current = subcommands.front();
  return current;
}

std::string command_path(const CLI::App* command) {
  std::string path = command->get_name();
  for (const CLI::App* parent = command->get_parent(); parent != nullptr;
       parent = parent->get_parent())
    path = parent->get_name() + " " + path;
  return path;
}

bool wants_a_subcommand(const CLI::App* command) {
  return command->get_require_subcommand_min() > 0 && command->get_subcommands().empty();
}

// `ctmon` (or `ctmon config`) alone: what the commands are, one line each, on stderr.
void print_short_usage(const CLI::App* command) {
  const std::string path = command_path(command);
  fmt::print(stderr, "Usage: {} <command> [options]   ('{} <command> --help' for its options)\n"
                     "Commands:\n", path, path);
  for (const CLI::App* sub : command->get_subcommands([](const CLI::App*) { return true; })) {
    const std::string& text = sub->get_description();
    fmt::print(stderr, "  {:<10} {}\n", sub->get_name(), text.substr(0, text.find('\n')));
  }
}

// CLI11 reports its parse errors in two lines and with exit codes 100-120; ctmon's errors are
// one line and exit 1, whoever found them. Help and version requests still exit 0.
int report_parse_error(const CLI::App& app, const CLI::ParseError& error) {
  if (error.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(error);
  const CLI::App* command = innermost(app);
  const std::string path = command_path(command);
  if (wants_a_subcommand(command)) {
    const std::vector<std::string> rest = command->remaining();
    if (rest.empty()) {
      print_short_usage(command);
      return 1;
    }
    std::string names;
    for (const CLI::App* sub : command->get_subcommands([](const CLI::App*) { return true; }))
      names += (names.empty() ? "" : ", ") + sub->get_name();
    fmt::print(stderr, "{}: unknown {} '{}': the commands are {} (see '{} --help')\n", path,
               rest.front().starts_with("-") ? "option" : "command", rest.front(), names, path);
    return 1;
  }
  std::string message = error.what();
  for (char& c : message)
    if (c == '\n') c = ' ';
  fmt::print(stderr, "{}: {} (see '{} --help')\n", path, message, path);
  return 1;
}

}  // namespace

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
  ctmon::cli::add_correlate_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return report_parse_error(app, e);
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
