#pragma once
// The counting rules: what ctmon expects in the kernel, and installing, checking and removing it.
//
// Install and remove go through libnftables, the library behind the `nft` command, fed the very
// text of rules/conntrack-counter*.nft: what ctmon loads is byte for byte what a user would load
// with `nft -f`, with nft's own parser and error messages, without a fork and without hand-built
// netlink expressions to keep in step with nft. Check reads the kernel over netlink.

#include <string>
#include <vector>

#include "monitor/nft/table_ref.h"

namespace ctmon::nft {

/// The counter names the rules define: {tcp,udp}_conntrack_{input,output,fwd}_{new,established,
/// invalid}, in the order of the rule file.
[[nodiscard]] const std::vector<std::string>& expected_counter_names();

/// The rule file for `table`: rules/conntrack-counter.nft for family ip,
/// rules/conntrack-counter-inet.nft for inet, with the table name replaced when it is not
/// conntrack_stats. Throws UserError for other families (no rule file counts them).
[[nodiscard]] std::string rules_text(const TableRef& table);

/// Loads rules_text(table). Idempotent: the file flushes its table first and the counters keep
/// their values. Throws UserError with nft's own message when the kernel refuses.
void install_rules(const TableRef& table);

/// Deletes the table (and with it the counters' values). Returns false when there was no table.
/// Throws UserError when the kernel refuses.
bool remove_rules(const TableRef& table);

/// What `ctmon rules check` found. Empty lists and table_exists mean the rules are as installed.
struct RulesCheck {
  bool table_exists = false;
  std::vector<std::string> missing_counters;
  std::vector<std::string> extra_counters;    ///< kept and stored, just not ours
  std::vector<std::string> missing_chains;
  std::vector<std::string> extra_chains;
  std::vector<std::string> chain_problems;    ///< "chain X: hook output, expected input", ...

  [[nodiscard]] bool ok() const {
    return table_exists && missing_counters.empty() && missing_chains.empty() &&
           chain_problems.empty();
  }
};

/// Compares the kernel's table with what the rule file defines. Throws NftError for permission
/// and kernel problems; a missing table is reported in the result, not thrown.
[[nodiscard]] RulesCheck check_rules(const TableRef& table);

}  // namespace ctmon::nft
