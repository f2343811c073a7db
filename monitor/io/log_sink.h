#pragma once
// How inputs and outputs report what an operator must know without depending on the daemon's
// Logger (the daemon depends on them, not the other way round): the daemon passes a function
// that forwards to its Logger.

#include <functional>
#include <string>

namespace ctmon::io {

enum class Severity { kError, kWarning, kInfo };

/// Receives one complete log line. May be empty (nothing is logged then).
using LogSink = std::function<void(Severity, const std::string&)>;

}  // namespace ctmon::io
