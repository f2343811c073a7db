#pragma once
// Where the daemon's log lines go: stderr (systemd's journal and procd's logd both collect it)
// or syslog. One line per event, a level in front; never one line per sample.

#include <string_view>
#include <utility>

#include <fmt/core.h>

namespace ctmon {

enum class LogLevel { kError, kWarning, kInfo, kDebug };

class Logger {
 public:
  /// `use_syslog`: openlog("ctmon", LOG_PID, LOG_DAEMON) and send lines there.
  /// `verbose`: also print debug lines.
  explicit Logger(bool use_syslog = false, bool verbose = false);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  template <class... Args>
  void error(fmt::format_string<Args...> format, Args&&... args) {
    write(LogLevel::kError, fmt::format(format, std::forward<Args>(args)...));
  }
  template <class... Args>
  void warning(fmt::format_string<Args...> format, Args&&... args) {
    write(LogLevel::kWarning, fmt::format(format, std::forward<Args>(args)...));
  }
  template <class... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) {
    write(LogLevel::kInfo, fmt::format(format, std::forward<Args>(args)...));
  }
  template <class... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) {
    if (verbose_) write(LogLevel::kDebug, fmt::format(format, std::forward<Args>(args)...));
  }

  /// Switches between stderr and syslog (SIGHUP may change the setting).
  void use_syslog(bool on);

 private:
  void write(LogLevel level, std::string_view line);
  bool syslog_ = false;
  bool verbose_ = false;
};

}  // namespace ctmon
