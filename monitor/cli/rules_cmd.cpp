// ctmon rules print|install|check|remove: the nftables table that counts conntrack states.
#include <cstdio>

#include <fmt/core.h>

#include "monitor/cli/commands.h"
#include "monitor/cli/table_option.h"
#include "monitor/nft/ruleset.h"
#include "monitor/user_error.h"

namespace ctmon::cli {
namespace {

void print_list(const char* label, const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + name;
  fmt::print("{}: {}\n", label, joined);
}

void run_check(const nft::TableRef& table) {
  const nft::RulesCheck check = nft::check_rules(table);
  if (!check.table_exists)
    throw UserError(fmt::format("table {} does not exist: create it with 'ctmon rules install{}'",
                                table.display(),
                                table == nft::TableRef{}
                                    ? std::string()
                                    : " --table " + table.option_text()));
  print_list("missing counters", check.missing_counters);
  print_list("missing chains", check.missing_chains);
  for (const auto& problem : check.chain_problems) fmt::print("{}\n", problem);
  print_list("extra counters (read and stored, not used by the detectors)", check.extra_counters);
  print_list("extra chains", check.extra_chains);
  if (!check.ok())
    throw UserError(fmt::format("table {} differs from the rule file; 'ctmon rules install{}' "
                                "restores it (counter values are kept)",
                                table.display(),
                                table == nft::TableRef{}
                                    ? std::string()
                                    : " --table " + table.option_text()));
  fmt::print("table {}: all {} counters and 3 chains present\n", table.display(),
             nft::expected_counter_names().size());
}

constexpr const char* kForceHelp =
    "Also replace a table that is not ctmon's (one holding chains, objects or sets the rule "
    "file does not define)";

nft::ForeignTable foreign_table(bool force) {
  return force ? nft::ForeignTable::kReplace : nft::ForeignTable::kRefuse;
}

}  // namespace

void add_rules_command(CLI::App& app) {
  auto table_text = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  CLI::App* rules = app.add_subcommand(
      "rules",
      "Manage the nftables table whose named counters ctmon reads.\n"
      "The rules only count packets by conntrack state; every chain's policy is accept.\n"
      "install and remove touch only ctmon's own table (its chains and counters are those of the\n"
      "rule file) unless --force, and refuse to run from a binary that gave a non-root user its\n"
      "privileges (setcap file capabilities, setuid): run them as root.");
  rules->require_subcommand(1);

  CLI::App* print = rules->add_subcommand(
      "print", "Print the rule file for --table (pipe it to 'nft -f -' to load it by hand)");
  add_table_option(print, *table_text);
  print->callback([table_text] {
    const std::string text = nft::rules_text(nft::parse_table_ref(*table_text));
    std::fwrite(text.data(), 1, text.size(), stdout);
  });

  CLI::App* install = rules->add_subcommand(
      "install",
      "Load the rule file into the kernel (idempotent: counters keep their values).\n"
      "Refuses a table that is not ctmon's unless --force.");
  add_table_option(install, *table_text);
  install->add_flag("--force", *force, kForceHelp);
  install->callback([table_text, force] {
    const nft::TableRef table = nft::parse_table_ref(*table_text);
    nft::install_rules(table, foreign_table(*force));
    fmt::print("table {} installed ({} counters)\n", table.display(),
               nft::expected_counter_names().size());
  });

  CLI::App* check = rules->add_subcommand(
      "check",
      "Compare the kernel's table with the rule file: missing or extra counters and chains.\n"
      "Exits 1 when something the detectors need is missing.");
  add_table_option(check, *table_text);
  check->callback([table_text] { run_check(nft::parse_table_ref(*table_text)); });

  CLI::App* remove = rules->add_subcommand(
      "remove",
      "Delete the table, its counters and their values.\n"
      "Refuses a table that is not ctmon's (or is empty) unless --force.");
  add_table_option(remove, *table_text);
  remove->add_flag("--force", *force, kForceHelp);
  remove->callback([table_text, force] {
    const nft::TableRef table = nft::parse_table_ref(*table_text);
    if (nft::remove_rules(table, foreign_table(*force)))
      fmt::print("table {} removed\n", table.display());
    else
      fmt::print("table {} was not there; nothing to remove\n", table.display());
  });
}

}  // namespace ctmon::cli
