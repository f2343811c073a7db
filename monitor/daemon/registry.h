#pragma once
// The one place that knows which inputs and outputs exist: adding one is a folder implementing
// io/input.h or io/output.h, and one line in registry.cpp.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/daemon/logger.h"
#include "monitor/io/input.h"
#include "monitor/io/log_sink.h"
#include "monitor/io/output.h"
#include "monitor/store/database.h"

namespace ctmon {

/// A log function for inputs and outputs that writes to `log` (which must outlive it).
[[nodiscard]] io::LogSink log_sink(Logger& log);

/// The inputs `config` turns on (the counter source always). Throws UserError for what prevents
/// starting (a bad table name, no permission for nftables).
[[nodiscard]] std::vector<std::unique_ptr<io::Input>> make_inputs(const Config& config, Logger& log,
                                                                  std::int64_t now_mono_ns);

/// The daemon's whole status on demand (for outputs that publish it, like Prometheus).
using StatusSource = std::function<status::DaemonStatus()>;

/// The outputs beside the store that `config` turns on, in the order they receive samples;
/// those that are off are not constructed. Throws UserError for bad settings.
[[nodiscard]] std::vector<std::unique_ptr<io::Output>> make_outputs(const Config& config,
                                                                    store::Database& db, Logger& log,
                                                                    const StatusSource& status);

}  // namespace ctmon
