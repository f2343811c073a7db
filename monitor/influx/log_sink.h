#pragma once
// How the InfluxDB code reports what an operator must know, without depending on the daemon's
// Logger (the daemon depends on this library, not the other way round): the daemon passes a
// function that forwards to its Logger.

#include <functional>
#include <string>

namespace ctmon::influx {

enum class Severity { kError, kWarning, kInfo };

/// Receives one complete log line. May be empty (nothing is logged then).
using LogSink = std::function<void(Severity, const std::string&)>;

}  // namespace ctmon::influx
