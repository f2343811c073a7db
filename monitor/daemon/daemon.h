#pragma once
// `ctmon run`: sample the kernel's counters on absolute monotonic deadlines, feed the pipeline,
// and keep going through everything the outside world can do (table deleted or reloaded, disk
// full, database locked) until SIGTERM or SIGINT.

#include <functional>

#include "monitor/config/config.h"
#include "monitor/daemon/logger.h"

namespace ctmon {

/// Runs the daemon in the foreground until SIGTERM/SIGINT, then commits everything and returns
/// 0 (1 when the final commit failed). SIGHUP calls `reload` for a fresh Config and applies it
/// (interval, table, logging; database and retention changes need a restart and say so).
/// Throws UserError for what prevents starting: a foreign, newer or corrupt database, no
/// permission for nftables, a table that is missing while install_rules is off is NOT one of
/// them (the daemon waits for it).
int run_daemon(const Config& config, const std::function<Config()>& reload, Logger& log);

}  // namespace ctmon
