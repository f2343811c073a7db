#pragma once
// The InfluxDB code reports through the same log function as every input and output.

#include "monitor/io/log_sink.h"

namespace ctmon::influx {

using io::LogSink;
using io::Severity;

}  // namespace ctmon::influx
