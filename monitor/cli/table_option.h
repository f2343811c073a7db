#pragma once
// The --table option every kernel-facing command shares.

#include <string>

#include <CLI/CLI.hpp>

#include "monitor/nft/table_ref.h"

namespace ctmon::cli {

inline constexpr const char* kDefaultTable = "ip:conntrack_stats";

/// Adds `--table FAMILY:NAME` to `command`, storing the text in `text` (default ip:conntrack_stats).
inline void add_table_option(CLI::App* command, std::string& text) {
  text = kDefaultTable;
  command->add_option("--table", text,
                      "nftables table holding the counters, as FAMILY:NAME; "
                      "inet:conntrack_stats counts IPv4 and IPv6")
      ->default_str(kDefaultTable);
}

}  // namespace ctmon::cli
