#pragma once
// The counting rules: what ctmon expects in the kernel, and installing, checking and removing it.
//
// Install and remove go through libnftables, the library behind the `nft` command, fed the very
// text of rules/conntrack-counter*.nft: what ctmon loads is byte for byte what a user would load
// with `nft -f`, with nft's own parser and error messages, without a fork and without hand-built
// netlink expressions to keep in step with nft. Check reads the kernel over netlink.
//
// Why text, and why it cannot carry a command: the only part of the script that does not come
// from the embedded rule file is the table name, and a TableRef's name is one nft identifier
// token (letters, digits, '_'; table_ref.h), substituted only where the file names its table
// ("table <family> conntrack_stats"). A name cannot hold a ';', a newline, a brace, a quote, a
// '#' or a '$', so the script keeps the file's commands and nothing else. libnftables' JSON
// input would also keep names apart from syntax, but it would mean a second copy of the 18
// rules as JSON expressions, no longer the file `ctmon rules print` shows and `nft -f` loads.
//
// Which table is ctmon's. A table is ctmon's when everything in it is something the rule file
// defines: its chains are among input_counter, output_counter and forward_counter, its stateful
// objects are among the 18 named counters, it has no named sets, maps or flowtables, and it
// holds at least one of those chains or counters. `install` flushes the table and `remove`
// deletes it, so both refuse a table holding anything else (someone's firewall that happens to
// have the name asked for) unless forced; install into an empty table is allowed, since it
// loses nothing. The rules inside ctmon's chains are not judged: the file flushes and rewrites
// them, which is how `install` repairs a damaged table.
//
// Who may change the kernel. install and remove refuse to run when the process gained its
// privileges at exec (the kernel's AT_SECURE: a setuid or setgid binary, or file capabilities
// such as `setcap cap_net_admin+ep` given to a user who is not root), or when its real and
// effective uids differ. File capabilities are how collectd's unprivileged user reads the
// counters; they must not let every local user rewrite the firewall. Root, and a service
// given CAP_NET_ADMIN as an ambient capability (systemd's AmbientCapabilities=, procd's
// capabilities), are not affected.

#include <cstddef>
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

/// What a table holds, measured against the rule file (see "Which table is ctmon's" above).
struct TableOwnership {
  bool exists = false;
  /// At least one of the rule file's chains or counters is there.
  bool holds_ctmon_parts = false;
  /// What the rule file does not define, as nft would name it: "chain input", "set blocklist",
  /// "quota q1", "flowtable ft". Empty for ctmon's table.
  std::vector<std::string> foreign;

  /// True when install may flush the table: it is missing, empty, or ctmon's.
  [[nodiscard]] bool may_install() const { return foreign.empty(); }
  /// True when remove may delete the table: it exists and is ctmon's.
  [[nodiscard]] bool may_remove() const { return exists && foreign.empty() && holds_ctmon_parts; }
};

/// Reads the table's chains, stateful objects, sets and flowtables over netlink. Throws NftError
/// for permission and kernel problems; a missing table gives exists == false.
[[nodiscard]] TableOwnership inspect_ownership(const TableRef& table);

/// Whether install and remove replace a table that is not ctmon's.
enum class ForeignTable { kRefuse, kReplace };

/// Throws UserError when this process must not change the kernel's tables (see "Who may change
/// the kernel" above): the message says why and how to run it instead.
void require_unelevated_caller();

/// Loads rules_text(table). Idempotent: the file flushes its table first and the counters keep
/// their values. Throws UserError when require_unelevated_caller() refuses; when the table is
/// not ctmon's and `foreign` is kRefuse (naming what the table holds and --force); and with
/// nft's own message when the kernel refuses.
void install_rules(const TableRef& table, ForeignTable foreign = ForeignTable::kRefuse);

/// Deletes the table (and with it the counters' values). Returns false when there was no table.
/// Throws UserError as install_rules does: unelevated caller, a table that is not ctmon's
/// (an empty table included) unless `foreign` is kReplace, a kernel refusal.
bool remove_rules(const TableRef& table, ForeignTable foreign = ForeignTable::kRefuse);

/// How many rules the rule file puts in its chains: 6 in each of 3.
[[nodiscard]] std::size_t expected_rule_count();

/// What `ctmon rules check` found. Empty lists and table_exists mean the rules are as installed.
struct RulesCheck {
  bool table_exists = false;
  std::vector<std::string> missing_counters;
  std::vector<std::string> extra_counters;    ///< kept and stored, just not ours
  std::vector<std::string> missing_chains;
  std::vector<std::string> extra_chains;
  std::vector<std::string> chain_problems;    ///< "chain X: hook output, expected input", ...
  /// How many of the rule file's rules the table lacks (a missing chain lacks all of its own).
  /// With the counters there (`nft flush table` keeps them), the counters they fed are frozen.
  std::size_t missing_rules = 0;

  [[nodiscard]] bool ok() const {
    return table_exists && missing_counters.empty() && missing_chains.empty() &&
           chain_problems.empty();
  }
};

/// Compares the kernel's table with what the rule file defines. Throws NftError for permission
/// and kernel problems; a missing table is reported in the result, not thrown.
[[nodiscard]] RulesCheck check_rules(const TableRef& table);

}  // namespace ctmon::nft
