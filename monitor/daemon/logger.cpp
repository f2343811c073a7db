#include "monitor/daemon/logger.h"

#include <syslog.h>
#include <unistd.h>

#include <cstdio>

namespace ctmon {
namespace {

int syslog_priority(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return LOG_ERR;
    case LogLevel::kWarning: return LOG_WARNING;
    case LogLevel::kInfo: return LOG_INFO;
    case LogLevel::kDebug: return LOG_DEBUG;
  }
  return LOG_INFO;
}

// systemd-journald reads "<N>" prefixes on stderr as the priority; procd's logd shows them as is,
// which is still readable. A person at a terminal gets the words only.
const char* stderr_prefix(LogLevel level, bool terminal) {
  switch (level) {
    case LogLevel::kError: return terminal ? "error: " : "<3>error: ";
    case LogLevel::kWarning: return terminal ? "warning: " : "<4>warning: ";
    case LogLevel::kInfo: return terminal ? "" : "<6>";
    case LogLevel::kDebug: return terminal ? "debug: " : "<7>debug: ";
  }
  return "";
}

}  // namespace

Logger::Logger(bool use_syslog, bool verbose) : verbose_(verbose) { this->use_syslog(use_syslog); }

Logger::~Logger() {
  if (syslog_) closelog();
}

void Logger::use_syslog(bool on) {
  if (on && !syslog_) openlog("ctmon", LOG_PID, LOG_DAEMON);
  if (!on && syslog_) closelog();
  syslog_ = on;
}

void Logger::write(LogLevel level, std::string_view line) {
  if (syslog_) {
    syslog(syslog_priority(level), "%.*s", static_cast<int>(line.size()), line.data());
    return;
  }
  static const bool terminal = isatty(STDERR_FILENO) != 0;
  fmt::print(stderr, "{}{}\n", stderr_prefix(level, terminal), line);
  std::fflush(stderr);
}

}  // namespace ctmon
