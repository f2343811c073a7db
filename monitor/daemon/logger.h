#pragma once
// Where the daemon's log lines go: stderr (systemd's journal and procd's logd both collect it)
// or syslog. One line per event, a level in front; never one line per sample.
//
// On stderr, the syslog-style "<N>" priority prefix is written only when stderr is journald's
// stream: journald turns it into the line's priority, everything else (a terminal, a file, a
// pipe to procd's logd or to another program) would show it as literal text. journald is
// recognised as systemd.exec(5) documents under $JOURNAL_STREAM: the variable holds
// "<device>:<inode>" of the stream it connected, and it is ours only when fstat(2) of stderr
// gives the same pair (a child of a journald-logged service inherits the variable with its own
// stderr redirected elsewhere).

#include <string_view>
#include <utility>

#include <fmt/core.h>

namespace ctmon {

enum class LogLevel { kError, kWarning, kInfo, kDebug };

/// True when `journal_stream` (the value of $JOURNAL_STREAM, may be nullptr) is
/// "<st_dev>:<st_ino>" in decimal and names the file open on `fd`. False for anything else,
/// including a malformed value or a closed descriptor.
[[nodiscard]] bool is_journal_stream(int fd, const char* journal_stream);

class Logger {
 public:
  /// `use_syslog`: openlog("ctmon", LOG_PID, LOG_DAEMON) and send lines there.
  /// `verbose`: also print debug lines. Whether stderr is journald's stream is decided here,
  /// once (from $JOURNAL_STREAM and fstat of stderr).
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
  bool journal_ = false;  // stderr is journald's stream: "<N>" prefixes carry the priority
};

}  // namespace ctmon
