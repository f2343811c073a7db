#include "monitor/daemon/logger.h"

#include <syslog.h>

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
// which is still readable.
const char* stderr_prefix(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "<3>error: ";
    case LogLevel::kWarning: return "<4>warning: ";
    case LogLevel::kInfo: return "<6>";
    case LogLevel::kDebug: return "<7>debug: ";
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
  fmt::print(stderr, "{}{}\n", stderr_prefix(level), line);
  std::fflush(stderr);
}

}  // namespace ctmon
