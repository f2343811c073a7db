#include "monitor/daemon/logger.h"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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

const char* stderr_prefix(LogLevel level, bool journal) {
  switch (level) {
    case LogLevel::kError: return journal ? "<3>error: " : "error: ";
    case LogLevel::kWarning: return journal ? "<4>warning: " : "warning: ";
    case LogLevel::kInfo: return journal ? "<6>" : "";
    case LogLevel::kDebug: return journal ? "<7>debug: " : "debug: ";
  }
  return "";
}

// Parses all of [first, last) as a decimal unsigned number.
bool parse_decimal(const char* first, const char* last, unsigned long long& out) {
  if (first == last) return false;
  const auto [end, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && end == last;
}

}  // namespace

bool is_journal_stream(int fd, const char* journal_stream) {
  if (journal_stream == nullptr) return false;
  const char* end = journal_stream + std::strlen(journal_stream);
  const char* colon = std::strchr(journal_stream, ':');
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  if (colon == nullptr || !parse_decimal(journal_stream, colon, dev) || !parse_decimal(colon + 1, end, ino))
    return false;
  struct stat st {};
  if (fstat(fd, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

Logger::Logger(bool use_syslog, bool verbose)
    : verbose_(verbose), journal_(is_journal_stream(STDERR_FILENO, std::getenv("JOURNAL_STREAM"))) {
  this->use_syslog(use_syslog);
}

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
  fmt::print(stderr, "{}{}\n", stderr_prefix(level, journal_), line);
  std::fflush(stderr);
}

}  // namespace ctmon
