#pragma once
// Tells systemd how the daemon is doing: READY=1 once it samples, WATCHDOG=1 every loop,
// STOPPING=1 on the way out (sd_notify(3), Type=notify and WatchdogSec= in the unit).
//
// The protocol is one datagram of "KEY=VALUE\n" lines to the AF_UNIX socket named by
// $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace); systemd documents it as stable
// and meant to be reimplemented. ctmon sends it itself rather than linking libsystemd: that would
// add a shared library (and its compression and crypto libraries) to a router binary for three
// datagrams, and a second code path. Where no service manager listens (OpenWrt's procd, a shell)
// $NOTIFY_SOCKET is unset and every call is a no-op, so the same binary serves both.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ctmon::daemon {

class SdNotifier {
 public:
  /// Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID. Never fails: an unset or unusable
  /// socket address is reported by the first notify() (as its error text), not here.
  [[nodiscard]] static SdNotifier from_environment();

  /// Notifies `socket_address` ("/path" or "@abstract"; empty: no service manager). `watchdog`
  /// is how often systemd expects WATCHDOG=1, nullopt when it does not.
  explicit SdNotifier(std::string socket_address,
                      std::optional<std::chrono::microseconds> watchdog = std::nullopt);

  /// True when a service manager asked for notifications ($NOTIFY_SOCKET was set).
  [[nodiscard]] bool active() const { return !address_.empty(); }

  /// The watchdog period systemd enforces (WatchdogSec=), for this process; nullopt when off.
  /// Send WATCHDOG=1 at least twice per period.
  [[nodiscard]] std::optional<std::chrono::microseconds> watchdog_period() const { return watchdog_; }

  /// Sends `state` ("READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=...", several joined by '\n')
  /// as one datagram. Returns "" when it was sent or when no service manager listens, otherwise
  /// a one-line error naming the socket (for the caller to log once; the daemon goes on).
  /// Opens a socket per call: three kinds of message, at most one per sample, cost nothing.
  [[nodiscard]] std::string notify(std::string_view state) const;

 private:
  std::string address_;
  std::optional<std::chrono::microseconds> watchdog_;
};

}  // namespace ctmon::daemon
